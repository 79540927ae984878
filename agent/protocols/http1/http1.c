/* SPDX-License-Identifier: MIT */
/*
 * HTTP/1.x message framing (RFC 9112) over captured syscall prefixes.
 * See http1.h for the model: heads are parsed, bodies are counted.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http1/http1.h"

/* Longest chunk-size or trailer line kept across syscalls. */
#define HTTP1_MAX_LINE	 1024
#define HTTP1_MAX_METHOD 16

static const char *const known_methods[] = {
	"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "CONNECT ", "OPTIONS ", "TRACE ", "PATCH ",
};

bool http1_looks_like_start(enum http1_kind kind, const uint8_t *data, size_t len)
{
	if (kind == HTTP1_RESPONSE)
		return len >= 7 && memcmp(data, "HTTP/1.", 7) == 0;
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++) {
		size_t n = strlen(known_methods[i]);

		if (len >= n && memcmp(data, known_methods[i], n) == 0)
			return true;
	}
	return false;
}

/* Whether a fragment too short to judge could still begin a start line. */
static bool could_be_start(enum http1_kind kind, const uint8_t *data, size_t len)
{
	if (kind == HTTP1_RESPONSE) {
		size_t n = len < 7 ? len : 7;

		return memcmp(data, "HTTP/1.", n) == 0;
	}
	for (size_t i = 0; i < len && i <= HTTP1_MAX_METHOD; i++) {
		if (data[i] == ' ')
			return i > 0;
		if (data[i] < 'A' || data[i] > 'Z')
			return false;
	}
	return len <= HTTP1_MAX_METHOD;
}

void http1_parser_init(struct http1_parser *p, enum http1_kind kind)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
}

void http1_parser_free(struct http1_parser *p)
{
	free(p->buf);
	p->buf = NULL;
	p->buf_len = p->buf_cap = 0;
}

/* Appends to the carry-over buffer, up to limit bytes in all. Returns how many
 * bytes were taken. */
static size_t buf_append(struct http1_parser *p, const uint8_t *data, size_t len, size_t limit)
{
	size_t room = limit > p->buf_len ? limit - p->buf_len : 0;
	size_t n = len < room ? len : room;

	if (!n)
		return 0;
	if (p->buf_len + n > p->buf_cap) {
		size_t cap = p->buf_cap ? p->buf_cap : 256;
		char *nb;

		while (cap < p->buf_len + n)
			cap *= 2;
		if (cap > limit)
			cap = limit;
		nb = realloc(p->buf, cap);
		if (!nb)
			return 0;
		p->buf = nb;
		p->buf_cap = (uint32_t)cap;
	}
	memcpy(p->buf + p->buf_len, data, n);
	p->buf_len += (uint32_t)n;
	return n;
}

static void buf_reset(struct http1_parser *p)
{
	/* Keep small buffers for the next message; give large ones back. */
	if (p->buf_cap > 4096) {
		free(p->buf);
		p->buf = NULL;
		p->buf_cap = 0;
	}
	p->buf_len = 0;
}

static void end_message(struct http1_parser *p, uint32_t flags, uint64_t end_ts,
			const struct http1_callbacks *cb, void *ctx)
{
	struct http1_end end = { .body_bytes = p->body_bytes, .end_ts = end_ts, .flags = flags };

	p->in_message = false;
	p->body_bytes = 0;
	p->body_left = 0;
	p->state = HTTP1_S_IDLE;
	buf_reset(p);
	cb->on_end(ctx, &end);
}

/* ---- head parsing ---- */

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* Case-insensitive equality with a lowercase literal. */
static bool ieq(const char *a, size_t alen, const char *lit)
{
	size_t n = strlen(lit);

	if (alen != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != lit[i])
			return false;
	return true;
}

static inline struct http1_str trim(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		len--;
	return (struct http1_str){ s, len };
}

/* Whether a comma-separated header value contains token (case-insensitive). */
static bool has_token(struct http1_str v, const char *token)
{
	size_t i = 0;

	while (i < v.len) {
		size_t start = i;
		struct http1_str t;

		while (i < v.len && v.ptr[i] != ',')
			i++;
		t = trim(v.ptr + start, i - start);
		if (ieq(t.ptr, t.len, token))
			return true;
		i++;
	}
	return false;
}

