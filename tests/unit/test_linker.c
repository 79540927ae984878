/* SPDX-License-Identifier: MIT */
/*
 * Trace, span and parent ids from ring buffer records as the kernel writes
 * them: the thread or goroutine serving a request, runtime hooks, and the two
 * ends of a connection on one node — in the order the records can really
 * arrive, a server's read before its client's write included (they are
 * reported from different CPUs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sonde_event.h"
#include "core/ingest.h"

#define MAX_SPANS 256
#define MS	  1000000ull

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

/* Log writes as ingest hands them on, with their context. */
struct logged {
	char text[16][64];
	enum linker_ctx_state state[16];
	struct linker_ctx ctx[16];
	uint64_t writer[16];
	int n;
};

static void collect_log(void *ctx, const struct log_write *w)
{
	struct logged *l = ctx;

	assert_true(l->n < 16);
	snprintf(l->text[l->n], sizeof(l->text[0]), "%.*s", (int)w->captured,
		 (const char *)w->data);
	l->state[l->n] = w->ctx_state;
	l->ctx[l->n] = w->ctx;
	l->writer[l->n] = w->writer;
	l->n++;
}

struct fixture {
	struct ingest ig;
	struct collected out;
	struct logged logs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ingest_init(&f->ig, 64, NULL, collect, &f->out), 0);
	f->ig.logs = (struct ingest_logs){ .write = collect_log, .ctx = &f->logs };
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

/* A connection of process tgid: fd, role, local and remote port on 127.0.0.1. */
struct conn_def {
	uint32_t tgid, fd;
	uint8_t role;
	uint16_t local_port, remote_port;
};

static void open_conn(struct fixture *f, const struct conn_def *c, uint64_t ts)
{
	struct sonde_conn_open ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){ .type = SONDE_EV_CONN_OPEN,
					   .tgid = c->tgid,
					   .tid = c->tgid,
					   .fd = c->fd,
					   .ts_ns = ts,
					   .conn_gen = c->fd };
	ev.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", ev.local_addr);
	inet_pton(AF_INET, "127.0.0.1", ev.remote_addr);
	ev.local_port = c->local_port;
	ev.remote_port = c->remote_port;
	ev.role = c->role;
	ev.proto = SONDE_PROTO_HTTP1;
	strcpy(ev.comm, "svc");
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

/* One syscall's bytes, by thread tid (or goroutine goid when not 0), whose
 * first byte is at TCP sequence number seq. */
static void data(struct fixture *f, const struct conn_def *c, uint32_t tid, uint64_t goid,
		 uint8_t dir, uint32_t seq, uint64_t ts, const char *text)
{
	size_t n = strlen(text);
	uint8_t *buf = calloc(1, sizeof(struct sonde_data) + n);
	struct sonde_data *ev = (struct sonde_data *)buf;

	assert_non_null(buf);
	ev->hdr = (struct sonde_event_hdr){ .type = SONDE_EV_DATA,
					    .tgid = c->tgid,
					    .tid = tid,
					    .fd = c->fd,
					    .ts_ns = ts,
					    .conn_gen = c->fd };
	ev->total = (int64_t)n;
	ev->captured = (uint32_t)n;
	ev->dir = dir;
	ev->role = c->role;
	ev->proto = SONDE_PROTO_HTTP1;
	ev->seq = seq;
	ev->seq_kind = SONDE_SEQ_TCP;
	ev->unit = goid;
	ev->unit_kind = goid ? SONDE_UNIT_GOROUTINE : SONDE_UNIT_THREAD;
	memcpy(ev + 1, text, n);
	assert_int_equal(ingest_event(&f->ig, buf, sizeof(*ev) + n), 0);
	free(buf);
}

