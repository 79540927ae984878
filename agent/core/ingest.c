/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sonde_event.h"
#include "core/ingest.h"

struct emit_ctx {
	struct ingest *ig;
	struct conn *c;
	const struct sonde_data *ev; /* the event being fed, or NULL (a close) */
	uint64_t now;		     /* kernel monotonic */
};

/* An exchange began: the linker gives it its identity, from what the
 * connection and the event that carried its bytes say. */
static void begin_span(void *ctx, struct span *sp)
{
	struct emit_ctx *ec = ctx;
	struct conn *c = ec->c;
	const struct sonde_data *ev = ec->ev;
	struct linker_where w = {
		.tgid = c->key.tgid,
		.fd = c->key.fd,
		.tid = ev ? ev->hdr.tid : 0,
		.unit = ev ? ev->unit : 0,
		.unit_kind = ev ? ev->unit_kind : SONDE_UNIT_THREAD,
		.local = &c->local,
		.peer = &c->peer,
		.ts = ec->now,
	};

	linker_begin(&ec->ig->linker, sp, &w);
}

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
	/* The lines its process wrote while serving it go out before it. */
	if (sp->kind == SPAN_SERVER && ec->ig->logs.span_end)
		ec->ig->logs.span_end(ec->ig->logs.ctx, c->key.tgid);
	linker_end(&ec->ig->linker, sp, c->key.tgid, c->key.fd, ec->now);
}

static struct span_sink sink_for(struct ingest *ig, struct emit_ctx *ec, struct conn *c,
				 const struct sonde_data *ev, uint64_t now)
{
	ec->ig = ig;
	ec->c = c;
	ec->ev = ev;
	ec->now = now;
	return (struct span_sink){ .begin = begin_span, .emit = emit_span, .ctx = ec };
}

/* Ends the connection's session: its finished and unanswered requests are
 * reported (close), then its memory goes. */
static void end_session(struct ingest *ig, struct conn *c, uint64_t ts)
{
	struct emit_ctx ec;
	struct span_sink sink = sink_for(ig, &ec, c, NULL, ts);

	if (!c->session)
		return;
	c->protocol->close(c->session, ts, &sink);
	c->protocol->free(c->session);
	free(c->session);
	c->session = NULL;
}

static void release_conn(void *ctx, struct conn *c, bool evicted)
{
	struct ingest *ig = ctx;

	linker_conn_close(&ig->linker, c->role, &c->local);
	if (evicted)
		ig->stats.conns_evicted++;
	if (!c->session)
		return;
	if (evicted)
		ig->stats.spans_lost_evicted += c->protocol->in_flight(c->session);
	c->protocol->free(c->session);
	free(c->session);
	c->session = NULL;
}

static void close_conn(struct ingest *ig, struct conn *c, uint64_t ts)
{
	end_session(ig, c, ts);
	conn_table_remove(&ig->conns, c, release_conn, ig);
}

/* The connection speaks protocol id from here on: from its first bytes, or
 * after a switch. Without a protocol or memory for its session, its bytes are
 * ignored. */
static void start_session(struct ingest *ig, struct conn *c, uint8_t id)
{
	const struct protocol *p = protocol_find(id);
	struct protocol_open o;

	c->proto = id;
	c->protocol = p;
	if (!p)
		return;
	c->session = calloc(1, p->session_size);
	if (!c->session) {
		ig->stats.session_alloc_failed++;
		c->protocol = NULL;
		return;
	}
	o = protocol_open_for(&ig->protocols, p, c->role);
	p->open(c->session, &o);
}

/* Whether the kernel classified the connection anew as a protocol its
 * current one may turn into (protocol->switches_to). */
static bool kernel_switched(const struct conn *c, uint8_t proto)
{
	return c->protocol && proto != c->proto && proto < 32 &&
	       (c->protocol->switches_to & (1u << proto));
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
		start_session(ig, c, proto);
	} else if (kernel_switched(c, proto)) {
		end_session(ig, c, ts);
		start_session(ig, c, proto);
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
	/* Opened again after a protocol switch: its addresses are known already. */
	if (c->local.family)
		return 0;
	set_endpoint(&c->local, ev->family, ev->local_addr, ev->local_port);
	set_endpoint(&c->peer, ev->family, ev->remote_addr, ev->remote_port);
	linker_conn_open(&ig->linker, c->role, &c->local);
	return 0;
}

