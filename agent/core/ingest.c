/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sonde_event.h"
#include "core/ingest.h"

struct emit_ctx {
	struct ingest *ig;
	struct conn *c;
};

/* Completes a span with what the connection knows, then hands it out. */
static void emit_span(void *ctx, struct span *sp)
{
	struct emit_ctx *ec = ctx;
	struct conn *c = ec->c;

	sp->pid = c->key.tgid;
	if (c->tls)
		sp->flags |= SPAN_F_TLS;
	memcpy(sp->comm, c->comm, sizeof(sp->comm));
	sp->local = c->local;
	sp->peer = c->peer;
	sp->start_ns = clock_mono_to_real(&ec->ig->clock, sp->start_ns);
	sp->end_ns = clock_mono_to_real(&ec->ig->clock, sp->end_ns);
	if (sp->end_ns < sp->start_ns)
		sp->end_ns = sp->start_ns;
	ec->ig->out(ec->ig->out_ctx, sp);
}

static struct http1_sink sink_for(struct ingest *ig, struct emit_ctx *ec, struct conn *c)
{
	ec->ig = ig;
	ec->c = c;
	return (struct http1_sink){
		.emit = emit_span, .ctx = ec, .stats = &ig->stats.http1, .pool = &ig->http1_pool
	};
}

static struct http2_sink h2_sink_for(struct ingest *ig, struct emit_ctx *ec, struct conn *c)
{
	ec->ig = ig;
	ec->c = c;
	return (struct http2_sink){ .emit = emit_span, .ctx = ec, .stats = &ig->stats.http2 };
}

static void release_conn(void *ctx, struct conn *c, bool evicted)
{
	struct ingest *ig = ctx;

	if (evicted) {
		ig->stats.conns_evicted++;
		ig->stats.spans_lost_evicted += c->http1.npending;
		if (c->http2)
			ig->stats.spans_lost_evicted += c->http2->nstreams;
	}
	http1_session_free(&c->http1);
	if (c->http2) {
		http2_session_free(c->http2);
		free(c->http2);
		c->http2 = NULL;
	}
}

static void close_conn(struct ingest *ig, struct conn *c, uint64_t ts)
{
	struct emit_ctx ec;
	struct http1_sink sink = sink_for(ig, &ec, c);

	http1_session_close(&c->http1, ts, &sink);
	if (c->http2) {
		struct http2_sink h2 = h2_sink_for(ig, &ec, c);

		http2_session_close(c->http2, ts, &h2);
	}
	conn_table_remove(&ig->conns, c, release_conn, ig);
}

/* The connection speaks HTTP/2 from here on: from its first bytes, or after an
 * HTTP/1.1 upgrade. NULL when out of memory (its bytes are then ignored). */
static struct http2_session *start_http2(struct conn *c)
{
	c->proto = SONDE_PROTO_HTTP2;
	if (!c->http2) {
		c->http2 = malloc(sizeof(*c->http2));
		if (c->http2)
			http2_session_init(c->http2, c->role, true);
	}
	return c->http2;
}

/*
 * HTTP/2 bytes of one event. Header decompression needs every header block, so
 * the kernel's byte positions are checked: a jump means events were lost (ring
 * buffer full), and the parser is told how many bytes it did not see.
 */
static void feed_http2(struct ingest *ig, struct conn *c, bool ingress, const uint8_t *data,
		       size_t captured, uint64_t total, uint64_t pos, uint64_t ts)
{
	struct emit_ctx ec;
	struct http2_sink sink = h2_sink_for(ig, &ec, c);
	int d = ingress ? 0 : 1;

	if (!c->http2)
		return;
	if (pos) {
		if (c->next_pos[d] && pos > c->next_pos[d]) {
			uint64_t gap = pos - c->next_pos[d];

			ig->stats.http2.bytes_unseen += gap;
			http2_session_feed(c->http2, ingress, NULL, 0, gap, ts, &sink);
		}
		c->next_pos[d] = pos + total;
	}
	ig->stats.http2.bytes_unseen += total - captured;
	http2_session_feed(c->http2, ingress, data, captured, total, ts, &sink);
}

/* After a 101 to h2c: stream 1 is the request that asked for it, and bytes of
 * the event after the 101's head are already HTTP/2. */
static void upgrade_to_http2(struct ingest *ig, struct conn *c, const struct sonde_data *ev)
{
	const uint8_t *data = (const uint8_t *)(ev + 1);
	size_t off = c->http1.h2c_offset;
	struct span req = *c->http1.h2c_request;

	free(c->http1.h2c_request);
	c->http1.h2c_request = NULL;
	if (!start_http2(c))
		return;
	http2_session_upgraded(c->http2, &req);
	if (off > ev->captured)
		off = ev->captured;
	feed_http2(ig, c, ev->dir == SONDE_DIR_INGRESS, data + off, ev->captured - off,
		   (uint64_t)ev->total - off, ev->stream_pos ? ev->stream_pos + off : 0,
		   ev->hdr.ts_ns);
}

static void set_endpoint(struct span_endpoint *e, uint16_t family, const uint8_t *addr,
			 uint16_t port)
{
	e->family = family;
	e->port = port;
	memcpy(e->addr, addr, sizeof(e->addr));
}

