/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "sonde_event.h"
#include "protocols/http2/http2_spans.h"
#include "protocols/http2/grpc.h"

#define DIR_IN	0 /* read by the traced process */
#define DIR_OUT 1 /* written by it */

/* RFC 9113 §7 */
#define H2_REFUSED_STREAM 0x7

struct h2_stream {
	struct h2_stream *hash_next;
	struct h2_stream *prev, *next; /* open order */
	uint32_t id;
	bool response_seen; /* final response headers (not 1xx) */
	struct span sp;
};

/* The fields of one header block sonde keeps; values copied, NUL-terminated. */
struct h2_fields {
	char method[SPAN_METHOD_LEN];
	char path[SPAN_TARGET_LEN];
	char authority[SPAN_HOST_LEN];
	char host[SPAN_HOST_LEN];
	char user_agent[SPAN_UA_LEN];
	char traceparent[SPAN_TRACEPARENT_LEN];
	int status;	  /* :status, -1 when absent or unknown */
	int grpc_status;  /* -1 when absent or unknown */
	bool grpc;	  /* content-type application/grpc… */
	bool path_cut;	  /* :path longer than SPAN_TARGET_LEN - 1 */
	bool unknown;	  /* some fields could not be decoded */
	bool bad_method;  /* :method is no token: a malformed request */
	uint32_t dynamic; /* bit per field below: its text came from the dynamic table */
};

enum field_bit {
	FB_METHOD = 1u << 0,
	FB_PATH = 1u << 1,
	FB_AUTHORITY = 1u << 2,
	FB_HOST = 1u << 3,
	FB_UA = 1u << 4,
	FB_TRACEPARENT = 1u << 5,
	FB_STATUS = 1u << 6,
	FB_GRPC_STATUS = 1u << 7,
	FB_GRPC = 1u << 8,
};

struct feed_ctx {
	struct http2_session *s;
	const struct http2_sink *sink;
	int dir;
};

static int dir_of(bool ingress)
{
	return ingress ? DIR_IN : DIR_OUT;
}

/* Requests are read by servers and written by clients. */
static int request_dir(const struct http2_session *s)
{
	return s->role == SONDE_ROLE_CLIENT ? DIR_OUT : DIR_IN;
}

/* ---- open streams ---- */

static struct h2_stream *stream_find(struct http2_session *s, uint32_t id)
{
	struct h2_stream *st = s->buckets[id % H2_BUCKETS];

	while (st && st->id != id)
		st = st->hash_next;
	return st;
}

static void stream_unlink(struct http2_session *s, struct h2_stream *st)
{
	struct h2_stream **pp = &s->buckets[st->id % H2_BUCKETS];

	while (*pp && *pp != st)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = st->hash_next;
	if (st->prev)
		st->prev->next = st->next;
	else
		s->oldest = st->next;
	if (st->next)
		st->next->prev = st->prev;
	else
		s->newest = st->prev;
	s->nstreams--;
}

static struct h2_stream *stream_open(struct http2_session *s, uint32_t id,
				     const struct http2_sink *sink)
{
	struct h2_stream *st;

	if (s->nstreams >= H2_MAX_STREAMS) {
		/* Most likely a stream whose end went unseen: the oldest goes. */
		st = s->oldest;
		stream_unlink(s, st);
		free(st);
		sink->stats->streams_dropped++;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		sink->stats->streams_dropped++;
		return NULL;
	}
	st->id = id;
	st->sp.kind = s->role == SONDE_ROLE_CLIENT ? SPAN_CLIENT : SPAN_SERVER;
	st->sp.version_major = 2;
	st->sp.stream_id = id;
	st->hash_next = s->buckets[id % H2_BUCKETS];
	s->buckets[id % H2_BUCKETS] = st;
	st->prev = s->newest;
	if (s->newest)
		s->newest->next = st;
	else
		s->oldest = st;
	s->newest = st;
	s->nstreams++;
	if (id > s->last_opened)
		s->last_opened = id;
	return st;
}

