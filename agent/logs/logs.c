/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "logs/logs.h"
#include "spans/span_attrs.h"
#include "util/lru_map.h"

/* A record waits at most this long for its trace: the linker's own wait,
 * and a little for the loop that ends it. */
#define HOLD_NS (LINKER_WAIT_NS + 100 * 1000000ull)
#define NS	1000000000ull

struct stream_key {
	uint32_t tgid, fd;
};

struct stream {
	struct log_stream s;
	struct stream_key key;
};

/* Per process: a bucket of time, refilled one ns per ns up to a second; each
 * record costs a second / rate. */
struct rate_state {
	uint64_t budget_ns;
	uint64_t last_ts;
};

struct held_record {
	struct log_record rec;
	char *body; /* malloc'ed copy */
	uint64_t deadline;
};

struct logs {
	struct logs_opts o;
	struct lru_map streams; /* stream_key → struct stream */
	struct lru_map rates;	/* tgid → struct rate_state */
	struct log_lines_opts lines;
	struct logs_stats stats;
	struct stream_key current; /* the stream whose records are being handed out */
	char *utf8;		   /* room for a record made valid UTF-8 */
	struct held_record held[LOGS_HELD_MAX];
	uint32_t held_head, held_count;
	uint64_t now;
};

static void on_record(void *ctx, const struct log_line_record *r);

struct logs *logs_new(const struct logs_opts *o)
{
	struct logs *lg = calloc(1, sizeof(*lg));

	if (!lg)
		return NULL;
	lg->o = *o;
	if (!lg->o.max_line)
		lg->o.max_line = LOGS_DEFAULT_MAX_LINE;
	if (!lg->o.max_streams)
		lg->o.max_streams = LOGS_DEFAULT_STREAMS;
	if (!lg->o.join_ns)
		lg->o.join_ns = LOGS_JOIN_NS;
	if (!lg->o.wait_ns)
		lg->o.wait_ns = LOGS_WAIT_NS;
	lg->lines = (struct log_lines_opts){ .max = lg->o.max_line,
					     .join_ns = lg->o.join_ns,
					     .wait_ns = lg->o.wait_ns,
					     .out = on_record,
					     .out_ctx = lg,
					     .stats = &lg->stats.lines };
	/* Each byte may become U+FFFD, three. */
	lg->utf8 = malloc(3 * (size_t)lg->o.max_line + 1);
	if (!lg->utf8 ||
	    lru_map_init(&lg->streams, sizeof(struct stream_key), sizeof(struct stream),
			 lg->o.max_streams) ||
	    lru_map_init(&lg->rates, sizeof(uint32_t), sizeof(struct rate_state),
			 lg->o.max_streams)) {
		lru_map_destroy(&lg->streams);
		free(lg->utf8);
		free(lg);
		return NULL;
	}
	return lg;
}

/* Whether the process may send one more record now. */
static bool rate_ok(struct logs *lg, uint32_t tgid, uint64_t ts)
{
	struct rate_state *r;
	uint64_t cost;

	if (!lg->o.rate)
		return true;
	cost = NS / lg->o.rate;
	r = lru_map_get(&lg->rates, &tgid, true);
	if (!r) {
		r = lru_map_put(&lg->rates, &tgid, NULL);
		r->budget_ns = NS;
		r->last_ts = ts;
	}
	if (ts > r->last_ts) {
		r->budget_ns += ts - r->last_ts;
		if (r->budget_ns > NS)
			r->budget_ns = NS;
		r->last_ts = ts;
	}
	if (r->budget_ns < cost)
		return false;
	r->budget_ns -= cost;
	return true;
}

static void hand_out(struct logs *lg, const struct log_record *rec)
{
	lg->stats.records++;
	lg->stats.in_request += rec->in_request;
	lg->o.out(lg->o.out_ctx, rec);
}

/* A record whose trace is not settled: it waits in the hold (a copy). */
static void hold(struct logs *lg, const struct log_record *rec)
{
	struct held_record *h;

	if (lg->held_count == LOGS_HELD_MAX) {
		lg->stats.held_full++;
		hand_out(lg, rec);
		return;
	}
	h = &lg->held[(lg->held_head + lg->held_count) % LOGS_HELD_MAX];
	h->body = malloc(rec->len ? rec->len : 1);
	if (!h->body) {
		hand_out(lg, rec);
		return;
	}
	memcpy(h->body, rec->body, rec->len);
	h->rec = *rec;
	h->rec.body = h->body;
	h->deadline = rec->ts + HOLD_NS;
	lg->held_count++;
	lg->stats.held++;
}

static void on_record(void *ctx, const struct log_line_record *r)
{
	struct logs *lg = ctx;
	struct log_record rec = {
		.tgid = lg->current.tgid,
		.fd = lg->current.fd,
		.ts = r->ts,
		.time_ns = r->time_ns,
		.cut = r->cut,
		.in_request = r->ctx_state != LINKER_CTX_NONE,
		.ctx = r->ctx,
	};

	if (!rate_ok(lg, rec.tgid, r->ts)) {
		lg->stats.rate_limited++;
		return;
	}
	log_severity_parse(r->body, r->len, &rec.severity);
	rec.len = utf8_sanitize(lg->utf8, 3 * (size_t)lg->o.max_line + 1, r->body, r->len);
	rec.body = lg->utf8;
	if (r->ctx_state == LINKER_CTX_PENDING)
		hold(lg, &rec);
	else
		hand_out(lg, &rec);
}