static struct conn *open_conn(struct ingest *ig, struct conn_key key, uint64_t gen, uint8_t role,
			      uint8_t proto, uint64_t ts)
{
	struct conn *c = conn_table_get(&ig->conns, key);

	/* Same fd, new generation: the old connection was closed without us
	 * seeing it (lost event) and the fd reused. */
	if (c && c->gen != gen) {
		ig->stats.conns_replaced++;
		close_conn(ig, c, ts);
		c = NULL;
	}
	if (!c) {
		c = conn_table_insert(&ig->conns, key, release_conn, ig);
		if (!c)
			return NULL;
		c->gen = gen;
		c->role = role;
		c->proto = proto;
		http1_session_init(&c->http1, role != SONDE_ROLE_CLIENT);
		if (proto == SONDE_PROTO_HTTP2)
			start_http2(c);
	} else if (proto == SONDE_PROTO_HTTP2 && c->proto == SONDE_PROTO_HTTP1) {
		/* The kernel saw HTTP/2 after an HTTP/1.1 101. */
		start_http2(c);
	}
	c->last_active_ns = ts;
	return c;
}

static int on_conn_open(struct ingest *ig, const struct sonde_conn_open *ev)
{
	struct conn_key key = { ev->hdr.tgid, ev->hdr.fd };
	struct conn *c;

	ig->stats.conn_opens++;
	c = open_conn(ig, key, ev->hdr.conn_gen, ev->role, ev->proto, ev->hdr.ts_ns);
	if (!c)
		return -ENOMEM;
	memcpy(c->comm, ev->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	set_endpoint(&c->local, ev->family, ev->local_addr, ev->local_port);
	set_endpoint(&c->peer, ev->family, ev->remote_addr, ev->remote_port);
	return 0;
}

static int on_data(struct ingest *ig, const struct sonde_data *ev, size_t size)
{
	struct conn_key key = { ev->hdr.tgid, ev->hdr.fd };
	struct conn *c = conn_table_get(&ig->conns, key);
	struct emit_ctx ec;
	struct http1_sink sink;

	if (ev->captured > size - sizeof(*ev) || ev->total < 0 ||
	    ev->captured > (uint64_t)ev->total)
		return -EINVAL;
	ig->stats.data_events++;
	ig->stats.bytes_total += (uint64_t)ev->total;
	ig->stats.bytes_captured += ev->captured;
	if (!c || c->gen != ev->hdr.conn_gen) {
		ig->stats.data_without_open++;
		c = open_conn(ig, key, ev->hdr.conn_gen, ev->role, ev->proto, ev->hdr.ts_ns);
		if (!c)
			return -ENOMEM;
	}
	c->last_active_ns = ev->hdr.ts_ns;
	if (ev->syscall == SONDE_SYS_TLS_READ || ev->syscall == SONDE_SYS_TLS_WRITE)
		c->tls = true;
	conn_table_touch(&ig->conns, c);
	if (ev->proto == SONDE_PROTO_HTTP2 && c->proto == SONDE_PROTO_HTTP1)
		start_http2(c); /* the kernel saw HTTP/2 after an HTTP/1.1 101 */
	if (c->proto == SONDE_PROTO_HTTP2) {
		feed_http2(ig, c, ev->dir == SONDE_DIR_INGRESS, (const uint8_t *)(ev + 1),
			   ev->captured, (uint64_t)ev->total, ev->stream_pos, ev->hdr.ts_ns);
		return 0;
	}
	if (c->proto != SONDE_PROTO_HTTP1)
		return 0;
	sink = sink_for(ig, &ec, c);
	http1_session_feed(&c->http1, ev->dir == SONDE_DIR_INGRESS, (const uint8_t *)(ev + 1),
			   ev->captured, (uint64_t)ev->total, ev->hdr.ts_ns, &sink);
	if (c->http1.h2c_request)
		upgrade_to_http2(ig, c, ev);
	return 0;
}

static void on_conn_close(struct ingest *ig, const struct sonde_conn_close *ev)
{
	struct conn_key key = { ev->hdr.tgid, ev->hdr.fd };
	struct conn *c = conn_table_get(&ig->conns, key);

	ig->stats.conn_closes++;
	if (c && c->gen == ev->hdr.conn_gen)
		close_conn(ig, c, ev->hdr.ts_ns);
}

static void on_proc_exit(struct ingest *ig, const struct sonde_proc_exit *ev)
{
	struct conn *c = ig->conns.lru_head;

	ig->stats.proc_exits++;
	/* Closing ends close-delimited responses and reports unanswered requests,
	 * exactly as the kernel's own close at exit would. */
	while (c) {
		struct conn *next = c->lru_next;

		if (c->key.tgid == ev->hdr.tgid)
			close_conn(ig, c, ev->hdr.ts_ns);
		c = next;
	}
	if (ig->exit_out)
		ig->exit_out(ig->out_ctx, ev->hdr.tgid, ev->hdr.ts_ns);
}

int ingest_event(struct ingest *ig, const void *data, size_t size)
{
	const struct sonde_event_hdr *h = data;

	ig->stats.events++;
	if (size < sizeof(*h))
		goto malformed;
	switch (h->type) {
	case SONDE_EV_CONN_OPEN:
		if (size < sizeof(struct sonde_conn_open))
			goto malformed;
		return on_conn_open(ig, data);
	case SONDE_EV_DATA:
		if (size < sizeof(struct sonde_data) || on_data(ig, data, size) == -EINVAL)
			goto malformed;
		return 0;
	case SONDE_EV_CONN_CLOSE:
		on_conn_close(ig, data);
		return 0;
	case SONDE_EV_PROC_EXIT:
		on_proc_exit(ig, data);
		return 0;
	}
malformed:
	ig->stats.malformed++;
	return -EINVAL;
}

int ingest_init(struct ingest *ig, size_t max_conns, span_out_fn out, void *out_ctx)
{
	memset(ig, 0, sizeof(*ig));
	ig->out = out;
	ig->out_ctx = out_ctx;
	clock_offset_measure(&ig->clock);
	return conn_table_init(&ig->conns, max_conns);
}

void ingest_destroy(struct ingest *ig)
{
	conn_table_destroy(&ig->conns, release_conn, ig);
	http1_pool_drain(&ig->http1_pool);
}