/* The span is complete: out it goes and the stream is forgotten. */
static void stream_finish(struct http2_session *s, struct h2_stream *st, uint64_t ts,
			  const struct http2_sink *sink)
{
	struct span *sp = &st->sp;

	sp->end_ns = ts;
	/* No grpc-status, but an HTTP status that is not 200 (a proxy's
	 * answer): the status a gRPC client reports for it. */
	if ((sp->flags & SPAN_F_GRPC) && !(sp->flags & SPAN_F_GRPC_STATUS) && sp->status &&
	    sp->status != 200) {
		sp->grpc_status = (uint8_t)grpc_status_from_http(sp->status);
		sp->flags |= SPAN_F_GRPC_STATUS;
	}
	stream_unlink(s, st);
	sink->stats->spans++;
	sink->out->emit(sink->out->ctx, sp);
	free(st);
}

/* Ended by RST_STREAM or by a GOAWAY that left it unprocessed. */
static void stream_reset(struct http2_session *s, struct h2_stream *st, uint32_t h2_error,
			 uint64_t ts, const struct http2_sink *sink)
{
	st->sp.flags |= SPAN_F_RESET;
	if (!st->response_seen)
		st->sp.flags |= SPAN_F_NO_RESPONSE;
	if ((st->sp.flags & SPAN_F_GRPC) && !(st->sp.flags & SPAN_F_GRPC_STATUS)) {
		st->sp.grpc_status = (uint8_t)grpc_status_from_h2_error(h2_error);
		st->sp.flags |= SPAN_F_GRPC_STATUS;
	}
	stream_finish(s, st, ts, sink);
}

/* ---- header fields ---- */

/* A field value into a span's text, made valid UTF-8 on the way in. */
static void copy_field(char *dst, size_t cap, const struct hpack_field *f, bool *cut)
{
	bool was_cut = span_set_text(dst, cap, f->value, f->value_len);

	if (cut)
		*cut = was_cut;
}

static bool name_is(const struct hpack_field *f, const char *name)
{
	return f->name_len == strlen(name) && memcmp(f->name, name, f->name_len) == 0;
}