/* Whether the last transfer coding is chunked (RFC 9112 §6.3 rule 4). */
static bool last_token_is(struct http1_str v, const char *token)
{
	size_t i = v.len;
	struct http1_str t;

	while (i && v.ptr[i - 1] != ',')
		i--;
	t = trim(v.ptr + i, v.len - i);
	return ieq(t.ptr, t.len, token);
}

/* Content-Length: digits only; -2 marks an invalid value. */
static int64_t parse_length(struct http1_str v)
{
	int64_t n = 0;

	if (!v.len)
		return -2;
	for (size_t i = 0; i < v.len; i++) {
		if (v.ptr[i] < '0' || v.ptr[i] > '9' || n > (INT64_MAX - 9) / 10)
			return -2;
		n = n * 10 + (v.ptr[i] - '0');
	}
	return n;
}

static bool parse_version(const char *s, size_t len, uint8_t *minor)
{
	if (len != 8 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9')
		return false;
	*minor = (uint8_t)(s[7] - '0');
	return true;
}

/* Request line: method SP request-target SP HTTP-version (RFC 9112 §3). A cut
 * line (truncated head) keeps what was seen. */
static bool parse_request_line(const char *s, size_t len, bool cut, struct http1_head *h)
{
	const char *sp1 = memchr(s, ' ', len);
	const char *sp2;

	if (!sp1 || sp1 == s || sp1 - s > HTTP1_MAX_METHOD)
		return false;
	for (const char *c = s; c < sp1; c++)
		if (*c < 'A' || *c > 'Z')
			return false;
	h->method = (struct http1_str){ s, (size_t)(sp1 - s) };
	sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - s));
	if (!sp2) {
		if (!cut)
			return false;
		h->target = (struct http1_str){ sp1 + 1, len - (size_t)(sp1 + 1 - s) };
		h->version_minor = 1;
		return h->target.len > 0;
	}
	h->target = (struct http1_str){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	if (!h->target.len)
		return false;
	if (!parse_version(sp2 + 1, len - (size_t)(sp2 + 1 - s), &h->version_minor))
		return cut;
	return true;
}

/* Status line: HTTP-version SP 3DIGIT [SP reason] (RFC 9112 §4). */
static bool parse_status_line(const char *s, size_t len, struct http1_head *h)
{
	if (len < 12 || !parse_version(s, 8, &h->version_minor) || s[8] != ' ')
		return false;
	for (int i = 9; i < 12; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	if (len > 12 && s[12] != ' ')
		return false;
	h->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	return h->status >= 100;
}

/*
 * The field names the parser acts on, by length: a name is compared only with
 * the names of its length, eight bytes at a time. Comparing every field line
 * with each name in turn, a character at a time, was a fifth of the agent's
 * parsing cost per request (callgrind, `make bench`).
 */
enum header_field {
	HF_OTHER,
	HF_HOST,
	HF_USER_AGENT,
	HF_TRACEPARENT,
	HF_CONTENT_TYPE,
	HF_CONTENT_LENGTH,
	HF_TRANSFER_ENCODING,
	HF_CONNECTION,
	HF_UPGRADE,
	HF_EXPECT,
};

/* Eight bytes with ASCII capitals lowered, all at once: a byte's top bit is
 * set when it is 'A'..'Z' and moved down to the case bit (0x20). */
static inline uint64_t lower8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull;
	uint64_t low7 = x & (0x7f * ones);
	uint64_t from_a = low7 + (0x80 - 'A') * ones;	  /* top bit: byte >= 'A' */
	uint64_t past_z = low7 + (0x80 - 'Z' - 1) * ones; /* top bit: byte > 'Z' */

	return x | ((from_a ^ past_z) & ~x & (0x80 * ones)) >> 2;
}

static inline uint64_t load8(const char *s, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, s, n < 8 ? n : 8);
	return v;
}

/* Whether an n-byte field name is the lowercase literal lit (n bytes too),
 * ignoring ASCII case; eight bytes per step, the last step overlapping. */