static void hint(struct fixture *f, uint32_t tgid, uint32_t client_fd, uint8_t kind, uint64_t unit,
		 uint32_t server_fd)
{
	struct sonde_link ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){ .type = SONDE_EV_LINK, .tgid = tgid, .fd = client_fd };
	ev.kind = kind;
	ev.unit = unit;
	ev.unit_kind = SONDE_UNIT_GOROUTINE;
	ev.server_fd = server_fd;
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

static void spawn(struct fixture *f, uint32_t tgid, uint64_t parent, uint64_t child)
{
	struct sonde_unit_spawn ev = { 0 };

	ev.hdr = (struct sonde_event_hdr){ .type = SONDE_EV_UNIT_SPAWN, .tgid = tgid };
	ev.parent = parent;
	ev.child = child;
	ev.unit_kind = SONDE_UNIT_GOROUTINE;
	assert_int_equal(ingest_event(&f->ig, &ev, sizeof(ev)), 0);
}

static char *request(const char *path)
{
	static char buf[8][128];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, sizeof(buf[0]), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	return b;
}

#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

static const struct span *find(struct fixture *f, uint8_t kind, int pid, const char *path)
{
	const struct span *found = NULL;

	for (int i = 0; i < f->out.n; i++) {
		const struct span *s = &f->out.spans[i];

		if (s->kind == kind && (int)s->pid == pid && !strcmp(s->target, path)) {
			assert_null(found); /* exactly one */
			found = s;
		}
	}
	assert_non_null(found);
	return found;
}

static void assert_child_of(const struct span *child, const struct span *parent, uint8_t link)
{
	assert_memory_equal(child->trace_id, parent->trace_id, 16);
	assert_memory_equal(child->parent_span_id, parent->span_id, 8);
	assert_int_equal(child->link, link);
}

static void assert_root(const struct span *s)
{
	static const uint8_t none[8];

	assert_memory_equal(s->parent_span_id, none, 8);
	assert_int_equal(s->link, SPAN_LINK_ROOT);
}

/*
 * The shop in miniature: process 100 serves /a on fd 3 (port 8000, from a
 * client at port 50000) and calls process 200 (port 9000) on fd 4 from port
 * 41000; process 200 serves it on fd 7.
 */
static const struct conn_def front_in = { 100, 3, SONDE_ROLE_SERVER, 8000, 50000 };
static const struct conn_def front_out = { 100, 4, SONDE_ROLE_CLIENT, 41000, 9000 };
static const struct conn_def back_in = { 200, 7, SONDE_ROLE_SERVER, 9000, 41000 };

static void test_thread_and_connection_links(void **state)
{
	struct fixture *f = *state;
	const struct span *s_front, *c_front, *s_back;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &back_in, 3);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 5000, 10 * MS, request("/a"));
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 77000, 11 * MS, request("/b"));
	data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, 77000, 12 * MS, request("/b"));
	data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, 13 * MS, RESPONSE);
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 14 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 15 * MS, RESPONSE);
	assert_int_equal(f->out.n, 3);
	s_front = find(f, SPAN_SERVER, 100, "/a");
	c_front = find(f, SPAN_CLIENT, 100, "/b");
	s_back = find(f, SPAN_SERVER, 200, "/b");
	assert_root(s_front);
	assert_child_of(c_front, s_front, SPAN_LINK_THREAD);
	assert_child_of(s_back, c_front, SPAN_LINK_CONNECTION);
	assert_int_equal(f->ig.linker.stats.links[SPAN_LINK_CONNECTION], 1);
	assert_int_equal(f->ig.linker.stats.links[SPAN_LINK_THREAD], 1);
}

/* The server's read is reported before the client's write: the server waits
 * for it, and what its trace emits meanwhile is held, not sent wrong. */