static int parse_status(const char *v, size_t len)
{
	int n = 0;

	/* RFC 9113 §8.3.2: three digits. */
	if (len != 3)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

static void on_field(void *ctx, const struct hpack_field *f)
{
	struct h2_fields *h = ctx;
	uint32_t bit = 0;

	if (f->flags & HPACK_F_VALUE_UNKNOWN) {
		h->unknown = true;
		return;
	}
	/* Only what spans show is kept: credentials and cookies never are. */
	if (name_is(f, ":method")) {
		/* A method is a token (RFC 9110 §9.1): anything else makes the
		 * request malformed (RFC 9113 §8.1.1), not a span. */
		if (!span_is_token(f->value, f->value_len) || f->value_len >= sizeof(h->method))
			h->bad_method = true;
		else
			copy_field(h->method, sizeof(h->method), f, NULL);
		bit = FB_METHOD;
	} else if (name_is(f, ":path")) {
		copy_field(h->path, sizeof(h->path), f, &h->path_cut);
		bit = FB_PATH;
	} else if (name_is(f, ":authority")) {
		copy_field(h->authority, sizeof(h->authority), f, NULL);
		bit = FB_AUTHORITY;
	} else if (name_is(f, "host")) {
		copy_field(h->host, sizeof(h->host), f, NULL);
		bit = FB_HOST;
	} else if (name_is(f, "user-agent")) {
		copy_field(h->user_agent, sizeof(h->user_agent), f, NULL);
		bit = FB_UA;
	} else if (name_is(f, "traceparent")) {
		copy_field(h->traceparent, sizeof(h->traceparent), f, NULL);
		bit = FB_TRACEPARENT;
	} else if (name_is(f, ":status")) {
		h->status = parse_status(f->value, f->value_len);
		bit = FB_STATUS;
	} else if (name_is(f, "grpc-status")) {
		h->grpc_status = grpc_parse_status(f->value, f->value_len);
		bit = FB_GRPC_STATUS;
	} else if (name_is(f, "content-type")) {
		h->grpc = grpc_is_content_type(f->value, f->value_len);
		bit = FB_GRPC;
	}
	if (f->flags & HPACK_F_DYNAMIC)
		h->dynamic |= bit;
	else
		h->dynamic &= ~bit;
}

/* A block that showed the table out of sync: what it took from the table may
 * be wrong, so it is dropped; literals and static entries stand. */
static void drop_dynamic(struct h2_fields *h)
{
	if (h->dynamic & FB_METHOD)
		h->method[0] = '\0';
	if (h->dynamic & FB_PATH)
		h->path[0] = '\0';
	if (h->dynamic & FB_AUTHORITY)
		h->authority[0] = '\0';
	if (h->dynamic & FB_HOST)
		h->host[0] = '\0';
	if (h->dynamic & FB_UA)
		h->user_agent[0] = '\0';
	if (h->dynamic & FB_TRACEPARENT)
		h->traceparent[0] = '\0';
	if (h->dynamic & FB_STATUS)
		h->status = -1;
	if (h->dynamic & FB_GRPC_STATUS)
		h->grpc_status = -1;
	if (h->dynamic & FB_GRPC)
		h->grpc = false;
	if (h->dynamic)
		h->unknown = true;
}

static void mark_degraded(struct http2_session *s, const struct http2_sink *sink)
{
	if (!s->degraded)
		sink->stats->conns_degraded++;
	s->degraded = true;
}

/* On a direction's first header block (or first loss): its table is whole
 * only if the direction's start was seen, the client preface or the server's
 * SETTINGS; otherwise the connection was under way before sonde started. */
static void hpack_start(struct feed_ctx *fc)
{
	struct http2_session *s = fc->s;
	const struct h2_parser *p = &s->parser[fc->dir];

	if (s->hpack_started[fc->dir])
		return;
	s->hpack_started[fc->dir] = true;
	if (p->saw_preface || p->first_settings)
		s->hpack[fc->dir].partial = false;
	else
		mark_degraded(s, fc->sink);
}

/* Decodes a block into h; h->unknown tells whether anything was missed. */
static void decode_block(struct feed_ctx *fc, const struct h2_block *b, struct h2_fields *h)
{
	struct http2_session *s = fc->s;
	struct hpack_decoder *d = &s->hpack[fc->dir];
	struct http2_stats *st = fc->sink->stats;
	struct hpack_result res;

	memset(h, 0, sizeof(*h));
	h->status = -1;
	h->grpc_status = -1;
	hpack_start(fc);
	if (b->lost) {
		st->blocks_lost++;
		if (!d->partial)
			st->hpack_desyncs++;
		hpack_lose(d);
		mark_degraded(s, fc->sink);
		h->unknown = true;
		return;
	}
	st->blocks++;
	if (hpack_decode(d, b->block, b->len, on_field, h, &res)) {
		st->hpack_desyncs++;
		mark_degraded(s, fc->sink);
		drop_dynamic(h);
	}
	if (res.resync)
		st->hpack_resyncs++;
	st->fields_unknown += res.unknown;
	if (res.unknown)
		h->unknown = true;
}

static void take_request(struct h2_stream *st, const struct h2_fields *h, const struct h2_block *b)
{
	struct span *sp = &st->sp;

	sp->start_ns = b->begin_ts;
	sp->end_ns = b->end_ts;
	_Static_assert(sizeof(h->path) == sizeof(sp->target), "same bounds as HTTP/1");
	memcpy(sp->method, h->method, sizeof(sp->method));
	memcpy(sp->target, h->path, sizeof(sp->target));
	if (h->path_cut)
		sp->flags |= SPAN_F_TARGET_TRUNCATED;
	/* RFC 9113 §8.3.1: :authority stands for Host. */
	memcpy(sp->host, h->authority[0] ? h->authority : h->host, sizeof(sp->host));
	memcpy(sp->user_agent, h->user_agent, sizeof(sp->user_agent));
	memcpy(sp->traceparent, h->traceparent, sizeof(sp->traceparent));
	if (h->grpc)
		sp->flags |= SPAN_F_GRPC;
	if (h->unknown)
		sp->flags |= SPAN_F_HEAD_TRUNCATED;
}

static void take_response(struct http2_session *s, struct h2_stream *st, const struct h2_fields *h,
			  const struct h2_block *b, const struct http2_sink *sink)
{
	struct span *sp = &st->sp;

	sp->end_ns = b->end_ts;
	if (h->unknown)
		sp->flags |= SPAN_F_HEAD_TRUNCATED;
	if (!st->response_seen) {
		/* §8.1: 1xx responses are interim; the final one follows. */
		if (h->status >= 100 && h->status < 200 && !b->end_stream)
			return;
		st->response_seen = true;
		if (h->status > 0)
			sp->status = (uint16_t)h->status;
		else
			sp->flags |= SPAN_F_STATUS_UNKNOWN;
		if (h->grpc)
			sp->flags |= SPAN_F_GRPC;
	}
	/* Trailers, or a trailers-only response (status and grpc-status at once). */
	if (h->grpc_status >= 0) {
		sp->grpc_status = (uint8_t)h->grpc_status;
		sp->flags |= SPAN_F_GRPC | SPAN_F_GRPC_STATUS;
	}
	if (b->end_stream)
		stream_finish(s, st, b->end_ts, sink);
}

/* A connection seen mid-way tells its role by what it carries: requests
 * have :method, responses :status; failing both, the first block of a new
 * client stream is its request. */
static void infer_role(struct http2_session *s, int dir, const struct h2_fields *h,
		       const struct h2_block *b)
{
	int req_dir;

	if (h->method[0])
		req_dir = dir;
	else if (h->status > 0)
		req_dir = !dir;
	else if ((b->stream & 1) && b->stream > s->last_opened && !stream_find(s, b->stream))
		req_dir = dir;
	else
		return;
	s->role = req_dir == DIR_IN ? SONDE_ROLE_SERVER : SONDE_ROLE_CLIENT;
}

static void on_block(void *ctx, const struct h2_block *b)
{
	struct feed_ctx *fc = ctx;
	struct http2_session *s = fc->s;
	struct h2_fields h;
	struct h2_stream *st;

	/* Decoded even when no span needs it: the table must stay in step. */
	decode_block(fc, b, &h);
	if (b->promised)
		return; /* PUSH_PROMISE: server push is not traced */
	if (s->role == SONDE_ROLE_UNKNOWN)
		infer_role(s, fc->dir, &h, b);
	if (s->role == SONDE_ROLE_UNKNOWN)
		return;
	st = stream_find(s, b->stream);
	if (fc->dir == request_dir(s)) {
		if (st)
			return; /* trailers of a streaming request */
		/* Client streams are odd and only ever increase (§5.1.1): a lower
		 * id is a stream that already ended. */
		if (!(b->stream & 1) || b->stream <= s->last_opened)
			return;
		if (h.bad_method) {
			fc->sink->stats->malformed++;
			return;
		}
		st = stream_open(s, b->stream, fc->sink);
		if (!st)
			return;
		take_request(st, &h, b);
		/* Both ends of a connection number its streams alike. */
		st->sp.exchange_kind = SPAN_EXCHANGE_H2_STREAM;
		st->sp.exchange = b->stream;
		if (fc->sink->out->begin)
			fc->sink->out->begin(fc->sink->out->ctx, &st->sp);
		return;
	}
	if (!st) {
		fc->sink->stats->orphan_responses++;
		return;
	}
	take_response(s, st, &h, b, fc->sink);
}

static void on_data(void *ctx, uint32_t stream, uint64_t bytes, bool end_stream, uint64_t ts)
{
	struct feed_ctx *fc = ctx;
	struct http2_session *s = fc->s;
	struct h2_stream *st = stream_find(s, stream);

	if (!st || s->role == SONDE_ROLE_UNKNOWN)
		return;
	if (fc->dir == request_dir(s)) {
		st->sp.request_body_bytes += bytes;
		return;
	}
	st->sp.response_body_bytes += bytes;
	st->sp.end_ns = ts;
	if (end_stream)
		stream_finish(s, st, ts, fc->sink);
}

static void on_rst_stream(void *ctx, uint32_t stream, uint32_t error_code, uint64_t ts)
{
	struct feed_ctx *fc = ctx;
	struct h2_stream *st = stream_find(fc->s, stream);

	if (st)
		stream_reset(fc->s, st, error_code, ts, fc->sink);
}

static void on_goaway(void *ctx, uint32_t last_stream, uint32_t error_code, uint64_t ts)
{
	struct feed_ctx *fc = ctx;
	struct http2_session *s = fc->s;
	struct h2_stream *st, *next;

	(void)error_code;
	/* §6.8: the server will not process client streams above last_stream;
	 * a client's GOAWAY only concerns pushed streams, which are not traced. */
	if (s->role == SONDE_ROLE_UNKNOWN || fc->dir == request_dir(s))
		return;
	for (st = s->oldest; st; st = next) {
		next = st->next;
		if (st->id > last_stream)
			stream_reset(s, st, H2_REFUSED_STREAM, ts, fc->sink);
	}
}

static void on_setting(void *ctx, uint16_t id, uint32_t value)
{
	struct feed_ctx *fc = ctx;

	/* A peer's SETTINGS_MAX_FRAME_SIZE bounds the frames sent to it (the other
	 * direction); it helps tell frame headers from other bytes. */
	if (id == H2_SETTINGS_MAX_FRAME_SIZE && value >= H2_DEFAULT_MAX_FRAME && value < (1u << 24))
		fc->s->parser[!fc->dir].max_frame = value;
}

static void on_sync(void *ctx, bool resync)
{
	struct feed_ctx *fc = ctx;
	struct http2_session *s = fc->s;

	if (resync)
		return;
	/* Header blocks may have gone by with the lost frames. */
	fc->sink->stats->frame_sync_lost++;
	hpack_start(fc);
	if (!s->hpack[fc->dir].partial)
		fc->sink->stats->hpack_desyncs++;
	hpack_lose(&s->hpack[fc->dir]);
	mark_degraded(s, fc->sink);
}

static const struct h2_callbacks callbacks = {
	.on_block = on_block,
	.on_data = on_data,
	.on_rst_stream = on_rst_stream,
	.on_goaway = on_goaway,
	.on_setting = on_setting,
	.on_sync = on_sync,
};

void http2_session_init(struct http2_session *s, uint8_t role, bool from_start)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	for (int d = 0; d < 2; d++) {
		h2_parser_init(&s->parser[d], from_start);
		/* Partial until the direction's start is seen (decode_block). */
		hpack_init(&s->hpack[d], true);
	}
}