static inline bool name_is(const char *name, const char *lit, size_t n)
{
	size_t i;

	if (n < 8)
		return lower8(load8(name, n)) == load8(lit, n);
	for (i = 0; i + 8 < n; i += 8)
		if (lower8(load8(name + i, 8)) != load8(lit + i, 8))
			return false;
	return lower8(load8(name + n - 8, 8)) == load8(lit + n - 8, 8);
}

static enum header_field header_field(const char *name, size_t len)
{
	switch (len) {
	case 4:
		return name_is(name, "host", 4) ? HF_HOST : HF_OTHER;
	case 6:
		return name_is(name, "expect", 6) ? HF_EXPECT : HF_OTHER;
	case 7:
		return name_is(name, "upgrade", 7) ? HF_UPGRADE : HF_OTHER;
	case 10:
		if (name_is(name, "user-agent", 10))
			return HF_USER_AGENT;
		return name_is(name, "connection", 10) ? HF_CONNECTION : HF_OTHER;
	case 11:
		return name_is(name, "traceparent", 11) ? HF_TRACEPARENT : HF_OTHER;
	case 12:
		return name_is(name, "content-type", 12) ? HF_CONTENT_TYPE : HF_OTHER;
	case 14:
		return name_is(name, "content-length", 14) ? HF_CONTENT_LENGTH : HF_OTHER;
	case 17:
		return name_is(name, "transfer-encoding", 17) ? HF_TRANSFER_ENCODING : HF_OTHER;
	}
	return HF_OTHER;
}

static void parse_header(const char *s, size_t len, struct http1_head *h, bool *bad_length,
			 struct http1_str *te)
{
	const char *colon = memchr(s, ':', len);
	enum header_field field;
	struct http1_str v;
	int64_t n;

	if (!colon || colon == s)
		return; /* not a field line: ignored, as lenient parsers do */
	field = header_field(s, (size_t)(colon - s));
	if (field == HF_OTHER)
		return;
	v = trim(colon + 1, len - (size_t)(colon + 1 - s));
	switch (field) {
	case HF_HOST:
		h->host = v;
		break;
	case HF_USER_AGENT:
		h->user_agent = v;
		break;
	case HF_TRACEPARENT:
		h->traceparent = v;
		break;
	case HF_CONTENT_TYPE:
		h->content_type = v;
		break;
	case HF_CONTENT_LENGTH:
		n = parse_length(v);
		/* Repeated equal values are allowed; differing ones are not (§6.3). */
		if (n < 0 || (h->content_length >= 0 && h->content_length != n))
			*bad_length = true;
		else
			h->content_length = n;
		break;
	case HF_TRANSFER_ENCODING:
		*te = v;
		break;
	case HF_CONNECTION:
		if (has_token(v, "close"))
			h->connection_close = true;
		break;
	case HF_UPGRADE:
		h->upgrade = true;
		h->upgrade_h2c = has_token(v, "h2c");
		break;
	case HF_EXPECT:
		h->expect_continue = ieq(v.ptr, v.len, "100-continue");
		break;
	case HF_OTHER:
		break;
	}
}

/* Where a head's lines end ('\n' offsets, in order from its first byte),
 * noted while its end is looked for so that parsing it does not search again.
 * Lines past the table are found by parse_head itself. */
#define HEAD_LINES_MAX 32

struct head_lines {
	uint32_t nl[HEAD_LINES_MAX];
	uint32_t n;
};

enum framing {
	FRAME_NONE,   /* the message ends with its head */
	FRAME_LENGTH, /* Content-Length */
	FRAME_CHUNKED,
	FRAME_UNTIL_CLOSE,
	FRAME_UNKNOWN, /* invalid framing headers: count until the next start line */
};

/*
 * Parses a head of len bytes (the empty line included unless cut). Returns
 * false if the start line is not HTTP/1. lines: its line ends, or NULL.
 */