static void test_server_read_before_client_write(void **state)
{
	struct fixture *f = *state;
	static const struct conn_def db = { 200, 8, SONDE_ROLE_CLIENT, 42000, 5432 };
	const struct span *s_front, *c_front, *s_back, *c_back;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &back_in, 3);
	open_conn(f, &db, 4);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 5000, 10 * MS, request("/a"));
	/* process 200 reads, calls its own backend and answers, all before
	 * process 100's write of that request reaches the agent */
	data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, 77000, 11 * MS, request("/b"));
	data(f, &db, 201, 0, SONDE_DIR_EGRESS, 9, 12 * MS, request("/db"));
	data(f, &db, 201, 0, SONDE_DIR_INGRESS, 1, 13 * MS, RESPONSE);
	data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, 14 * MS, RESPONSE);
	assert_int_equal(f->out.n, 0); /* held: their trace is not known yet */
	assert_int_equal(f->ig.linker.held_count, 2);
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 77000, 11 * MS, request("/b"));
	assert_int_equal(f->out.n, 2); /* released at once */
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 15 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 16 * MS, RESPONSE);
	assert_int_equal(f->out.n, 4);
	s_front = find(f, SPAN_SERVER, 100, "/a");
	c_front = find(f, SPAN_CLIENT, 100, "/b");
	s_back = find(f, SPAN_SERVER, 200, "/b");
	c_back = find(f, SPAN_CLIENT, 200, "/db");
	assert_child_of(c_front, s_front, SPAN_LINK_THREAD);
	assert_child_of(s_back, c_front, SPAN_LINK_CONNECTION);
	assert_child_of(c_back, s_back, SPAN_LINK_THREAD);
	assert_int_equal(f->ig.linker.stats.held, 2);
	assert_int_equal(f->ig.linker.stats.roots_expected, 0);
}

/* The client's write never comes (lost): after the wait the server is a
 * root, counted, and what was held goes out. */
static void test_wait_ends_in_a_counted_root(void **state)
{
	struct fixture *f = *state;

	open_conn(f, &front_out, 2); /* 127.0.0.1 is an address a traced client uses */
	open_conn(f, &back_in, 3);
	data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, 77000, 11 * MS, request("/b"));
	data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, 12 * MS, RESPONSE);
	assert_int_equal(f->out.n, 0);
	ingest_tick(&f->ig, 11 * MS + LINKER_WAIT_NS - 1);
	assert_int_equal(f->out.n, 0);
	ingest_tick(&f->ig, 11 * MS + LINKER_WAIT_NS);
	assert_int_equal(f->out.n, 1);
	assert_root(&f->out.spans[0]);
	assert_int_equal(f->ig.linker.stats.roots_waited, 1);
	assert_int_equal(f->ig.linker.stats.roots_expected, 1);
}

/* A server whose peer is no traced client does not wait. */
static void test_untraced_caller_is_a_root_at_once(void **state)
{
	struct fixture *f = *state;

	open_conn(f, &back_in, 3);
	data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, 77000, 11 * MS, request("/b"));
	data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, 12 * MS, RESPONSE);
	assert_int_equal(f->out.n, 1);
	assert_root(&f->out.spans[0]);
	assert_int_equal(f->ig.linker.stats.roots_expected, 0);
}

/* One keep-alive connection carrying many unrelated requests: each server
 * request finds its own client request by where it starts in the stream,
 * never one giant trace. */
