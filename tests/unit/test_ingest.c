/* SPDX-License-Identifier: MIT */
/*
 * Ring buffer records as the kernel writes them → spans, without BPF: the
 * pairing of requests and responses, roles, addresses, timestamps, fd reuse,
 * eviction and the counters a user sees in --stats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sonde_event.h"
#include "core/ingest.h"

#define MAX_SPANS 64

struct collected {
	struct span spans[MAX_SPANS];
	int n;
};

static void collect(void *ctx, const struct span *sp)
{
	struct collected *c = ctx;

	if (c->n < MAX_SPANS)
		c->spans[c->n] = *sp;
	c->n++;
}

struct fixture {
	struct ingest ig;
	struct collected out;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ingest_init(&f->ig, 8, NULL, collect, &f->out), 0);
	/* A fixed offset makes wall-clock times predictable. */
	f->ig.clock.mono_to_real_ns = 1000000000000ll;
	f->ig.clock.measured_at_mono = UINT64_MAX / 2;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ingest_destroy(&f->ig);
	free(f);
	return 0;
}

static void send_open(struct fixture *f, uint32_t tgid, uint32_t fd, uint64_t gen, uint8_t role,
		      uint64_t ts)
{
	struct sonde_conn_open ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){ .type = SONDE_EV_CONN_OPEN,
					   .tgid = tgid,
					   .tid = tgid,
					   .fd = fd,
					   .ts_ns = ts,
					   .conn_gen = gen };
	ev.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", ev.local_addr);
	inet_pton(AF_INET, "10.1.2.3", ev.remote_addr);
	ev.local_port = role == SONDE_ROLE_SERVER ? 8080 : 40000;
	ev.remote_port = role == SONDE_ROLE_SERVER ? 40000 : 8080;
	ev.role = role;
	ev.proto = SONDE_PROTO_HTTP1;
	strcpy(ev.comm, "server");
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

/* Sends `text` as one syscall of `total` bytes of which the text is the captured prefix. */
static void send_data_total(struct fixture *f, uint32_t tgid, uint32_t fd, uint64_t gen,
			    uint8_t dir, uint64_t ts, const char *text, int64_t total)
{
	size_t n = strlen(text);
	uint8_t *buf = calloc(1, sizeof(struct sonde_data) + n);
	struct sonde_data *ev = (struct sonde_data *)buf;

	assert_non_null(buf);
	ev->hdr = (struct sonde_event_hdr){ .type = SONDE_EV_DATA,
					    .tgid = tgid,
					    .tid = tgid,
					    .fd = fd,
					    .ts_ns = ts,
					    .conn_gen = gen };
	ev->total = total;
	ev->captured = (uint32_t)n;
	ev->dir = dir;
	ev->proto = SONDE_PROTO_HTTP1;
	memcpy(ev + 1, text, n);
	assert_int_equal(ingest_event(&f->ig, buf, sizeof(*ev) + n), 0);
	free(buf);
}

static void send_data(struct fixture *f, uint32_t tgid, uint32_t fd, uint64_t gen, uint8_t dir,
		      uint64_t ts, const char *text)
{
	send_data_total(f, tgid, fd, gen, dir, ts, text, (int64_t)strlen(text));
}

static void send_close(struct fixture *f, uint32_t tgid, uint32_t fd, uint64_t gen, uint64_t ts)
{
	struct sonde_conn_close ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){
		.type = SONDE_EV_CONN_CLOSE, .tgid = tgid, .fd = fd, .ts_ns = ts, .conn_gen = gen
	};
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

static const char *REQ = "GET /users/7?x=1 HTTP/1.1\r\nHost: shop.example:8080\r\n"
			 "User-Agent: test/1.0\r\n\r\n";
static const char *RESP = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void test_server_exchange(void **state)
{
	struct fixture *f = *state;
	struct span *s = &f->out.spans[0];

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000, REQ);
	assert_int_equal(f->out.n, 0);
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 9000, RESP);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(s->kind, SPAN_SERVER);
	assert_int_equal(s->pid, 100);
	assert_string_equal(s->comm, "server");
	assert_string_equal(s->method, "GET");
	assert_string_equal(s->target, "/users/7?x=1");
	assert_int_equal(s->status, 200);
	assert_int_equal(s->version_minor, 1);
	assert_string_equal(s->host, "shop.example:8080");
	assert_string_equal(s->user_agent, "test/1.0");
	assert_int_equal(s->response_body_bytes, 5);
	assert_int_equal(s->request_body_bytes, 0);
	/* start: first request byte read; end: last response byte written */
	assert_int_equal(s->start_ns, 1000000000000ull + 2000);
	assert_int_equal(s->end_ns, 1000000000000ull + 9000);
	assert_int_equal(s->local.port, 8080);
	assert_int_equal(s->peer.port, 40000);
	assert_int_equal(s->peer.family, AF_INET);
	assert_int_equal(f->ig.protocols.http1.stats.spans, 1);
}