static bool parse_head(struct http1_parser *p, const char *s, size_t len, bool cut,
		       const struct head_lines *lines, struct http1_head *h, enum framing *framing)
{
	struct http1_str te = { 0 };
	bool bad_length = false;
	size_t pos = 0;
	bool first = true;
	uint32_t line = 0;

	memset(h, 0, sizeof(*h));
	h->kind = p->kind;
	h->content_length = -1;
	h->truncated = cut;
	while (pos < len) {
		const char *nl = lines && line < lines->n ? s + lines->nl[line++]
							  : memchr(s + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - s) : len;
		size_t llen = end - pos;

		if (llen && s[pos + llen - 1] == '\r')
			llen--;
		if (first) {
			bool ok = p->kind == HTTP1_REQUEST
					  ? parse_request_line(s + pos, llen, cut && !nl, h)
					  : parse_status_line(s + pos, llen, h);

			if (!ok)
				return false;
			first = false;
		} else if (llen == 0) {
			break; /* end of the head */
		} else if (nl || !cut) {
			parse_header(s + pos, llen, h, &bad_length, &te);
		}
		pos = end + 1;
	}
	if (first)
		return false;
	if (te.len)
		h->chunked = last_token_is(te, "chunked");
	if (!cut)
		h->head_bytes = (uint32_t)len;

	if (te.len && h->chunked)
		*framing = FRAME_CHUNKED; /* Transfer-Encoding overrides Content-Length */
	else if (te.len)
		*framing = p->kind == HTTP1_RESPONSE ? FRAME_UNTIL_CLOSE : FRAME_UNKNOWN;
	else if (bad_length)
		*framing = FRAME_UNKNOWN;
	else if (h->content_length > 0)
		*framing = FRAME_LENGTH;
	else if (h->content_length == 0 || p->kind == HTTP1_REQUEST)
		*framing = FRAME_NONE;
	else
		*framing = FRAME_UNTIL_CLOSE;
	if (bad_length)
		h->content_length = -1;
	return true;
}

/* Reports a complete (or cut) head and sets up body framing. */
static int head_done(struct http1_parser *p, const char *s, size_t len, bool cut,
		     const struct head_lines *lines, uint64_t ts, const struct http1_callbacks *cb,
		     void *ctx)
{
	struct http1_head h;
	enum framing framing;
	int rc;

	if (!parse_head(p, s, len, cut, lines, &h, &framing)) {
		buf_reset(p);
		p->state = HTTP1_S_GARBAGE;
		p->errors++;
		return -EBADMSG;
	}
	h.begin_ts = p->head_ts;
	h.begin_seq = p->head_seq;
	h.begin_seq_kind = p->head_seq_kind;
	p->in_message = true;
	p->body_bytes = 0;
	p->last_ts = ts;
	rc = cb->on_head(ctx, &h);
	buf_reset(p);
	if (cut) {
		p->state = HTTP1_S_LOST_SYNC;
		return 0;
	}
	if (p->kind == HTTP1_RESPONSE) {
		/* Bodiless responses, RFC 9112 §6.3 rules 1-2. */
		if (h.status == 101 || rc == HTTP1_HEAD_TUNNEL) {
			end_message(p, 0, ts, cb, ctx);
			p->state = HTTP1_S_UPGRADED;
			return 0;
		}
		if (rc == HTTP1_HEAD_NO_BODY || h.status < 200 || h.status == 204 ||
		    h.status == 304)
			framing = FRAME_NONE;
	}
	switch (framing) {
	case FRAME_NONE:
		end_message(p, 0, ts, cb, ctx);
		break;
	case FRAME_LENGTH:
		p->state = HTTP1_S_BODY_LENGTH;
		p->body_left = (uint64_t)h.content_length;
		break;
	case FRAME_CHUNKED:
		p->state = HTTP1_S_CHUNK_SIZE;
		break;
	case FRAME_UNTIL_CLOSE:
		p->state = HTTP1_S_UNTIL_CLOSE;
		break;
	case FRAME_UNKNOWN:
		p->state = HTTP1_S_LOST_SYNC;
		break;
	}
	return 0;
}

static void note_line(struct head_lines *lines, size_t nl)
{
	if (lines && lines->n < HEAD_LINES_MAX)
		lines->nl[lines->n++] = (uint32_t)nl;
}