static void test_keep_alive_connection_carries_separate_traces(void **state)
{
	struct fixture *f = *state;
	uint32_t seq = 1000;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &back_in, 3);
	for (int i = 0; i < 5; i++) {
		char path[16], inner[16];
		const char *req;

		snprintf(path, sizeof(path), "/a%d", i);
		snprintf(inner, sizeof(inner), "/b%d", i);
		data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 1, (10 + 10 * i) * MS, request(path));
		req = request(inner);
		/* odd ones: the server's read first */
		if (i & 1)
			data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, seq, (11 + 10 * i) * MS, req);
		data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, seq, (11 + 10 * i) * MS, req);
		if (!(i & 1))
			data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, seq, (11 + 10 * i) * MS, req);
		seq += (uint32_t)strlen(req);
		data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, (12 + 10 * i) * MS, RESPONSE);
		data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, (13 + 10 * i) * MS, RESPONSE);
		data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, (14 + 10 * i) * MS, RESPONSE);
	}
	assert_int_equal(f->out.n, 15);
	for (int i = 0; i < 5; i++) {
		char path[16], inner[16];
		const struct span *s, *c, *b;

		snprintf(path, sizeof(path), "/a%d", i);
		snprintf(inner, sizeof(inner), "/b%d", i);
		s = find(f, SPAN_SERVER, 100, path);
		c = find(f, SPAN_CLIENT, 100, inner);
		b = find(f, SPAN_SERVER, 200, inner);
		assert_root(s);
		assert_child_of(c, s, SPAN_LINK_THREAD);
		assert_child_of(b, c, SPAN_LINK_CONNECTION);
		for (int j = 0; j < i; j++) {
			char other[16];

			snprintf(other, sizeof(other), "/a%d", j);
			assert_memory_not_equal(s->trace_id,
						find(f, SPAN_SERVER, 100, other)->trace_id, 16);
		}
	}
}

/* A thread that reads a second request before answering the first is an
 * event loop: its calls cannot be told apart, so none is linked. */
static void test_event_loop_thread_links_nothing(void **state)
{
	struct fixture *f = *state;
	static const struct conn_def in2 = { 100, 5, SONDE_ROLE_SERVER, 8000, 50001 };

	open_conn(f, &front_in, 1);
	open_conn(f, &in2, 1);
	open_conn(f, &front_out, 2);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 1, 10 * MS, request("/a1"));
	data(f, &in2, 101, 0, SONDE_DIR_INGRESS, 1, 11 * MS, request("/a2"));
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 1, 12 * MS, request("/b"));
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 13 * MS, RESPONSE);
	assert_root(find(f, SPAN_CLIENT, 100, "/b"));
	assert_int_equal(f->ig.linker.stats.event_loop_units, 1);
	assert_int_equal(f->ig.linker.stats.unlinked_event_loop, 1);
}

/* Requests served one after the other by one thread: each call belongs to
 * the request being served when it was made, none after it ended. */
static void test_thread_current_ends_with_the_response(void **state)
{
	struct fixture *f = *state;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 1, 10 * MS, request("/a"));
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 11 * MS, RESPONSE);
	/* a call after the response: no request is being served */
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 1, 12 * MS, request("/later"));
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 13 * MS, RESPONSE);
	assert_root(find(f, SPAN_CLIENT, 100, "/later"));
	assert_int_equal(f->ig.linker.stats.event_loop_units, 0);
}

/* The caller's traceparent: the server continues it, its calls too. */
static void test_traceparent_continues_through_calls(void **state)
{
	struct fixture *f = *state;
	static const uint8_t trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					   0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t parent[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	const struct span *s, *c;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 1, 10 * MS,
	     "GET /a HTTP/1.1\r\nHost: x\r\n"
	     "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n");
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 1, 11 * MS, request("/b"));
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 12 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 13 * MS, RESPONSE);
	s = find(f, SPAN_SERVER, 100, "/a");
	c = find(f, SPAN_CLIENT, 100, "/b");
	assert_memory_equal(s->trace_id, trace, 16);
	assert_memory_equal(s->parent_span_id, parent, 8);
	assert_int_equal(s->link, SPAN_LINK_HEADER);
	assert_true(s->flags & SPAN_F_TRACE_FROM_HEADER);
	assert_child_of(c, s, SPAN_LINK_THREAD);
	assert_true(c->flags & SPAN_F_TRACE_FROM_HEADER);
	assert_int_equal(c->trace_flags, 1);
}

/*
 * Go: the request is read by goroutine 7 on thread 101; the handler's query
 * runs on goroutine 7 from thread 102; net/http's writer goroutine 9 sends
 * its outgoing call after a hint; a goroutine 11 it started makes a call.
 */