static void test_client_exchange(void **state)
{
	struct fixture *f = *state;

	send_open(f, 200, 3, 9, SONDE_ROLE_CLIENT, 1000);
	send_data(f, 200, 3, 9, SONDE_DIR_EGRESS, 1500, REQ);
	send_data(f, 200, 3, 9, SONDE_DIR_INGRESS, 4500, RESP);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].kind, SPAN_CLIENT);
	assert_int_equal(f->out.spans[0].end_ns - f->out.spans[0].start_ns, 3000);
	assert_int_equal(f->out.spans[0].peer.port, 8080);
}

static void test_body_sizes_from_syscall_totals(void **state)
{
	struct fixture *f = *state;

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000, REQ);
	/* 1 MiB body: the kernel captured only the head. */
	send_data_total(f, 100, 5, 1, SONDE_DIR_EGRESS, 3000,
			"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n", 44 + 1000);
	assert_int_equal(f->out.n, 0);
	send_data_total(f, 100, 5, 1, SONDE_DIR_EGRESS, 5000, "", 1048576 - 1000);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].response_body_bytes, 1048576);
	assert_int_equal(f->out.spans[0].end_ns - f->out.spans[0].start_ns, 3000);
}

static void test_keepalive_and_pipelining(void **state)
{
	struct fixture *f = *state;
	char two[512];

	snprintf(two, sizeof(two), "%s%s", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
		 "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000, two);
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 3000, RESP);
	/* A HEAD response announces a length but carries no body. */
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 4000,
		  "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 5000, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 6000,
		  "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->out.n, 3);
	assert_string_equal(f->out.spans[0].target, "/a");
	assert_string_equal(f->out.spans[1].target, "/b");
	assert_string_equal(f->out.spans[1].method, "HEAD");
	assert_int_equal(f->out.spans[1].response_body_bytes, 0);
	assert_int_equal(f->out.spans[1].end_ns - f->out.spans[1].start_ns, 2000);
	assert_string_equal(f->out.spans[2].target, "/c");
	assert_int_equal(f->out.spans[2].status, 503);
	assert_true(span_is_error(&f->out.spans[2]));
}

/* Finished requests are reused from a pool: nothing of one request may show
 * in the next one's span, and the pool stays bounded. */
static void test_reused_requests_start_empty(void **state)
{
	struct fixture *f = *state;

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000,
		  "POST /a?q=1 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: test/1.0\r\n"
		  "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
		  "Content-Length: 3\r\n\r\nabc");
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 3000, RESP);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 4000, "GET /b HTTP/1.0\r\n\r\n");
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 5000, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->out.n, 2);
	assert_string_equal(f->out.spans[0].user_agent, "test/1.0");
	assert_int_equal(f->out.spans[0].request_body_bytes, 3);
	assert_string_equal(f->out.spans[1].method, "GET");
	assert_string_equal(f->out.spans[1].target, "/b");
	assert_string_equal(f->out.spans[1].host, "");
	assert_string_equal(f->out.spans[1].user_agent, "");
	assert_string_equal(f->out.spans[1].traceparent, "");
	assert_int_equal(f->out.spans[1].request_body_bytes, 0);
	assert_int_equal(f->out.spans[1].response_body_bytes, 0);
	assert_int_equal(f->out.spans[1].version_minor, 0);
	assert_int_equal(f->out.spans[1].status, 204);
	assert_int_equal(f->out.spans[1].flags, 0);

	/* 80 requests in flight at once (pipelined, on two connections), then
	 * answered: the pool keeps HTTP1_POOL_MAX of them, the rest are freed. */
	char reqs[40 * 32] = "", resps[40 * 32] = "";

	for (int i = 0; i < 40; i++) {
		strcat(reqs, "GET /c HTTP/1.1\r\n\r\n");
		strcat(resps, "HTTP/1.1 204 No Content\r\n\r\n");
	}
	for (uint32_t fd = 6; fd < 8; fd++) {
		send_open(f, 100, fd, fd, SONDE_ROLE_SERVER, 6000);
		send_data(f, 100, fd, fd, SONDE_DIR_INGRESS, 7000, reqs);
	}
	for (uint32_t fd = 6; fd < 8; fd++)
		send_data(f, 100, fd, fd, SONDE_DIR_EGRESS, 8000, resps);
	assert_int_equal(f->out.n, 2 + 80);
	assert_int_equal(f->ig.protocols.http1.pool.n, HTTP1_POOL_MAX);
}

static void test_interim_100_continue(void **state)
{
	struct fixture *f = *state;

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000,
		  "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: "
		  "4\r\n\r\n");
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 2500, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(f->out.n, 0);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 3000, "abcd");
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 4000,
		  "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].status, 201);
	assert_int_equal(f->out.spans[0].request_body_bytes, 4);
}