/* Offset just past the empty line ending a head in s[0..len), or 0. Jumps from
 * line end to line end with memchr, which is vectorised: a byte-at-a-time scan
 * was the agent's largest cost per request with metrics only (make bench).
 * lines (searching from 0 only, or NULL) gets the line ends on the way. */
static size_t find_head_end(const char *s, size_t len, size_t from, struct head_lines *lines)
{
	const char *nl = s + from, *end = s + len;

	while (nl < end && (nl = memchr(nl, '\n', (size_t)(end - nl)))) {
		size_t i = (size_t)(nl - s);

		note_line(lines, i);
		if (i + 1 < len && s[i + 1] == '\n') {
			note_line(lines, i + 1);
			return i + 2;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			note_line(lines, i + 2);
			return i + 3;
		}
		nl++;
	}
	return 0;
}

/*
 * Consumes head bytes from data[*pos..captured). Returns 1 when the head is
 * complete (and reported), 0 when more is needed, <0 on garbage.
 */
static int take_head(struct http1_parser *p, const uint8_t *data, size_t captured, size_t *pos,
		     uint64_t ts, const struct http1_callbacks *cb, void *ctx)
{
	const char *d = (const char *)data + *pos;
	size_t avail = captured - *pos;
	struct head_lines lines;
	size_t end, old, taken;

	if (p->buf_len == 0) {
		/* Empty lines before a message are ignored (RFC 9112 §2.2). */
		while (avail && (*d == '\r' || *d == '\n')) {
			d++;
			avail--;
			(*pos)++;
		}
		if (!avail)
			return 0;
		if (!could_be_start(p->kind, (const uint8_t *)d, avail)) {
			p->state = HTTP1_S_GARBAGE;
			p->errors++;
			return -EBADMSG;
		}
		p->head_ts = ts;
		p->head_seq = p->feed_seq + (uint32_t)*pos;
		p->head_seq_kind = p->feed_seq_kind;
		lines.n = 0;
		end = find_head_end(d, avail, 0, &lines);
		if (end) {
			/* The common case: a whole head in one syscall, parsed in place. */
			*pos += end;
			return head_done(p, d, end, false, &lines, ts, cb, ctx) ? -EBADMSG : 1;
		}
	}
	old = p->buf_len;
	taken = buf_append(p, (const uint8_t *)d, avail, HTTP1_MAX_HEAD);
	p->state = HTTP1_S_HEAD;
	if (p->buf_len >= 7 && !could_be_start(p->kind, (const uint8_t *)p->buf, p->buf_len)) {
		buf_reset(p);
		p->state = HTTP1_S_GARBAGE;
		p->errors++;
		return -EBADMSG;
	}
	end = find_head_end(p->buf, p->buf_len, old > 2 ? old - 2 : 0, NULL);
	if (end) {
		*pos += end - old;
		return head_done(p, p->buf, end, false, NULL, ts, cb, ctx) ? -EBADMSG : 1;
	}
	*pos += taken;
	if (taken < avail || p->buf_len >= HTTP1_MAX_HEAD) {
		/* Longer than we keep: report what we have, count the rest. */
		if (head_done(p, p->buf, p->buf_len, true, NULL, ts, cb, ctx))
			return -EBADMSG;
		p->body_bytes += avail - taken;
		*pos = captured;
		return 1;
	}
	return 0;
}

/* A chunk-size or trailer line. Returns 1 with *line set when complete, 0 when
 * more is needed, -1 when the line is too long. */
static int take_line(struct http1_parser *p, const uint8_t *data, size_t captured, size_t *pos,
		     const char **line, size_t *len)
{
	const char *d = (const char *)data + *pos;
	size_t avail = captured - *pos;
	const char *nl = memchr(d, '\n', avail);
	size_t n = nl ? (size_t)(nl - d) + 1 : avail;

	p->body_bytes += n;
	*pos += n;
	if (nl && p->buf_len == 0) {
		*line = d;
		*len = n - 1;
	} else {
		if (buf_append(p, (const uint8_t *)d, n, HTTP1_MAX_LINE) < n)
			return -1;
		if (!nl)
			return 0;
		*line = p->buf;
		*len = p->buf_len - 1;
	}
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	return 1;
}