static void stream_tick(struct logs *lg, struct stream *st, bool complete, bool all)
{
	lg->current = st->key;
	log_stream_tick(&st->s, lg->now, complete, all, &lg->lines);
}

/* Sends what the stream holds and frees its buffer; the caller removes it. */
static void stream_drop(struct logs *lg, struct stream *st)
{
	stream_tick(lg, st, true, true);
	free(st->s.buf);
	st->s.buf = NULL;
}

static struct stream *stream_for(struct logs *lg, struct stream_key k)
{
	struct stream *st = lru_map_get(&lg->streams, &k, true);
	char *buf;

	if (st)
		return st;
	if (lg->streams.count == lg->streams.cap) {
		const void *old_key;
		struct stream *old = lru_map_oldest(&lg->streams, &old_key);
		struct stream_key ok = *(const struct stream_key *)old_key;

		lg->stats.streams_evicted++;
		stream_drop(lg, old);
		lru_map_del(&lg->streams, &ok);
	}
	buf = malloc(LOG_STREAM_BUF(lg->o.max_line));
	if (!buf)
		return NULL;
	st = lru_map_put(&lg->streams, &k, NULL);
	log_stream_init(&st->s, buf, lg->o.max_line);
	st->key = k;
	return st;
}

void logs_write(void *ctx, const struct log_write *w)
{
	struct logs *lg = ctx;
	struct stream_key k = { .tgid = w->tgid, .fd = w->fd };
	struct stream *st;
	struct log_chunk c = {
		.data = w->data,
		.captured = w->captured,
		.total = w->total,
		.stream_pos = w->stream_pos,
		.ts = w->ts,
		.time_ns = w->time_ns,
		.writer = w->writer,
		.ctx_state = w->ctx_state,
		.ctx = w->ctx,
	};

	lg->stats.writes++;
	lg->stats.bytes += w->total;
	if (w->ts > lg->now)
		lg->now = w->ts;
	st = stream_for(lg, k);
	if (!st)
		return;
	lg->current = k;
	log_stream_feed(&st->s, &c, &lg->lines);
}

void logs_span_end(void *ctx, uint32_t tgid)
{
	struct logs *lg = ctx;

	for (uint32_t fd = 1; fd <= 2; fd++) {
		struct stream_key k = { .tgid = tgid, .fd = fd };
		struct stream *st = lru_map_get(&lg->streams, &k, false);

		if (st && st->s.has_rec)
			stream_tick(lg, st, true, false);
	}
}

void logs_exit(void *ctx, uint32_t tgid)
{
	struct logs *lg = ctx;

	for (uint32_t fd = 1; fd <= 2; fd++) {
		struct stream_key k = { .tgid = tgid, .fd = fd };
		struct stream *st = lru_map_get(&lg->streams, &k, false);

		if (!st)
			continue;
		stream_drop(lg, st);
		lru_map_del(&lg->streams, &k);
	}
	lru_map_del(&lg->rates, &tgid);
}

struct tick_sweep {
	struct logs *lg;
	bool all;
};

static bool tick_one(void *ctx, const void *key, void *value)
{
	struct tick_sweep *ts = ctx;
	struct stream *st = value;

	(void)key;
	if (log_stream_idle(&st->s))
		return false;
	stream_tick(ts->lg, st, false, ts->all);
	return false;
}

/* Held records whose trace is known now, or whose wait is over. In order:
 * the first still waiting stops the rest only while it is itself in time. */
static void release_held(struct logs *lg, bool force)
{
	uint32_t n = lg->held_count;

	for (uint32_t i = 0; i < n; i++) {
		struct held_record h = lg->held[lg->held_head];
		struct linker_ctx ctx;
		enum linker_ctx_state st =
			lg->o.resolve ? lg->o.resolve(lg->o.resolve_ctx, h.rec.ctx.span_id, &ctx)
				      : LINKER_CTX_FINAL;

		lg->held_head = (lg->held_head + 1) % LOGS_HELD_MAX;
		lg->held_count--;
		if (st == LINKER_CTX_PENDING && !force && lg->now < h.deadline) {
			lg->held[(lg->held_head + lg->held_count) % LOGS_HELD_MAX] = h;
			lg->held_count++;
			continue;
		}
		if (st != LINKER_CTX_NONE && lg->o.resolve)
			h.rec.ctx = ctx;
		hand_out(lg, &h.rec);
		free(h.body);
	}
}

void logs_tick(struct logs *lg, uint64_t now, bool force)
{
	struct tick_sweep ts = { lg, force };

	if (now > lg->now)
		lg->now = now;
	lru_map_sweep(&lg->streams, tick_one, &ts);
	if (lg->held_count)
		release_held(lg, force);
}

void logs_free(struct logs *lg)
{
	if (!lg)
		return;
	logs_tick(lg, UINT64_MAX, true);
	while (lg->streams.count) {
		const void *key;
		struct stream *st = lru_map_oldest(&lg->streams, &key);
		struct stream_key k = *(const struct stream_key *)key;

		free(st->s.buf);
		lru_map_del(&lg->streams, &k);
	}
	lru_map_destroy(&lg->streams);
	lru_map_destroy(&lg->rates);
	free(lg->utf8);
	free(lg);
}

void logs_get_stats(const struct logs *lg, struct logs_stats *out)
{
	*out = lg->stats;
}