void http2_session_free(struct http2_session *s)
{
	struct h2_stream *st, *next;

	for (st = s->oldest; st; st = next) {
		next = st->next;
		free(st);
	}
	s->oldest = s->newest = NULL;
	s->nstreams = 0;
	for (int d = 0; d < 2; d++) {
		h2_parser_free(&s->parser[d]);
		hpack_free(&s->hpack[d]);
	}
}

void http2_session_feed(struct http2_session *s, bool ingress, const uint8_t *data, size_t captured,
			uint64_t total, uint64_t ts, const struct http2_sink *sink)
{
	struct feed_ctx fc = { .s = s, .sink = sink, .dir = dir_of(ingress) };

	h2_parser_feed(&s->parser[fc.dir], data, captured, total, ts, &callbacks, &fc);
}

void http2_session_upgraded(struct http2_session *s, const struct span *request)
{
	struct http2_stats ignored = { 0 };
	struct http2_sink sink = { .stats = &ignored };
	struct h2_stream *st;

	if (s->role == SONDE_ROLE_UNKNOWN)
		s->role = request->kind == SPAN_CLIENT ? SONDE_ROLE_CLIENT : SONDE_ROLE_SERVER;
	st = stream_open(s, 1, &sink);
	if (!st)
		return;
	st->sp = *request;
	st->sp.version_major = 2;
	st->sp.stream_id = 1;
	st->sp.status = 0;
	st->sp.response_body_bytes = 0;
	st->sp.flags &= ~SPAN_F_NO_RESPONSE;
}

void http2_session_close(struct http2_session *s, uint64_t ts, const struct http2_sink *sink)
{
	struct h2_stream *st;

	while ((st = s->oldest)) {
		if (!st->response_seen) {
			st->sp.flags |= SPAN_F_NO_RESPONSE;
			stream_finish(s, st, ts, sink);
		} else {
			/* The response was cut short: it ends at its last byte seen. */
			st->sp.flags |= SPAN_F_LOST_SYNC;
			stream_finish(s, st, st->sp.end_ns, sink);
		}
	}
}