/* chunk-size [ chunk-ext ] (RFC 9112 §7.1); -1 if not hex. */
static int64_t parse_chunk_size(const char *s, size_t len)
{
	int64_t n = 0;
	size_t i = 0;

	for (; i < len; i++) {
		char c = s[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			break;
		if (n > (INT64_MAX >> 4))
			return -1;
		n = n * 16 + v;
	}
	if (i == 0)
		return -1;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < len && s[i] != ';')
		return -1;
	return n;
}

static void lose_sync(struct http1_parser *p)
{
	buf_reset(p);
	p->state = HTTP1_S_LOST_SYNC;
}

/* Consumes body bytes of the current state. */
static void take_body(struct http1_parser *p, const uint8_t *data, size_t captured, size_t *pos,
		      uint64_t ts, const struct http1_callbacks *cb, void *ctx)
{
	size_t avail = captured - *pos;
	const char *line;
	size_t len;
	int r;

	p->last_ts = ts;
	switch (p->state) {
	case HTTP1_S_BODY_LENGTH:
	case HTTP1_S_CHUNK_DATA: {
		size_t n = avail < p->body_left ? avail : (size_t)p->body_left;

		*pos += n;
		p->body_left -= n;
		p->body_bytes += n;
		if (p->body_left)
			return;
		if (p->state == HTTP1_S_BODY_LENGTH) {
			end_message(p, 0, ts, cb, ctx);
		} else {
			p->state = HTTP1_S_CHUNK_DATA_CRLF;
			p->body_left = 2;
		}
		return;
	}
	case HTTP1_S_CHUNK_DATA_CRLF: {
		char c = (char)data[*pos];

		(*pos)++;
		p->body_bytes++;
		if (p->body_left)
			p->body_left--;
		if (c == '\n')
			p->state = HTTP1_S_CHUNK_SIZE;
		else if (c != '\r')
			lose_sync(p);
		return;
	}
	case HTTP1_S_CHUNK_SIZE:
		r = take_line(p, data, captured, pos, &line, &len);
		if (r < 0) {
			lose_sync(p);
		} else if (r > 0) {
			int64_t size = parse_chunk_size(line, len);

			buf_reset(p);
			if (size < 0) {
				lose_sync(p);
			} else if (size == 0) {
				p->state = HTTP1_S_TRAILERS;
			} else {
				p->body_left = (uint64_t)size;
				p->state = HTTP1_S_CHUNK_DATA;
			}
		}
		return;
	case HTTP1_S_TRAILERS:
		r = take_line(p, data, captured, pos, &line, &len);
		if (r < 0) {
			lose_sync(p);
		} else if (r > 0) {
			buf_reset(p);
			if (len == 0)
				end_message(p, 0, ts, cb, ctx);
		}
		return;
	case HTTP1_S_UNTIL_CLOSE:
	case HTTP1_S_LOST_SYNC:
		if (p->in_message)
			p->body_bytes += avail;
		*pos = captured;
		return;
	default:
		*pos = captured;
		return;
	}
}

/*
 * Bytes the kernel did not capture: counted where framing allows it. A gap
 * may cover the rest of a chunk and its CRLF (one write per chunk is common),
 * or the rest of a body and then unseen bytes of the next message.
 */
static void take_gap(struct http1_parser *p, uint64_t gap, uint64_t ts,
		     const struct http1_callbacks *cb, void *ctx)
{
	while (gap) {
		uint64_t n;

		switch (p->state) {
		case HTTP1_S_BODY_LENGTH:
		case HTTP1_S_CHUNK_DATA:
		case HTTP1_S_CHUNK_DATA_CRLF:
			n = gap < p->body_left ? gap : p->body_left;
			gap -= n;
			p->body_left -= n;
			p->body_bytes += n;
			p->last_ts = ts;
			if (p->body_left)
				break;
			if (p->state == HTTP1_S_BODY_LENGTH) {
				end_message(p, 0, ts, cb, ctx);
			} else if (p->state == HTTP1_S_CHUNK_DATA) {
				p->state = HTTP1_S_CHUNK_DATA_CRLF;
				p->body_left = 2; /* assumed CRLF: it is unseen */
			} else {
				p->state = HTTP1_S_CHUNK_SIZE;
			}
			break;
		case HTTP1_S_UNTIL_CLOSE:
			p->body_bytes += gap;
			p->last_ts = ts;
			return;
		case HTTP1_S_IDLE:
			/* the next message starts unseen */
			p->state = HTTP1_S_LOST_SYNC;
			return;
		case HTTP1_S_GARBAGE:
		case HTTP1_S_UPGRADED:
		case HTTP1_S_HEAD: /* handled by the caller: the head is cut */
			return;
		default: /* a chunk-size line, trailers, or already lost */
			if (p->in_message) {
				p->body_bytes += gap;
				p->last_ts = ts;
			}
			if (p->state != HTTP1_S_LOST_SYNC)
				lose_sync(p);
			return;
		}
	}
}