static void test_goroutines_handoff_and_spawn(void **state)
{
	struct fixture *f = *state;
	static const struct conn_def q = { 100, 6, SONDE_ROLE_CLIENT, 42000, 5432 };
	static const struct conn_def bg = { 100, 9, SONDE_ROLE_CLIENT, 42001, 6379 };
	const struct span *s;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &q, 2);
	open_conn(f, &bg, 2);
	data(f, &front_in, 101, 7, SONDE_DIR_INGRESS, 1, 10 * MS, request("/a"));
	data(f, &q, 102, 7, SONDE_DIR_EGRESS, 1, 11 * MS, request("/query"));
	data(f, &q, 101, 7, SONDE_DIR_INGRESS, 1, 12 * MS, RESPONSE);
	hint(f, 100, front_out.fd, SONDE_LINK_UNIT, 7, 0);
	data(f, &front_out, 103, 9, SONDE_DIR_EGRESS, 1, 13 * MS, request("/b"));
	data(f, &front_out, 103, 9, SONDE_DIR_INGRESS, 1, 14 * MS, RESPONSE);
	spawn(f, 100, 7, 11);
	data(f, &bg, 104, 11, SONDE_DIR_EGRESS, 1, 15 * MS, request("/bg"));
	data(f, &bg, 104, 11, SONDE_DIR_INGRESS, 1, 16 * MS, RESPONSE);
	data(f, &front_in, 102, 7, SONDE_DIR_EGRESS, 1, 17 * MS, RESPONSE);
	/* after the response, the spawned goroutine's calls are its own */
	data(f, &bg, 104, 11, SONDE_DIR_EGRESS, 1, 18 * MS, request("/after"));
	data(f, &bg, 104, 11, SONDE_DIR_INGRESS, 1, 19 * MS, RESPONSE);
	s = find(f, SPAN_SERVER, 100, "/a");
	assert_child_of(find(f, SPAN_CLIENT, 100, "/query"), s, SPAN_LINK_GOROUTINE);
	assert_child_of(find(f, SPAN_CLIENT, 100, "/b"), s, SPAN_LINK_HANDOFF);
	assert_child_of(find(f, SPAN_CLIENT, 100, "/bg"), s, SPAN_LINK_SPAWN);
	assert_root(find(f, SPAN_CLIENT, 100, "/after"));
}

/* Node.js: one thread, requests interleaved; the injected hook names the
 * server connection whose asynchronous context made each call. */
