/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "protocols/http1/http1_spans.h"
#include "spans/span_attrs.h"

struct http1_pending {
	struct http1_pending *next;
	bool is_head;	 /* HEAD: the response has no body (RFC 9110 §9.3.2) */
	bool is_connect; /* CONNECT: a 2xx turns the connection into a tunnel */
	bool h2c;	 /* asks to upgrade to HTTP/2 (Upgrade: h2c) */
	struct span sp;
};

struct feed_ctx {
	struct http1_session *s;
	const struct http1_sink *sink;
};

/* Whether the value was cut to fit; made valid UTF-8 on the way in. */
static bool copy_str(char *dst, size_t cap, struct http1_str v)
{
	return span_set_text(dst, cap, v.ptr, v.len);
}

static bool str_is(struct http1_str v, const char *s)
{
	return v.len == strlen(s) && memcmp(v.ptr, s, v.len) == 0;
}

static struct http1_pending *pop_oldest(struct http1_session *s)
{
	struct http1_pending *p = s->head;

	if (!p)
		return NULL;
	s->head = p->next;
	if (!s->head)
		s->tail = NULL;
	s->npending--;
	if (s->reading == p)
		s->reading = NULL;
	if (s->answering == p)
		s->answering = NULL;
	return p;
}

/* A zeroed request, from the pool if it has one. */
static struct http1_pending *pending_new(const struct http1_sink *sink)
{
	struct http1_pool *pool = sink->pool;
	struct http1_pending *p;

	if (!pool || !pool->free)
		return calloc(1, sizeof(*p));
	p = pool->free;
	pool->free = p->next;
	pool->n--;
	memset(p, 0, sizeof(*p));
	return p;
}

static void pending_release(const struct http1_sink *sink, struct http1_pending *p)
{
	struct http1_pool *pool = sink->pool;

	if (!p)
		return;
	if (!pool || pool->n >= HTTP1_POOL_MAX) {
		free(p);
		return;
	}
	p->next = pool->free;
	pool->free = p;
	pool->n++;
}

void http1_pool_drain(struct http1_pool *pool)
{
	while (pool->free) {
		struct http1_pending *p = pool->free;

		pool->free = p->next;
		free(p);
	}
	pool->n = 0;
}

static void emit(const struct http1_sink *sink, struct http1_pending *p)
{
	sink->stats->spans++;
	sink->out->emit(sink->out->ctx, &p->sp);
}

static const struct http1_callbacks response_cbs;

static int on_request_head(void *ctx, const struct http1_head *head)
{
	struct feed_ctx *fc = ctx;
	struct http1_session *s = fc->s;
	struct http1_pending *p;

	/* A new request means the previous response is over, even if its framing
	 * was lost in a capture gap. */
	http1_parser_flush(&s->responses, &response_cbs, fc);
	if (s->npending >= HTTP1_MAX_PENDING) {
		pending_release(fc->sink, pop_oldest(s));
		fc->sink->stats->pending_dropped++;
	}
	p = pending_new(fc->sink);
	if (!p) {
		fc->sink->stats->pending_dropped++;
		return 0;
	}
	p->sp.kind = s->server ? SPAN_SERVER : SPAN_CLIENT;
	copy_str(p->sp.method, sizeof(p->sp.method), head->method);
	if (copy_str(p->sp.target, sizeof(p->sp.target), head->target))
		p->sp.flags |= SPAN_F_TARGET_TRUNCATED;
	copy_str(p->sp.host, sizeof(p->sp.host), head->host);
	copy_str(p->sp.user_agent, sizeof(p->sp.user_agent), head->user_agent);
	copy_str(p->sp.traceparent, sizeof(p->sp.traceparent), head->traceparent);
	p->sp.version_minor = head->version_minor;
	p->sp.start_ns = head->begin_ts;
	p->sp.exchange_kind = head->begin_seq_kind;
	p->sp.exchange = head->begin_seq;
	if (head->truncated)
		p->sp.flags |= SPAN_F_HEAD_TRUNCATED;
	p->is_head = str_is(head->method, "HEAD");
	p->is_connect = str_is(head->method, "CONNECT");
	p->h2c = head->upgrade_h2c;

	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->npending++;
	s->reading = p;
	if (fc->sink->out->begin)
		fc->sink->out->begin(fc->sink->out->ctx, &p->sp);
	return 0;
}

static void on_request_end(void *ctx, const struct http1_end *end)
{
	struct feed_ctx *fc = ctx;
	struct http1_pending *p = fc->s->reading;

	if (end->flags & HTTP1_END_LOST_SYNC)
		fc->sink->stats->lost_sync++;
	if (!p)
		return;
	p->sp.request_body_bytes = end->body_bytes;
	if (end->flags & HTTP1_END_LOST_SYNC)
		p->sp.flags |= SPAN_F_LOST_SYNC;
	fc->s->reading = NULL;
}