int http1_parser_feed(struct http1_parser *p, const uint8_t *data, size_t captured, uint64_t total,
		      uint64_t ts, const struct http1_callbacks *cb, void *ctx)
{
	uint64_t gap = total > captured ? total - captured : 0;
	size_t pos = 0;
	int err = 0;

	if (total < captured)
		captured = (size_t)total;
	p->upgraded_at = SIZE_MAX;
	if (p->state == HTTP1_S_UPGRADED)
		return 0;
	if (p->state == HTTP1_S_GARBAGE || p->state == HTTP1_S_LOST_SYNC) {
		/* Re-synchronise only where a syscall starts a message: the common
		 * case for servers and clients that write one message per call. */
		if (!http1_looks_like_start(p->kind, data, captured)) {
			if (p->in_message) {
				p->body_bytes += total;
				p->last_ts = ts;
			}
			return 0;
		}
		if (p->in_message)
			end_message(p, HTTP1_END_LOST_SYNC, p->last_ts, cb, ctx);
		p->state = HTTP1_S_IDLE;
	}

	while (pos < captured && !err) {
		switch (p->state) {
		case HTTP1_S_IDLE:
		case HTTP1_S_HEAD: {
			int r = take_head(p, data, captured, &pos, ts, cb, ctx);

			if (r < 0)
				err = r;
			else if (p->state == HTTP1_S_UPGRADED)
				p->upgraded_at = pos;
			break;
		}
		case HTTP1_S_GARBAGE:
		case HTTP1_S_UPGRADED:
			pos = captured;
			break;
		default:
			take_body(p, data, captured, &pos, ts, cb, ctx);
			break;
		}
	}
	if (err)
		return err;
	if (gap) {
		if (p->state == HTTP1_S_HEAD) {
			/* The capture ended inside a head that continues unseen. */
			if (head_done(p, p->buf, p->buf_len, true, NULL, ts, cb, ctx))
				return -EBADMSG;
			p->body_bytes += gap;
		} else {
			take_gap(p, gap, ts, cb, ctx);
		}
	}
	return 0;
}

void http1_parser_close(struct http1_parser *p, uint64_t ts, const struct http1_callbacks *cb,
			void *ctx)
{
	(void)ts;
	if (p->in_message) {
		uint32_t flags = HTTP1_END_ABORTED;

		if (p->state == HTTP1_S_UNTIL_CLOSE)
			flags = HTTP1_END_CLOSE_DELIMITED;
		else if (p->state == HTTP1_S_LOST_SYNC)
			flags = HTTP1_END_LOST_SYNC;
		/* The message's last byte went by at last_ts, not at the close. */
		end_message(p, flags, p->last_ts, cb, ctx);
	}
	buf_reset(p);
	p->state = HTTP1_S_IDLE;
}

void http1_parser_flush(struct http1_parser *p, const struct http1_callbacks *cb, void *ctx)
{
	if (p->state != HTTP1_S_LOST_SYNC || !p->in_message)
		return;
	end_message(p, HTTP1_END_LOST_SYNC | HTTP1_END_FLUSHED, p->last_ts, cb, ctx);
	p->state = HTTP1_S_LOST_SYNC; /* bytes of that message may still arrive */
}

void http1_parser_upgrade(struct http1_parser *p)
{
	buf_reset(p);
	p->in_message = false;
	p->state = HTTP1_S_UPGRADED;
}
