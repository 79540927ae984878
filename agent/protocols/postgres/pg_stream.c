/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "protocols/postgres/pg_stream.h"

void pg_stream_resync(struct pg_stream *s)
{
	s->head_len = 0;
	s->in_body = false;
	s->lost = false;
}

void pg_stream_lose(struct pg_stream *s)
{
	pg_stream_resync(s);
	s->lost = true;
}

void pg_stream_free(struct pg_stream *s)
{
	free(s->buf);
	s->buf = NULL;
	s->cap = 0;
}

static void deliver(struct pg_stream *s, const struct pg_stream_ops *ops, void *ctx)
{
	struct pg_msg m = { .type = s->type,
			    .len = s->body_len,
			    .body = { .p = s->buf, .n = s->kept },
			    .cut = s->cut || s->kept < s->body_len,
			    .ts = s->ts };

	s->in_body = false;
	s->head_len = 0;
	ops->message(ctx, &m);
}

/* The header is complete: check it, make room for the kept body. */
static bool begin_body(struct pg_stream *s, const struct pg_stream_ops *ops, void *ctx)
{
	uint32_t len;

	if (s->head_size == 4) {
		s->type = 0;
		len = pg_be32(s->head);
		if (len < 8 || len > PG_STARTUP_MAX_LEN)
			return false;
	} else {
		s->type = s->head[0];
		len = pg_be32(s->head + 1);
		if (!ops->plausible(s->type, len))
			return false;
	}
	s->body_len = len - 4;
	s->body_done = 0;
	s->kept = 0;
	s->cut = false;
	s->keep = ops->keep(ctx, s->type, s->body_len);
	if (s->keep > s->body_len)
		s->keep = s->body_len;
	if (s->keep > s->cap) {
		uint8_t *nb = realloc(s->buf, s->keep);

		if (!nb)
			s->keep = s->cap; /* keep less: the message is marked cut */
		else {
			s->buf = nb;
			s->cap = s->keep;
		}
	}
	s->in_body = true;
	return true;
}

void pg_stream_bytes(struct pg_stream *s, const struct pg_stream_ops *ops, void *ctx,
		     const uint8_t *p, size_t n, uint64_t ts)
{
	size_t i = 0;

	while (i < n && !s->lost) {
		if (!s->in_body) {
			if (!s->head_len) {
				enum pg_frame f = ops->frame(ctx);

				s->ts = ts;
				if (f == PG_FRAME_BYTE) {
					s->type = p[i++];
					s->body_len = s->kept = 0;
					s->cut = false;
					s->moved++;
					deliver(s, ops, ctx);
					continue;
				}
				s->head_size = f == PG_FRAME_STARTUP ? 4 : 5;
			}
			while (i < n && s->head_len < s->head_size)
				s->head[s->head_len++] = p[i++];
			if (s->head_len < s->head_size)
				break;
			s->moved += s->head_size;
			if (!begin_body(s, ops, ctx)) {
				pg_stream_lose(s);
				s->garbage = true;
				break;
			}
		}
		if (s->body_done < s->body_len) {
			size_t take = s->body_len - s->body_done;

			if (take > n - i)
				take = n - i;
			if (s->kept == s->body_done && s->kept < s->keep) {
				size_t k = s->keep - s->kept < take ? s->keep - s->kept : take;

				memcpy(s->buf + s->kept, p + i, k);
				s->kept += (uint32_t)k;
			}
			s->body_done += (uint32_t)take;
			s->moved += take;
			i += take;
		}
		if (s->body_done == s->body_len)
			deliver(s, ops, ctx);
	}
}

void pg_stream_skip(struct pg_stream *s, const struct pg_stream_ops *ops, void *ctx, uint64_t n)
{
	if (!n || s->lost)
		return;
	/* Within the body of the message in progress: skipped exactly. */
	if (s->in_body && n <= (uint64_t)(s->body_len - s->body_done)) {
		if (s->body_done < s->keep)
			s->cut = true;
		s->body_done += (uint32_t)n;
		s->moved += n;
		if (s->body_done == s->body_len)
			deliver(s, ops, ctx);
		return;
	}
	/* A header, or a whole message, went by unseen. */
	pg_stream_lose(s);
	s->garbage = false;
}

bool pg_chain_plausible(const uint8_t *p, size_t n, bool (*plausible)(uint8_t, uint32_t),
			size_t *end)
{
	size_t off = 0;

	*end = 0;
	while (off + 5 <= n) {
		uint32_t len = pg_be32(p + off + 1);

		if (!plausible(p[off], len))
			return false;
		if ((uint64_t)off + 1 + len > n)
			return true; /* runs past n */
		off += 1 + len;
		*end = off;
	}
	/* Complete messages up to n, or a header cut at n after some. */
	return off > 0;
}