static void on_connect(struct ingest *ig, const struct sonde_conn_open *ev)
{
	struct span_endpoint local;

	set_endpoint(&local, ev->family, ev->local_addr, ev->local_port);
	linker_conn_open(&ig->linker, SONDE_ROLE_CLIENT, &local);
}

/* Bytes of this direction the kernel moved that never reached us: a jump in
 * its byte positions means events were lost (ring buffer full). */
static uint64_t unseen_before(struct conn *c, const struct sonde_data *ev)
{
	uint64_t *next = &c->next_pos[ev->dir == SONDE_DIR_INGRESS ? 0 : 1];
	uint64_t gap = 0;

	if (!ev->stream_pos)
		return 0;
	if (*next && ev->stream_pos > *next)
		gap = ev->stream_pos - *next;
	*next = ev->stream_pos + (uint64_t)ev->total;
	return gap;
}

/* After a switch: the new protocol's session takes over from the old one and
 * gets the rest of the bytes that carried the switch. */
static void switch_protocol(struct ingest *ig, struct conn *c, const struct protocol_bytes *b,
			    const struct span_sink *sink)
{
	struct protocol_switch sw = { 0 };
	void *old_session = c->session;
	const struct protocol *old = c->protocol;
	struct protocol_bytes rest = *b;

	if (!old->switched || !old->switched(old_session, &sw))
		return;
	c->session = NULL;
	start_session(ig, c, sw.to);
	if (c->session && c->protocol->adopt)
		c->protocol->adopt(c->session, &sw);
	/* The old session is done: what it still holds ends now. */
	old->close(old_session, b->ts, sink);
	old->free(old_session);
	free(old_session);
	if (!c->session)
		return;
	if (sw.offset > b->captured)
		sw.offset = b->captured;
	rest.data = b->data ? b->data + sw.offset : NULL;
	rest.captured = b->captured - sw.offset;
	rest.total = b->total - sw.offset;
	rest.unseen = 0;
	rest.seq = b->seq + (uint32_t)sw.offset;
	c->protocol->feed(c->session, &rest, sink);
}

static uint8_t exchange_kind_of(uint8_t seq_kind)
{
	switch (seq_kind) {
	case SONDE_SEQ_TCP:
		return SPAN_EXCHANGE_TCP_SEQ;
	case SONDE_SEQ_TLS_RECORD:
		return SPAN_EXCHANGE_TLS_RECORD;
	}
	return SPAN_EXCHANGE_NONE;
}

static int on_data(struct ingest *ig, const struct sonde_data *ev, size_t size)
{
	struct conn_key key = { ev->hdr.tgid, ev->hdr.fd };
	struct conn *c = conn_table_get(&ig->conns, key);
	struct emit_ctx ec;
	struct span_sink sink;
	struct protocol_bytes b;

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
	} else if (kernel_switched(c, ev->proto)) {
		end_session(ig, c, ev->hdr.ts_ns);
		start_session(ig, c, ev->proto);
	}
	c->last_active_ns = ev->hdr.ts_ns;
	if (ev->syscall == SONDE_SYS_TLS_READ || ev->syscall == SONDE_SYS_TLS_WRITE)
		c->tls = true;
	conn_table_touch(&ig->conns, c);
	b = (struct protocol_bytes){ .ingress = ev->dir == SONDE_DIR_INGRESS,
				     .data = ev->captured ? (const uint8_t *)(ev + 1) : NULL,
				     .captured = ev->captured,
				     .total = (uint64_t)ev->total,
				     .unseen = unseen_before(c, ev),
				     .ts = ev->hdr.ts_ns,
				     .seq = ev->seq,
				     .seq_kind = exchange_kind_of(ev->seq_kind) };
	if (!c->session)
		return 0;
	sink = sink_for(ig, &ec, c, ev, ev->hdr.ts_ns);
	c->protocol->feed(c->session, &b, &sink);
	switch_protocol(ig, c, &b, &sink);
	return 0;
}