static void test_async_hints_on_an_event_loop(void **state)
{
	struct fixture *f = *state;
	static const struct conn_def in2 = { 100, 5, SONDE_ROLE_SERVER, 8000, 50001 };
	static const struct conn_def out2 = { 100, 10, SONDE_ROLE_CLIENT, 41001, 9000 };

	open_conn(f, &front_in, 1);
	open_conn(f, &in2, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &out2, 2);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 1, 10 * MS, request("/a1"));
	data(f, &in2, 101, 0, SONDE_DIR_INGRESS, 1, 11 * MS, request("/a2"));
	hint(f, 100, out2.fd, SONDE_LINK_SERVER_FD, 0, front_in.fd);
	data(f, &out2, 101, 0, SONDE_DIR_EGRESS, 1, 12 * MS, request("/for-a1"));
	hint(f, 100, front_out.fd, SONDE_LINK_SERVER_FD, 0, in2.fd);
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 1, 13 * MS, request("/for-a2"));
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 14 * MS, RESPONSE);
	data(f, &out2, 101, 0, SONDE_DIR_INGRESS, 1, 15 * MS, RESPONSE);
	/* no hint: a timer's call, made outside any request */
	data(f, &out2, 101, 0, SONDE_DIR_EGRESS, 1, 16 * MS, request("/timer"));
	data(f, &out2, 101, 0, SONDE_DIR_INGRESS, 1, 17 * MS, RESPONSE);
	data(f, &in2, 101, 0, SONDE_DIR_EGRESS, 1, 18 * MS, RESPONSE);
	/* the hook says: made outside any request (a connection a request used,
	 * written after its response): a root it knows to be one */
	hint(f, 100, out2.fd, SONDE_LINK_SERVER_FD, 0, SONDE_LINK_NO_REQUEST);
	data(f, &out2, 101, 0, SONDE_DIR_EGRESS, 1, 19 * MS, request("/no-request"));
	data(f, &out2, 101, 0, SONDE_DIR_INGRESS, 1, 20 * MS, RESPONSE);
	/* the hook names a request no longer in flight: a parent expected */
	hint(f, 100, front_out.fd, SONDE_LINK_SERVER_FD, 0, in2.fd);
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 1, 21 * MS, request("/a2-gone"));
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 22 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 23 * MS, RESPONSE);
	assert_child_of(find(f, SPAN_CLIENT, 100, "/for-a1"), find(f, SPAN_SERVER, 100, "/a1"),
			SPAN_LINK_ASYNC);
	assert_child_of(find(f, SPAN_CLIENT, 100, "/for-a2"), find(f, SPAN_SERVER, 100, "/a2"),
			SPAN_LINK_ASYNC);
	assert_root(find(f, SPAN_CLIENT, 100, "/timer"));
	assert_root(find(f, SPAN_CLIENT, 100, "/no-request"));
	assert_root(find(f, SPAN_CLIENT, 100, "/a2-gone"));
	assert_int_equal(f->ig.linker.stats.links[SPAN_LINK_ASYNC], 2);
	assert_int_equal(f->ig.linker.stats.hints, 4);
	assert_int_equal(f->ig.linker.stats.hints_unused, 0);
	assert_int_equal(f->ig.linker.stats.unlinked_event_loop, 1); /* /timer */
	assert_int_equal(f->ig.linker.stats.roots_no_request, 1);
	assert_int_equal(f->ig.linker.stats.roots_expected, 1);
}

/* A write to fd (1 or 2) of process tgid by thread tid (or goroutine goid). */
static void log_line(struct fixture *f, uint32_t tgid, uint32_t fd, uint32_t tid, uint64_t goid,
		     uint64_t ts, const char *text)
{
	size_t n = strlen(text);
	uint8_t *buf = calloc(1, sizeof(struct sonde_data) + n);
	struct sonde_data *ev = (struct sonde_data *)buf;

	assert_non_null(buf);
	ev->hdr = (struct sonde_event_hdr){
		.type = SONDE_EV_LOG, .tgid = tgid, .tid = tid, .fd = fd, .ts_ns = ts
	};
	ev->total = (int64_t)n;
	ev->captured = (uint32_t)n;
	ev->dir = SONDE_DIR_EGRESS;
	ev->syscall = SONDE_SYS_WRITE;
	ev->stream_pos = ts; /* any increasing position */
	ev->unit = goid;
	ev->unit_kind = goid ? SONDE_UNIT_GOROUTINE : SONDE_UNIT_THREAD;
	memcpy(ev + 1, text, n);
	assert_int_equal(ingest_event(&f->ig, buf, sizeof(*ev) + n), 0);
	free(buf);
}

static void assert_logged_in(struct fixture *f, int i, const struct span *sp)
{
	assert_int_equal(f->logs.state[i], LINKER_CTX_FINAL);
	assert_memory_equal(f->logs.ctx[i].span_id, sp->span_id, 8);
	assert_memory_equal(f->logs.ctx[i].trace_id, sp->trace_id, 16);
}

/* A thread-per-request server's lines carry the request the writing thread
 * serves; lines before it and after its response carry none; another
 * thread's line carries its own request. */
