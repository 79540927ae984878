/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "nodejs/websocket.h"

/* Appended to the key before hashing (RFC 6455, 1.3). */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static uint32_t rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

void ws_sha1(const void *data, size_t len, uint8_t digest[20])
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	const uint8_t *p = data;
	uint8_t last[128] = { 0 };
	uint64_t bits = (uint64_t)len * 8;
	size_t full = len / 64 * 64, rest = len - full, tail;

	for (size_t off = 0; off < full; off += 64)
		sha1_block(h, p + off);
	/* The rest, a 1 bit, zeros, and the length in bits: one or two blocks. */
	memcpy(last, p + full, rest);
	last[rest] = 0x80;
	tail = rest < 56 ? 64 : 128;
	for (int i = 0; i < 8; i++)
		last[tail - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha1_block(h, last);
	if (tail == 128)
		sha1_block(h, last + 64);
	for (int i = 0; i < 5; i++) {
		digest[4 * i] = (uint8_t)(h[i] >> 24);
		digest[4 * i + 1] = (uint8_t)(h[i] >> 16);
		digest[4 * i + 2] = (uint8_t)(h[i] >> 8);
		digest[4 * i + 3] = (uint8_t)h[i];
	}
}

void ws_base64(const uint8_t *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = n > 2 ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
}

void ws_key(const uint8_t nonce[16], char key[WS_KEY_LEN + 1])
{
	ws_base64(nonce, 16, key);
}

void ws_accept_for(const char *key, char accept[WS_ACCEPT_LEN + 1])
{
	char joined[WS_KEY_LEN + sizeof(ws_guid)];
	uint8_t digest[20];
	int n = snprintf(joined, sizeof(joined), "%s%s", key, ws_guid);

	ws_sha1(joined, n > 0 && (size_t)n < sizeof(joined) ? (size_t)n : 0, digest);
	ws_base64(digest, sizeof(digest), accept);
}

int ws_handshake_request(char *buf, size_t cap, const char *host, const char *path, const char *key)
{
	int n = snprintf(buf, cap,
			 "GET %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "Upgrade: websocket\r\n"
			 "Connection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\n"
			 "Sec-WebSocket-Version: 13\r\n"
			 "\r\n",
			 path, host, key);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* Whether the comma-separated list [v, end) holds token, in any case. */
static bool has_token(const char *v, const char *end, const char *token)
{
	size_t tlen = strlen(token);

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *stop = comma ? comma : end;

		while (v < stop && (*v == ' ' || *v == '\t'))
			v++;
		while (stop > v && (stop[-1] == ' ' || stop[-1] == '\t'))
			stop--;
		if ((size_t)(stop - v) == tlen && !strncasecmp(v, token, tlen))
			return true;
		v = comma ? comma + 1 : end;
	}
	return false;
}

int ws_handshake_response(const char *buf, size_t len, const char *key)
{
	char want[WS_ACCEPT_LEN + 1];
	const char *end = NULL, *line;
	bool upgrade = false, connection = false, accept = false;

	for (size_t i = 0; i + 3 < len; i++) {
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			end = buf + i + 2; /* the last header line's CRLF included */
			break;
		}
	}
	if (!end)
		return len >= WS_MAX_HANDSHAKE_IN ? -EPROTO : 0;
	/* "HTTP/1.1 101 Switching Protocols" */
	if (end - buf < 12 || strncmp(buf, "HTTP/1.1 101", 12) ||
	    (buf[12] != ' ' && buf[12] != '\r'))
		return -EPROTO;
	ws_accept_for(key, want);
	line = memchr(buf, '\n', (size_t)(end - buf)) + 1;
	while (line < end) {
		const char *eol = memchr(line, '\r', (size_t)(end - line));
		const char *colon = memchr(line, ':', (size_t)(eol - line));
		const char *v, *vend = eol;
		size_t name_len;

		if (!colon)
			return -EPROTO;
		name_len = (size_t)(colon - line);
		v = colon + 1;
		while (v < vend && (*v == ' ' || *v == '\t'))
			v++;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		if (name_len == 7 && !strncasecmp(line, "Upgrade", 7))
			upgrade = has_token(v, vend, "websocket");
		else if (name_len == 10 && !strncasecmp(line, "Connection", 10))
			connection = has_token(v, vend, "upgrade");
		else if (name_len == 20 && !strncasecmp(line, "Sec-WebSocket-Accept", 20))
			accept = vend - v == WS_ACCEPT_LEN && !memcmp(v, want, WS_ACCEPT_LEN);
		line = eol + 2;
	}
	if (!upgrade || !connection || !accept)
		return -EPROTO;
	return (int)(end + 2 - buf);
}