static void test_close_delimited_and_no_response(void **state)
{
	struct fixture *f = *state;

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000, "GET /old HTTP/1.0\r\n\r\n");
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 3000, "HTTP/1.0 200 OK\r\n\r\nsome body");
	assert_int_equal(f->out.n, 0);
	send_close(f, 100, 5, 1, 7000);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].response_body_bytes, 9);
	assert_int_equal(f->out.spans[0].end_ns - f->out.spans[0].start_ns, 1000);

	/* A request that never got an answer is reported at close. */
	send_open(f, 100, 6, 2, SONDE_ROLE_SERVER, 8000);
	send_data(f, 100, 6, 2, SONDE_DIR_INGRESS, 9000, REQ);
	send_close(f, 100, 6, 2, 12000);
	assert_int_equal(f->out.n, 2);
	assert_true(f->out.spans[1].flags & SPAN_F_NO_RESPONSE);
	assert_int_equal(f->out.spans[1].status, 0);
	assert_true(span_is_error(&f->out.spans[1]));
}

static void test_fd_reuse_new_generation(void **state)
{
	struct fixture *f = *state;

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 2000, REQ);
	/* close lost; fd 5 reused by a new connection */
	send_open(f, 100, 5, 2, SONDE_ROLE_SERVER, 3000);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->ig.stats.conns_replaced, 1);
	assert_true(f->out.spans[0].flags & SPAN_F_NO_RESPONSE);
	/* A late event of the old generation cannot touch the new connection. */
	send_close(f, 100, 5, 1, 3500);
	send_data(f, 100, 5, 2, SONDE_DIR_INGRESS, 4000, "GET /new HTTP/1.1\r\n\r\n");
	send_data(f, 100, 5, 2, SONDE_DIR_EGRESS, 5000, RESP);
	assert_int_equal(f->out.n, 2);
	assert_string_equal(f->out.spans[1].target, "/new");
}

static void test_orphan_response_and_garbage(void **state)
{
	struct fixture *f = *state;

	send_open(f, 100, 5, 1, SONDE_ROLE_SERVER, 1000);
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 2000, RESP);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(f->ig.protocols.http1.stats.orphan_responses, 1);
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 3000, "\x16\x03\x01 not http at all\r\n\r\n");
	assert_int_equal(f->ig.protocols.http1.stats.parse_errors, 1);
	/* recovers on the next request */
	send_data(f, 100, 5, 1, SONDE_DIR_INGRESS, 4000, REQ);
	send_data(f, 100, 5, 1, SONDE_DIR_EGRESS, 5000, RESP);
	assert_int_equal(f->out.n, 1);
}

static void test_eviction_is_counted(void **state)
{
	struct fixture *f = *state;

	/* table holds 8 connections */
	for (uint32_t fd = 10; fd < 20; fd++) {
		send_open(f, 100, fd, fd, SONDE_ROLE_SERVER, 1000 + fd);
		send_data(f, 100, fd, fd, SONDE_DIR_INGRESS, 2000 + fd, REQ);
	}
	assert_int_equal(f->ig.conns.count, 8);
	assert_int_equal(f->ig.stats.conns_evicted, 2);
	assert_int_equal(f->ig.stats.spans_lost_evicted, 2);
	/* the most recent ones survived */
	send_data(f, 100, 19, 19, SONDE_DIR_EGRESS, 9000, RESP);
	assert_int_equal(f->out.n, 1);
}

static void test_proc_exit_closes_connections(void **state)
{
	struct fixture *f = *state;
	struct sonde_proc_exit ev = { 0 };

	send_open(f, 300, 5, 1, SONDE_ROLE_CLIENT, 1000);
	send_data(f, 300, 5, 1, SONDE_DIR_EGRESS, 2000, "GET /x HTTP/1.1\r\n\r\n");
	send_data(f, 300, 5, 1, SONDE_DIR_INGRESS, 3000, "HTTP/1.1 200 OK\r\n\r\nstream");
	send_open(f, 301, 5, 2, SONDE_ROLE_CLIENT, 1000);
	ev.hdr = (struct sonde_event_hdr){ .type = SONDE_EV_PROC_EXIT, .tgid = 300, .ts_ns = 4000 };
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
	assert_int_equal(f->out.n, 1);
	assert_int_equal(f->out.spans[0].response_body_bytes, 6);
	assert_int_equal(f->ig.conns.count, 1);
}

static void test_malformed_records(void **state)
{
	struct fixture *f = *state;
	uint8_t junk[64] = { 0 };
	struct sonde_data *d = (struct sonde_data *)junk;

	assert_int_equal(ingest_event(&f->ig, junk, 3), -EINVAL);
	junk[0] = 99;
	assert_int_equal(ingest_event(&f->ig, junk, sizeof(junk)), -EINVAL);
	memset(junk, 0, sizeof(junk));
	d->hdr.type = SONDE_EV_DATA;
	d->captured = 1000; /* more than the record holds */
	d->total = 1000;
	assert_int_equal(ingest_event(&f->ig, junk, sizeof(junk)), -EINVAL);
	assert_int_equal(f->ig.stats.malformed, 3);
	assert_int_equal(f->out.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_server_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_sizes_from_syscall_totals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_and_pipelining, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reused_requests_start_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interim_100_continue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_delimited_and_no_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_reuse_new_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_orphan_response_and_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proc_exit_closes_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_records, setup, teardown),
	};

	return cmocka_run_group_tests_name("ingest", tests, NULL, NULL);
}
