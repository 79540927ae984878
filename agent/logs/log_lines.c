/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "logs/log_lines.h"

#define TRACEBACK "Traceback (most recent call last):"

/* b came more than span after a (kernel times from several CPUs may run a
 * little backwards: never "long after" then). */
static bool later_than(uint64_t a, uint64_t b, uint64_t span)
{
	return b > a && b - a > span;
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* An exception's line: Python's last traceback line ("ValueError: …",
 * "mod.CustomError", "KeyboardInterrupt"), Java's first one
 * ("java.lang.IllegalStateException: …"). An INFO:root:… line is none.
 * *qualified: its name has a package (a dot). */
static bool exception_line(const char *s, size_t n, bool *qualified)
{
	static const char *const kinds[] = { "Error",	  "Exception", "Exit",
					     "Interrupt", "Warning",   "Iteration" };
	size_t i = 0;

	while (i < n && ((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			 (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
		i++;
	if (!i || (i < n && s[i] != ':'))
		return false;
	*qualified = memchr(s, '.', i) != NULL;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (ends_with(s, i, kinds[k]))
			return true;
	return false;
}

bool log_line_continues(const char *line, size_t len, bool in_traceback)
{
	bool qualified = false, exception = exception_line(line, len, &qualified);

	if (len && (line[0] == ' ' || line[0] == '\t'))
		return true;
	if (starts_with(line, len, TRACEBACK) || starts_with(line, len, "Caused by:") ||
	    starts_with(line, len, "During handling of the above exception") ||
	    starts_with(line, len, "The above exception was the direct cause"))
		return true;
	/* A qualified exception name after a line is its stack trace's head
	 * (Java loggers print the message, then the exception); a bare
	 * "Error: …" may be a line of its own, unless it ends a traceback. */
	return (exception && qualified) || (in_traceback && (blank(line, len) || exception));
}

/* Bytes of one UTF-8 character at s (1 for a bad byte: counted as such). */
static size_t utf8_char(const unsigned char *s, size_t n, bool *bad)
{
	size_t k = s[0] < 0xc2 ? 0 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : s[0] < 0xf5 ? 4 : 0;

	*bad = true;
	if (!k || k > n)
		return 1;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	*bad = false;
	return k;
}

bool log_line_binary(const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t odd = 0;

	for (size_t i = 0; i < len;) {
		bool bad = false;

		if (s[i] == 0)
			return true;
		if (s[i] < 0x80) {
			/* Line ends, tabs and colour escapes are text. */
			odd += (s[i] < 0x20 && s[i] != '\n' && s[i] != '\t' && s[i] != '\r' &&
				s[i] != 0x1b && s[i] != '\b' && s[i] != '\f' && s[i] != '\v') ||
			       s[i] == 0x7f;
			i++;
			continue;
		}
		i += utf8_char(s + i, len - i, &bad);
		odd += bad;
	}
	/* A few bad bytes in a line of text are text (made valid later). */
	return odd > 4 && odd * 8 > len;
}

void log_stream_init(struct log_stream *s, char *buf, uint32_t max)
{
	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->max = max;
}

bool log_stream_idle(const struct log_stream *s)
{
	return !s->has_rec && !s->has_part;
}

/* The line being written sits in the second half of buf. */
static char *part_buf(struct log_stream *s)
{
	return s->buf + s->max + 1;
}

/* Whether a line's bytes and a record's lines came from one writer in one
 * request (or outside any, both). */
static bool same_source(const struct log_start *a, uint64_t writer, enum linker_ctx_state state,
			const struct linker_ctx *ctx)
{
	if (a->writer != writer || (a->ctx_state == LINKER_CTX_NONE) != (state == LINKER_CTX_NONE))
		return false;
	return state == LINKER_CTX_NONE || !memcmp(a->ctx.span_id, ctx->span_id, 8);
}

static void emit_rec(struct log_stream *s, const struct log_lines_opts *o)
{
	struct log_line_record r = {
		.body = s->buf,
		.len = s->rec_len,
		.cut = s->rec_cut,
		.ts = s->rec.ts,
		.time_ns = s->rec.time_ns,
	};

	if (!s->has_rec)
		return;
	if (s->rec.unlinked)
		o->stats->unlinked++;
	else {
		r.ctx_state = s->rec.ctx_state;
		r.ctx = s->rec.ctx;
	}
	s->has_rec = false;
	o->stats->records++;
	o->stats->cut += s->rec_cut;
	o->out(o->out_ctx, &r);
}

/* A write's records after its first one: it may be a buffer's flush, whose
 * lines any thread wrote, so none of them keeps the writer's request. */
static void unlink_shared(struct log_stream *s)
{
	if (!s->has_rec || s->rec.write_seq != s->part.write_seq)
		return;
	s->rec.unlinked |= s->rec.ctx_state != LINKER_CTX_NONE;
	s->part.unlinked |= s->part.ctx_state != LINKER_CTX_NONE;
}

/* The line being written ended (its newline came at ts, or it is given up
 * on): it joins the pending record, or starts one. */
static void line_end(struct log_stream *s, uint64_t ts, const struct log_lines_opts *o)
{
	char *line = part_buf(s);
	size_t len = s->part_len;
	bool cont;

	s->has_part = false;
	if (len && line[len - 1] == '\r')
		len--;
	o->stats->lines++;
	if (log_line_binary(line, len)) {
		o->stats->binary += len;
		return;
	}
	cont = s->has_rec &&
	       (s->buffered ||
		same_source(&s->rec, s->part.writer, s->part.ctx_state, &s->part.ctx)) &&
	       !later_than(s->rec_last_ts, ts, o->join_ns) &&
	       log_line_continues(line, len, s->in_traceback);
	if (cont) {
		size_t room = s->max - s->rec_len;

		o->stats->joined++;
		s->rec_last_ts = ts;
		s->rec_cut |= s->part_cut;
		if (room < 1 + len) {
			s->rec_cut = true;
			len = room ? room - 1 : 0;
		}
		if (room) {
			s->buf[s->rec_len++] = '\n';
			memcpy(s->buf + s->rec_len, line, len);
			s->rec_len += (uint32_t)len;
		}
		s->in_traceback |= starts_with(line, len, TRACEBACK);
		return;
	}
	if (blank(line, len))
		return;
	unlink_shared(s);
	emit_rec(s, o);
	memcpy(s->buf, line, len);
	s->rec_len = (uint32_t)len;
	s->rec_cut = s->part_cut;
	s->rec = s->part;
	s->rec_last_ts = ts;
	s->has_rec = true;
	s->in_traceback = starts_with(line, len, TRACEBACK);
}

/* Bytes of the line being written; the first of a line records where it
 * began. Past the cap they are dropped (the line is cut). */
static void append(struct log_stream *s, const struct log_chunk *c, const uint8_t *p, size_t n,
		   const struct log_lines_opts *o)
{
	size_t room;

	/* Another thread's (or request's) bytes in the middle of a line: what
	 * came of it is a line of its own, and so are these. (Through a
	 * buffer, whichever thread flushes it writes the same line on.) */
	if (s->has_part && !s->buffered &&
	    !same_source(&s->part, c->writer, c->ctx_state, &c->ctx)) {
		o->stats->interleaved++;
		line_end(s, c->ts, o);
	}
	if (!s->has_part) {
		s->has_part = true;
		s->part_len = 0;
		s->part_cut = s->part_skip = false;
		s->part = (struct log_start){ .ts = c->ts,
					      .time_ns = c->time_ns,
					      .writer = c->writer,
					      .write_seq = s->write_seq,
					      .unlinked = s->buffered &&
							  c->ctx_state != LINKER_CTX_NONE,
					      .ctx_state = c->ctx_state,
					      .ctx = c->ctx };
	}
	if (s->part_skip)
		return;
	room = s->max - s->part_len;
	if (n > room) {
		n = room;
		s->part_cut = s->part_skip = true;
	}
	memcpy(part_buf(s) + s->part_len, p, n);
	s->part_len += (uint32_t)n;
}

/* Bytes that never came (lost events, or not copied): a line they were part
 * of goes out with what was seen, marked cut. */
static void lose(struct log_stream *s, uint64_t bytes, uint64_t ts, const struct log_lines_opts *o)
{
	o->stats->lost += bytes;
	if (!s->has_part)
		return;
	s->part_cut = true;
	line_end(s, ts, o);
}

void log_stream_feed(struct log_stream *s, const struct log_chunk *c,
		     const struct log_lines_opts *o)
{
	const uint8_t *p = c->data, *end = c->data ? c->data + c->captured : NULL;

	if (c->stream_pos && s->next_pos && c->stream_pos > s->next_pos) {
		s->missing += c->stream_pos - s->next_pos;
		lose(s, c->stream_pos - s->next_pos, c->ts, o);
	} else if (c->stream_pos && c->stream_pos < s->next_pos) {
		/* Threads take their positions, then reach the ring, in either
		 * order: a write from before the gap came late, not lost. */
		uint64_t back = c->total < s->missing ? c->total : s->missing;

		s->missing -= back;
		o->stats->lost -= back;
	}
	if (c->stream_pos && c->stream_pos + c->total > s->next_pos)
		s->next_pos = c->stream_pos + c->total;
	s->write_seq++;
	/* A binary write (an image to stdout) is skipped whole: split at its
	 * newline bytes, its pieces would pass for short lines. */
	if (p && log_line_binary((const char *)p, c->captured)) {
		o->stats->binary += c->captured;
		lose(s, 0, c->ts, o);
		p = NULL;
	}
	/* A write that ends in the middle of a line after a line end is a
	 * buffer flushed when full: the stream is block-buffered, and any
	 * thread's write may carry the others' lines from now on. */
	if (p && !s->buffered && c->captured && c->captured == c->total &&
	    p[c->captured - 1] != '\n' && memchr(p, '\n', c->captured)) {
		s->buffered = true;
		o->stats->buffered++;
		/* What it holds came through the same buffer. */
		s->rec.unlinked |= s->has_rec && s->rec.ctx_state != LINKER_CTX_NONE;
		s->part.unlinked |= s->has_part && s->part.ctx_state != LINKER_CTX_NONE;
	}
	while (p && p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));

		append(s, c, p, (size_t)((nl ? nl : end) - p), o);
		if (!nl)
			break;
		line_end(s, c->ts, o);
		p = nl + 1;
	}
	if (c->total > c->captured)
		lose(s, c->total - c->captured, c->ts, o);
}

void log_stream_tick(struct log_stream *s, uint64_t now, bool complete, bool all,
		     const struct log_lines_opts *o)
{
	if (s->has_part && (all || later_than(s->part.ts, now, o->wait_ns))) {
		o->stats->unfinished++;
		line_end(s, now, o);
	}
	if (s->has_rec && (complete || all || later_than(s->rec_last_ts, now, o->join_ns)))
		emit_rec(s, o);
}