/* Output to fd 1 or 2, with the request its writer was serving. */
static int on_log(struct ingest *ig, const struct sonde_data *ev, size_t size)
{
	struct log_write *last = &ig->last_log;
	struct linker_where w = {
		.tgid = ev->hdr.tgid,
		.fd = ev->hdr.fd,
		.tid = ev->hdr.tid,
		.unit = ev->unit,
		.unit_kind = ev->unit_kind,
		.ts = ev->hdr.ts_ns,
	};
	bool continued;

	if (ev->captured > size - sizeof(*ev) || ev->total < 0 ||
	    ev->captured > (uint64_t)ev->total)
		return -EINVAL;
	ig->stats.log_events++;
	/* The next piece of a write copied in several events: same writer,
	 * same time, where the previous piece ended. */
	continued = last->tgid == ev->hdr.tgid && last->tid == ev->hdr.tid &&
		    last->fd == ev->hdr.fd && last->ts == ev->hdr.ts_ns && ev->stream_pos &&
		    last->stream_pos + last->total == ev->stream_pos;
	if (!continued)
		last->ctx_state = linker_current(&ig->linker, &w, &last->ctx);
	last->tgid = ev->hdr.tgid;
	last->tid = ev->hdr.tid;
	last->writer = ev->unit_kind == SONDE_UNIT_GOROUTINE ? ev->unit | 1ull << 63 : ev->hdr.tid;
	last->fd = ev->hdr.fd;
	last->ts = ev->hdr.ts_ns;
	last->time_ns = clock_mono_to_real(&ig->clock, ev->hdr.ts_ns);
	last->stream_pos = ev->stream_pos;
	last->total = (uint64_t)ev->total;
	last->data = ev->captured ? (const uint8_t *)(ev + 1) : NULL;
	last->captured = ev->captured;
	if (ig->logs.write)
		ig->logs.write(ig->logs.ctx, last);
	last->data = NULL;
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
	if (ig->logs.exit)
		ig->logs.exit(ig->logs.ctx, ev->hdr.tgid);
	linker_exit(&ig->linker, ev->hdr.tgid);
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
	case SONDE_EV_LOG:
		if (size < sizeof(struct sonde_data) || on_log(ig, data, size) == -EINVAL)
			goto malformed;
		return 0;
	case SONDE_EV_PROC_EXIT:
		on_proc_exit(ig, data);
		return 0;
	case SONDE_EV_CONN_CONNECT:
		if (size < sizeof(struct sonde_conn_open))
			goto malformed;
		on_connect(ig, data);
		return 0;
	case SONDE_EV_LINK:
		if (size < sizeof(struct sonde_link))
			goto malformed;
		linker_hint(&ig->linker, data);
		return 0;
	case SONDE_EV_UNIT_SPAWN:
		if (size < sizeof(struct sonde_unit_spawn))
			goto malformed;
		linker_spawn(&ig->linker, data);
		return 0;
	}
malformed:
	ig->stats.malformed++;
	return -EINVAL;
}

int ingest_init(struct ingest *ig, size_t max_conns, const struct protocol_settings *settings,
		span_out_fn out, void *out_ctx)
{
	uint64_t seed = 0;
	int err;

	memset(ig, 0, sizeof(*ig));
	ig->out = out;
	ig->out_ctx = out_ctx;
	protocols_init(&ig->protocols, settings);
	clock_offset_measure(&ig->clock);
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = clock_real_now() ^ (uintptr_t)ig;
	err = linker_init(&ig->linker, seed, out, out_ctx);
	if (err)
		return err;
	err = conn_table_init(&ig->conns, max_conns);
	if (err)
		linker_destroy(&ig->linker);
	return err;
}

void ingest_tick(struct ingest *ig, uint64_t now)
{
	linker_tick(&ig->linker, now, false);
}

void ingest_flush(struct ingest *ig)
{
	linker_tick(&ig->linker, 0, true);
}

void ingest_destroy(struct ingest *ig)
{
	conn_table_destroy(&ig->conns, release_conn, ig);
	linker_destroy(&ig->linker);
	protocols_destroy(&ig->protocols);
}