static int on_response_head(void *ctx, const struct http1_head *head)
{
	struct feed_ctx *fc = ctx;
	struct http1_session *s = fc->s;
	struct http1_pending *p = s->head;

	s->answering = p;
	s->answering_interim = false;
	if (!p) {
		fc->sink->stats->orphan_responses++;
		return 0;
	}
	/* 1xx other than 101 are interim: the final response follows (RFC 9110 §15.2). */
	if (head->status >= 100 && head->status < 200 && head->status != 101) {
		s->answering_interim = true;
		return 0;
	}
	p->sp.status = head->status;
	if (head->truncated)
		p->sp.flags |= SPAN_F_HEAD_TRUNCATED;
	if (p->is_head)
		return HTTP1_HEAD_NO_BODY;
	if (p->is_connect && head->status >= 200 && head->status < 300)
		return HTTP1_HEAD_TUNNEL;
	return 0;
}

static void on_response_end(void *ctx, const struct http1_end *end)
{
	struct feed_ctx *fc = ctx;
	struct http1_session *s = fc->s;
	struct http1_pending *p = s->answering;
	bool switched;

	if (end->flags & HTTP1_END_LOST_SYNC)
		fc->sink->stats->lost_sync++;
	s->answering = NULL;
	if (!p || s->answering_interim || p != s->head)
		return;
	pop_oldest(s);
	p->sp.response_body_bytes = end->body_bytes;
	p->sp.end_ns = end->end_ts;
	if (end->flags & HTTP1_END_LOST_SYNC)
		p->sp.flags |= SPAN_F_LOST_SYNC;
	switched =
		p->sp.status == 101 || (p->is_connect && p->sp.status >= 200 && p->sp.status < 300);
	if (p->sp.status == 101 && p->h2c && !s->h2c_request) {
		/* Not a span yet: its real response comes over HTTP/2. */
		s->h2c_request = malloc(sizeof(*s->h2c_request));
		if (s->h2c_request)
			*s->h2c_request = p->sp;
	} else {
		emit(fc->sink, p);
	}
	pending_release(fc->sink, p);
	if (switched) {
		/* The connection now speaks another protocol. */
		s->upgraded = true;
		http1_parser_upgrade(&s->requests);
		http1_parser_upgrade(&s->responses);
	}
}

static const struct http1_callbacks request_cbs = {
	.on_head = on_request_head,
	.on_end = on_request_end,
};

static const struct http1_callbacks response_cbs = {
	.on_head = on_response_head,
	.on_end = on_response_end,
};

void http1_session_init(struct http1_session *s, bool server)
{
	memset(s, 0, sizeof(*s));
	s->server = server;
	http1_parser_init(&s->requests, HTTP1_REQUEST);
	http1_parser_init(&s->responses, HTTP1_RESPONSE);
}

void http1_session_free(struct http1_session *s)
{
	struct http1_pending *p;

	while ((p = pop_oldest(s)))
		free(p);
	free(s->h2c_request);
	s->h2c_request = NULL;
	http1_parser_free(&s->requests);
	http1_parser_free(&s->responses);
}

void http1_session_feed(struct http1_session *s, const struct protocol_bytes *b,
			const struct http1_sink *sink)
{
	struct feed_ctx fc = { .s = s, .sink = sink };
	bool requests = b->ingress == s->server;
	struct http1_parser *p = requests ? &s->requests : &s->responses;
	int err;

	if (s->upgraded)
		return;
	p->feed_seq = b->seq;
	p->feed_seq_kind = b->seq_kind;
	err = http1_parser_feed(p, b->data, b->captured, b->total, b->ts,
				requests ? &request_cbs : &response_cbs, &fc);
	if (!requests && s->h2c_request && s->responses.upgraded_at != SIZE_MAX)
		s->h2c_offset = s->responses.upgraded_at;
	if (err)
		sink->stats->parse_errors++;
}

void http1_session_close(struct http1_session *s, uint64_t ts, const struct http1_sink *sink)
{
	struct feed_ctx fc = { .s = s, .sink = sink };
	struct http1_pending *p;

	http1_parser_close(&s->requests, ts, &request_cbs, &fc);
	http1_parser_close(&s->responses, ts, &response_cbs, &fc);
	/* What is still queued never got an answer: report it, it is what a user
	 * debugging resets and timeouts wants to see. */
	while ((p = pop_oldest(s))) {
		p->sp.flags |= SPAN_F_NO_RESPONSE;
		p->sp.end_ns = ts;
		emit(sink, p);
		pending_release(sink, p);
	}
}