static void test_log_lines_carry_the_threads_request(void **state)
{
	struct fixture *f = *state;
	static const struct conn_def in2 = { 100, 5, SONDE_ROLE_SERVER, 8000, 50001 };

	open_conn(f, &front_in, 1);
	open_conn(f, &in2, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &back_in, 3);
	log_line(f, 100, 2, 101, 0, 5 * MS, "starting\n");
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 5000, 10 * MS, request("/a"));
	data(f, &in2, 102, 0, SONDE_DIR_INGRESS, 1, 10 * MS, request("/other"));
	log_line(f, 100, 2, 101, 0, 11 * MS, "customer 7\n");
	log_line(f, 100, 1, 102, 0, 11 * MS, "customer 8\n");
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 77000, 12 * MS, request("/b"));
	data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, 77000, 13 * MS, request("/b"));
	log_line(f, 200, 1, 201, 0, 14 * MS, "backend for 7\n");
	data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, 15 * MS, RESPONSE);
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 16 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 17 * MS, RESPONSE);
	data(f, &in2, 102, 0, SONDE_DIR_EGRESS, 1, 17 * MS, RESPONSE);
	log_line(f, 100, 2, 101, 0, 18 * MS, "after\n");
	assert_int_equal(f->logs.n, 5);
	assert_string_equal(f->logs.text[0], "starting\n");
	assert_int_equal(f->logs.state[0], LINKER_CTX_NONE);
	assert_logged_in(f, 1, find(f, SPAN_SERVER, 100, "/a"));
	assert_logged_in(f, 2, find(f, SPAN_SERVER, 100, "/other"));
	/* The backend's line: its own span, the front's trace. */
	assert_logged_in(f, 3, find(f, SPAN_SERVER, 200, "/b"));
	assert_memory_equal(f->logs.ctx[3].trace_id, find(f, SPAN_SERVER, 100, "/a")->trace_id, 16);
	assert_int_equal(f->logs.state[4], LINKER_CTX_NONE);
	assert_int_equal(f->ig.linker.stats.logs_in_request, 3);
	/* Nothing else changed: the spans link as before. */
	assert_child_of(find(f, SPAN_CLIENT, 100, "/b"), find(f, SPAN_SERVER, 100, "/a"),
			SPAN_LINK_THREAD);
}

/* Go: the goroutine serving the request, or one it started. */
static void test_log_lines_of_goroutines(void **state)
{
	struct fixture *f = *state;

	open_conn(f, &front_in, 1);
	data(f, &front_in, 101, 7, SONDE_DIR_INGRESS, 1, 10 * MS, request("/a"));
	spawn(f, 100, 7, 9);
	log_line(f, 100, 2, 103, 7, 11 * MS, "handler\n"); /* another thread, same goroutine */
	log_line(f, 100, 2, 101, 9, 12 * MS, "worker\n");
	log_line(f, 100, 2, 101, 0, 12 * MS, "scheduler thread\n"); /* not a goroutine */
	data(f, &front_in, 101, 7, SONDE_DIR_EGRESS, 1, 13 * MS, RESPONSE);
	assert_logged_in(f, 0, find(f, SPAN_SERVER, 100, "/a"));
	assert_logged_in(f, 1, find(f, SPAN_SERVER, 100, "/a"));
	assert_int_equal(f->logs.state[2], LINKER_CTX_NONE);
	/* The writer a line's pieces must share: the goroutine, wherever it ran. */
	assert_true(f->logs.writer[0] == (1ull << 63 | 7));
	assert_true(f->logs.writer[1] == (1ull << 63 | 9));
	assert_int_equal(f->logs.writer[2], 101);
}

/* Node.js: one thread serves every request; the hook names the request
 * before each console write (fd 1 or 2). Without a hint, nothing. */