int ws_frame_encode(uint8_t *out, size_t cap, enum ws_opcode op, const void *payload, size_t len,
		    const uint8_t mask[4])
{
	const uint8_t *p = payload;
	size_t h = 2;

	if (cap < WS_MAX_HEADER || len > cap - WS_MAX_HEADER)
		return -ENOSPC;
	out[0] = 0x80 | (uint8_t)op;
	if (len < 126) {
		out[1] = 0x80 | (uint8_t)len;
	} else if (len <= 0xffff) {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		h = 4;
	} else {
		out[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	memcpy(out + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < len; i++)
		out[h + i] = p[i] ^ mask[i & 3];
	return (int)(h + len);
}

int ws_frame_decode(const uint8_t *buf, size_t len, struct ws_frame *f)
{
	uint64_t n;

	if (len < 2)
		return 0;
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	if (buf[0] & 0x70) /* RSV1-3: no extension was negotiated */
		return -EPROTO;
	if (buf[1] & 0x80) /* a server must not mask (5.1) */
		return -EPROTO;
	switch (f->opcode) {
	case WS_OP_CONTINUATION:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!f->fin || (buf[1] & 0x7f) > WS_MAX_CONTROL)
			return -EPROTO;
		break;
	default:
		return -EPROTO;
	}
	n = buf[1] & 0x7f;
	f->header_len = 2;
	if (n == 126) {
		if (len < 4)
			return 0;
		n = (uint64_t)buf[2] << 8 | buf[3];
		f->header_len = 4;
	} else if (n == 127) {
		if (len < 10)
			return 0;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | buf[2 + i];
		if (n >> 63)
			return -EPROTO;
		f->header_len = 10;
	}
	f->payload_len = n;
	return 1;
}

void ws_reader_init(struct ws_reader *r, uint8_t *in, size_t in_cap, uint8_t *msg, size_t msg_cap)
{
	*r = (struct ws_reader){ .in = in, .in_cap = in_cap, .msg = msg, .msg_cap = msg_cap };
}

static void consume(struct ws_reader *r, size_t n)
{
	memmove(r->in, r->in + n, r->in_len - n);
	r->in_len -= n;
}

int ws_reader_next(struct ws_reader *r, struct ws_message *m)
{
	for (;;) {
		struct ws_frame f;
		const uint8_t *payload;
		size_t whole;
		int rc = ws_frame_decode(r->in, r->in_len, &f);

		if (rc <= 0)
			return rc;
		if (f.payload_len > r->in_cap - f.header_len)
			return -EMSGSIZE;
		whole = f.header_len + (size_t)f.payload_len;
		if (whole > r->in_len)
			return 0;
		payload = r->in + f.header_len;
		if (f.opcode >= WS_OP_CLOSE) {
			/* Control frames may come between a message's fragments. */
			m->op = f.opcode;
			m->len = (size_t)f.payload_len;
			memcpy(m->control, payload, m->len);
			m->data = m->control;
			consume(r, whole);
			return 1;
		}
		if (f.opcode == WS_OP_CONTINUATION ? !r->in_msg : r->in_msg)
			return -EPROTO;
		if (f.opcode != WS_OP_CONTINUATION) {
			r->msg_op = f.opcode;
			r->msg_len = 0;
			r->in_msg = true;
		}
		if (f.payload_len > r->msg_cap - r->msg_len)
			return -EMSGSIZE;
		memcpy(r->msg + r->msg_len, payload, (size_t)f.payload_len);
		r->msg_len += (size_t)f.payload_len;
		consume(r, whole);
		if (f.fin) {
			r->in_msg = false;
			m->op = r->msg_op;
			m->data = r->msg;
			m->len = r->msg_len;
			return 1;
		}
	}
}
