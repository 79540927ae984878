/* SPDX-License-Identifier: MIT */
/* HTTP/2 framing (RFC 9113 §4, §6) over captured syscall prefixes; see http2.h. */
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/http2.h"

/* RFC 9113 §3.4 */
static const char preface[H2_PREFACE_LEN + 1] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Frames checked one after another before a feed is trusted to start one. */
#define RESYNC_CHAIN 4

static uint32_t be24(const uint8_t *b)
{
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

bool h2_is_preface(const uint8_t *b, size_t len)
{
	size_t n = len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN;

	return n > 0 && memcmp(b, preface, n) == 0;
}

bool h2_frame_plausible(const uint8_t *b, uint32_t max_frame)
{
	uint32_t len = be24(b), stream = be32(b + 5) & 0x7fffffff;
	uint8_t type = b[3], flags = b[4];

	/* §4.1: the reserved bit is sent unset; §4.2: no frame beyond the limit. */
	if ((b[5] & 0x80) || len > max_frame)
		return false;
	/* §6: which stream each type needs, the flags it defines (others are sent
	 * unset), the lengths it allows. */
	switch (type) {
	case H2_DATA:
		return stream && !(flags & ~(H2_F_END_STREAM | H2_F_PADDED));
	case H2_HEADERS:
		return stream && !(flags & ~(H2_F_END_STREAM | H2_F_END_HEADERS | H2_F_PADDED |
					     H2_F_PRIORITY));
	case H2_PRIORITY:
		return stream && len == 5 && !flags;
	case H2_RST_STREAM:
		return stream && len == 4 && !flags;
	case H2_SETTINGS:
		return !stream && len % 6 == 0 && (flags == 0 || (flags == 1 && len == 0));
	case H2_PUSH_PROMISE:
		return stream && len >= 4 && !(flags & ~(H2_F_END_HEADERS | H2_F_PADDED));
	case H2_PING:
		return !stream && len == 8 && flags <= 1;
	case H2_GOAWAY:
		return !stream && len >= 8 && !flags;
	case H2_WINDOW_UPDATE:
		return len == 4 && !flags;
	case H2_CONTINUATION:
		return stream && !(flags & ~H2_F_END_HEADERS);
	}
	return false;
}

void h2_parser_init(struct h2_parser *p, bool start)
{
	memset(p, 0, sizeof(*p));
	p->state = start ? H2_S_START : H2_S_LOST;
	p->max_frame = H2_DEFAULT_MAX_FRAME;
}

void h2_parser_free(struct h2_parser *p)
{
	free(p->block);
	p->block = NULL;
	p->block_cap = p->block_len = 0;
}

static void block_reset(struct h2_parser *p)
{
	p->in_block = false;
	p->block_lost = false;
	p->block_len = 0;
	/* Keep a small buffer for the next block; give large ones back. */
	if (p->block_cap > 16384) {
		free(p->block);
		p->block = NULL;
		p->block_cap = 0;
	}
}

static void block_deliver(struct h2_parser *p, uint64_t ts, const struct h2_callbacks *cb,
			  void *ctx)
{
	struct h2_block b = {
		.stream = p->block_stream,
		.promised = p->block_promised,
		.end_stream = p->block_end_stream,
		.lost = p->block_lost,
		.block = p->block_lost ? NULL : p->block,
		.len = p->block_lost ? 0 : p->block_len,
		.begin_ts = p->block_ts,
		.end_ts = ts,
	};

	block_reset(p);
	cb->on_block(ctx, &b);
}

static void block_append(struct h2_parser *p, const uint8_t *data, size_t n)
{
	if (p->block_lost || !n)
		return;
	if (p->block_len + n > H2_MAX_BLOCK) {
		p->block_lost = true;
		return;
	}
	if (p->block_len + n > p->block_cap) {
		uint32_t cap = p->block_cap ? p->block_cap : 1024;
		uint8_t *nb;

		while (cap < p->block_len + n)
			cap *= 2;
		nb = realloc(p->block, cap);
		if (!nb) {
			p->block_lost = true;
			return;
		}
		p->block = nb;
		p->block_cap = cap;
	}
	memcpy(p->block + p->block_len, data, n);
	p->block_len += (uint32_t)n;
}

static void lose_sync(struct h2_parser *p, uint64_t ts, const struct h2_callbacks *cb, void *ctx)
{
	if (p->in_block) {
		p->block_lost = true;
		block_deliver(p, ts, cb, ctx);
	}
	p->state = H2_S_LOST;
	p->hdr_len = 0;
	p->sync_losses++;
	cb->on_sync(ctx, false);
}

static void begin_frame(struct h2_parser *p, const struct h2_callbacks *cb, void *ctx)
{
	p->len = be24(p->hdr);
	p->type = p->hdr[3];
	p->flags = p->hdr[4];
	p->stream = be32(p->hdr + 5) & 0x7fffffff;
	p->left = p->len;
	p->cut = false;
	p->pad = 0;
	p->pad_known = !(p->type == H2_DATA && (p->flags & H2_F_PADDED));
	p->ctrl_len = 0;
	p->state = H2_S_PAYLOAD;

	/* §6.10: a header block is one HEADERS or PUSH_PROMISE frame and the
	 * CONTINUATION frames of its stream right after it; anything else in
	 * between means part of it went by unseen. */
	if (p->in_block && (p->type != H2_CONTINUATION || p->stream != p->block_stream)) {
		p->block_lost = true;
		block_deliver(p, p->frame_ts, cb, ctx);
	}
	if (p->type == H2_HEADERS || p->type == H2_PUSH_PROMISE) {
		block_reset(p);
		p->in_block = true;
		p->block_type = p->type;
		p->block_stream = p->stream;
		p->block_promised = 0;
		p->block_end_stream = p->type == H2_HEADERS && (p->flags & H2_F_END_STREAM);
		p->block_ts = p->frame_ts;
	}
}

/* Removes the padding and the priority or promised-stream fields around the
 * fragment of the HEADERS or PUSH_PROMISE frame that opened the block. */
static void strip_first_fragment(struct h2_parser *p)
{
	uint32_t prefix = 0, pad = 0, n = p->block_len;
	uint8_t *f = p->block;

	if (p->block_lost)
		return;
	if (p->flags & H2_F_PADDED) {
		if (n < 1) {
			p->block_lost = true;
			return;
		}
		pad = f[0];
		prefix = 1;
	}
	if (p->type == H2_HEADERS && (p->flags & H2_F_PRIORITY))
		prefix += 5;
	if (p->type == H2_PUSH_PROMISE) {
		if (n < prefix + 4) {
			p->block_lost = true;
			return;
		}
		p->block_promised = be32(f + prefix) & 0x7fffffff;
		prefix += 4;
	}
	/* §6.2: padding that exceeds the payload is a protocol error. */
	if ((uint64_t)prefix + pad > n) {
		p->block_lost = true;
		return;
	}
	/* Nothing around the fragment (an empty block has no buffer either). */
	if (!prefix && !pad)
		return;
	memmove(f, f + prefix, n - prefix - pad);
	p->block_len = n - prefix - pad;
}

static void end_frame(struct h2_parser *p, uint64_t ts, const struct h2_callbacks *cb, void *ctx)
{
	bool first = p->frames++ == 0;

	p->state = H2_S_HEADER;
	p->hdr_len = 0;
	switch (p->type) {
	case H2_DATA: {
		uint64_t bytes = p->len;

		if (p->flags & H2_F_PADDED)
			bytes = p->len >= 1 + p->pad ? p->len - 1 - p->pad : 0;
		cb->on_data(ctx, p->stream, bytes, p->flags & H2_F_END_STREAM, ts);
		break;
	}
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		if (p->cut)
			p->block_lost = true;
		strip_first_fragment(p);
		if (p->flags & H2_F_END_HEADERS)
			block_deliver(p, ts, cb, ctx);
		break;
	case H2_CONTINUATION:
		if (!p->in_block)
			break; /* its HEADERS went unseen and was reported lost */
		if (p->cut)
			p->block_lost = true;
		if (p->flags & H2_F_END_HEADERS)
			block_deliver(p, ts, cb, ctx);
		break;
	case H2_RST_STREAM:
		if (p->ctrl_len >= 4)
			cb->on_rst_stream(ctx, p->stream, be32(p->ctrl), ts);
		break;
	case H2_GOAWAY:
		if (p->ctrl_len >= 8)
			cb->on_goaway(ctx, be32(p->ctrl) & 0x7fffffff, be32(p->ctrl + 4), ts);
		break;
	case H2_SETTINGS:
		if (p->flags & 1) /* ACK */
			break;
		/* §3.4: the server's preface is a SETTINGS frame. */
		p->first_settings = first && p->saw_start;
		for (uint32_t i = 0; i + 6 <= p->ctrl_len; i += 6)
			cb->on_setting(ctx, (uint16_t)(p->ctrl[i] << 8 | p->ctrl[i + 1]),
				       be32(p->ctrl + i + 2));
		break;
	}
}

static void take_payload(struct h2_parser *p, const uint8_t *data, size_t captured, size_t *pos,
			 uint64_t ts, const struct h2_callbacks *cb, void *ctx)
{
	size_t avail = captured - *pos;
	uint32_t n = avail < p->left ? (uint32_t)avail : p->left;
	const uint8_t *d = data + *pos;

	switch (p->type) {
	case H2_DATA:
		if (!p->pad_known && n) {
			p->pad = d[0];
			p->pad_known = true;
		}
		break;
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		if (p->in_block)
			block_append(p, d, n);
		break;
	default:
		if (p->ctrl_len < sizeof(p->ctrl)) {
			uint32_t k = sizeof(p->ctrl) - p->ctrl_len;

			k = k < n ? k : n;
			memcpy(p->ctrl + p->ctrl_len, d, k);
			p->ctrl_len += k;
		}
		break;
	}
	*pos += n;
	p->left -= n;
	if (!p->left)
		end_frame(p, ts, cb, ctx);
}

/* Bytes unseen at the end of a feed. */
static void take_gap(struct h2_parser *p, uint64_t gap, uint64_t ts, const struct h2_callbacks *cb,
		     void *ctx)
{
	while (gap) {
		uint32_t n;

		if (p->state == H2_S_LOST)
			return;
		if (p->state != H2_S_PAYLOAD) {
			/* A frame header (or the preface) went unseen. */
			lose_sync(p, ts, cb, ctx);
			return;
		}
		n = gap < p->left ? (uint32_t)gap : p->left;
		if (p->type == H2_DATA)
			p->pad_known = true; /* an unseen pad length counts as none */
		else
			p->cut = true;
		p->left -= n;
		gap -= n;
		if (!p->left)
			end_frame(p, ts, cb, ctx);
	}
}

/* A lost parser trusts a feed that starts with the preface or with a chain of
 * plausible frame headers (as far as the captured bytes show them). */
static bool try_resync(struct h2_parser *p, const uint8_t *data, size_t captured)
{
	size_t off = 0;

	if (captured >= 4 && h2_is_preface(data, captured)) {
		p->state = H2_S_PREFACE;
		p->preface_len = 0;
		return true;
	}
	if (captured < H2_FRAME_HEADER_LEN || data[3] == H2_CONTINUATION)
		return false;
	for (int i = 0; i < RESYNC_CHAIN && off + H2_FRAME_HEADER_LEN <= captured; i++) {
		if (!h2_frame_plausible(data + off, p->max_frame))
			return false;
		off += H2_FRAME_HEADER_LEN + be24(data + off);
	}
	p->state = H2_S_HEADER;
	p->hdr_len = 0;
	return true;
}

void h2_parser_feed(struct h2_parser *p, const uint8_t *data, size_t captured, uint64_t total,
		    uint64_t ts, const struct h2_callbacks *cb, void *ctx)
{
	uint64_t gap = total > captured ? total - captured : 0;
	size_t pos = 0;

	if (total < captured)
		captured = (size_t)total;
	if (p->state == H2_S_LOST) {
		if (!try_resync(p, data, captured))
			return;
		cb->on_sync(ctx, true);
	}
	while (pos < captured) {
		switch (p->state) {
		case H2_S_START:
			if (h2_is_preface(data + pos, captured - pos)) {
				p->state = H2_S_PREFACE;
				break;
			}
			if (captured - pos >= H2_FRAME_HEADER_LEN &&
			    !h2_frame_plausible(data + pos, UINT32_MAX >> 8)) {
				lose_sync(p, ts, cb, ctx);
				break;
			}
			p->saw_start = true;
			p->state = H2_S_HEADER;
			break;
		case H2_S_PREFACE:
			if (data[pos] != (uint8_t)preface[p->preface_len]) {
				lose_sync(p, ts, cb, ctx);
				break;
			}
			pos++;
			if (++p->preface_len == H2_PREFACE_LEN) {
				p->saw_preface = true;
				p->saw_start = true;
				p->state = H2_S_HEADER;
			}
			break;
		case H2_S_HEADER:
			if (p->hdr_len == 0)
				p->frame_ts = ts;
			p->hdr[p->hdr_len++] = data[pos++];
			if (p->hdr_len == H2_FRAME_HEADER_LEN) {
				begin_frame(p, cb, ctx);
				if (!p->left)
					end_frame(p, ts, cb, ctx);
			}
			break;
		case H2_S_PAYLOAD:
			take_payload(p, data, captured, &pos, ts, cb, ctx);
			break;
		case H2_S_LOST:
			pos = captured;
			break;
		}
	}
	if (gap)
		take_gap(p, gap, ts, cb, ctx);
}