static void test_log_lines_named_by_a_hook(void **state)
{
	struct fixture *f = *state;
	static const struct conn_def in2 = { 100, 5, SONDE_ROLE_SERVER, 8000, 50001 };

	open_conn(f, &front_in, 1);
	open_conn(f, &in2, 1);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 1, 10 * MS, request("/a1"));
	data(f, &in2, 101, 0, SONDE_DIR_INGRESS, 1, 11 * MS, request("/a2"));
	hint(f, 100, 1, SONDE_LINK_SERVER_FD, 0, in2.fd);
	log_line(f, 100, 1, 101, 0, 12 * MS, "for a2\n");
	hint(f, 100, 2, SONDE_LINK_SERVER_FD, 0, front_in.fd);
	log_line(f, 100, 2, 101, 0, 13 * MS, "for a1\n");
	log_line(f, 100, 2, 101, 0, 14 * MS, "a timer\n");
	hint(f, 100, 1, SONDE_LINK_SERVER_FD, 0, 0xffffffffu); /* outside any request */
	log_line(f, 100, 1, 101, 0, 15 * MS, "outside\n");
	data(f, &in2, 101, 0, SONDE_DIR_EGRESS, 1, 18 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 19 * MS, RESPONSE);
	assert_logged_in(f, 0, find(f, SPAN_SERVER, 100, "/a2"));
	assert_logged_in(f, 1, find(f, SPAN_SERVER, 100, "/a1"));
	assert_int_equal(f->logs.state[2], LINKER_CTX_NONE);
	assert_int_equal(f->logs.state[3], LINKER_CTX_NONE);
	assert_int_equal(f->ig.linker.stats.logs_event_loop, 1);
}

/* A server waiting for its client's side: its line's trace is pending until
 * the client's write comes, then it is the client's trace. */
static void test_log_line_of_a_waiting_server_is_pending(void **state)
{
	struct fixture *f = *state;
	struct linker_ctx ctx;

	open_conn(f, &front_in, 1);
	open_conn(f, &front_out, 2);
	open_conn(f, &back_in, 3);
	data(f, &front_in, 101, 0, SONDE_DIR_INGRESS, 5000, 10 * MS, request("/a"));
	data(f, &back_in, 201, 0, SONDE_DIR_INGRESS, 77000, 11 * MS, request("/b"));
	log_line(f, 200, 1, 201, 0, 12 * MS, "backend\n");
	assert_int_equal(f->logs.state[0], LINKER_CTX_PENDING);
	assert_int_equal(linker_context_of(&f->ig.linker, f->logs.ctx[0].span_id, &ctx),
			 LINKER_CTX_PENDING);
	data(f, &front_out, 101, 0, SONDE_DIR_EGRESS, 77000, 11 * MS, request("/b"));
	assert_int_equal(linker_context_of(&f->ig.linker, f->logs.ctx[0].span_id, &ctx),
			 LINKER_CTX_FINAL);
	data(f, &back_in, 201, 0, SONDE_DIR_EGRESS, 1, 15 * MS, RESPONSE);
	data(f, &front_out, 101, 0, SONDE_DIR_INGRESS, 1, 16 * MS, RESPONSE);
	data(f, &front_in, 101, 0, SONDE_DIR_EGRESS, 1, 17 * MS, RESPONSE);
	assert_memory_equal(ctx.trace_id, find(f, SPAN_SERVER, 100, "/a")->trace_id, 16);
	assert_memory_equal(ctx.span_id, find(f, SPAN_SERVER, 200, "/b")->span_id, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thread_and_connection_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_read_before_client_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_ends_in_a_counted_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_untraced_caller_is_a_root_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keep_alive_connection_carries_separate_traces,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_loop_thread_links_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_thread_current_ends_with_the_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_traceparent_continues_through_calls, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_goroutines_handoff_and_spawn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_hints_on_an_event_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lines_carry_the_threads_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_lines_of_goroutines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_lines_named_by_a_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_line_of_a_waiting_server_is_pending, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("linker", tests, NULL, NULL);
}
