/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "protocols/mysql/mysql_wire.h"

/* Longest server version string taken for a greeting. */
#define MAX_VERSION 96

void mysql_reader_init(struct mysql_reader *r, size_t keep)
{
	memset(r, 0, sizeof(*r));
	r->keep = keep;
}

void mysql_reader_free(struct mysql_reader *r)
{
	mysql_reader_wipe(r);
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

void mysql_reader_reset(struct mysql_reader *r)
{
	struct mysql_reader kept = *r;

	mysql_reader_wipe(r);
	memset(r, 0, sizeof(*r));
	r->keep = kept.keep;
	r->ask_first = kept.ask_first;
	r->check_seq = kept.check_seq;
	r->want_seq = kept.want_seq;
	r->buf = kept.buf;
	r->cap = kept.cap;
}

bool mysql_reader_at_boundary(const struct mysql_reader *r)
{
	return !r->in_payload && !r->hdr_have && !r->continued;
}

void mysql_reader_wipe(struct mysql_reader *r)
{
	if (r->buf && r->have)
		explicit_bzero(r->buf, r->have);
	r->have = 0;
}

/* Keeps up to n bytes of the message (as far as keep says). */
static void keep_bytes(struct mysql_reader *r, const uint8_t *p, size_t n)
{
	if (r->gap || r->have >= r->keep)
		return;
	if (n > r->keep - r->have)
		n = r->keep - r->have;
	if (r->have + n > r->cap) {
		size_t cap = r->cap ? r->cap : 64;
		uint8_t *buf;

		while (cap < r->have + n)
			cap *= 2;
		if (cap > r->keep)
			cap = r->keep;
		buf = realloc(r->buf, cap);
		if (!buf) {
			r->gap = true; /* what is kept stays a prefix */
			return;
		}
		r->buf = buf;
		r->cap = cap;
	}
	memcpy(r->buf + r->have, p, n);
	r->have += n;
}

/* The current packet's payload is read. */
static enum mysql_read packet_done(struct mysql_reader *r)
{
	r->in_payload = false;
	return r->continued ? MYSQL_MORE : MYSQL_MESSAGE;
}

/* A packet header is complete. */
static enum mysql_read header_done(struct mysql_reader *r)
{
	uint32_t len = r->hdr[0] | (uint32_t)r->hdr[1] << 8 | (uint32_t)r->hdr[2] << 16;
	uint8_t seq = r->hdr[3];

	r->hdr_have = 0;
	if (r->continued) {
		if (seq != (uint8_t)(r->last_seq + 1))
			return MYSQL_BAD;
	} else {
		if (r->check_seq && seq != r->want_seq)
			return MYSQL_BAD;
		mysql_reader_wipe(r);
		r->len = 0;
		r->gap = false;
		r->first_seq = seq;
	}
	r->last_seq = seq;
	r->continued = len == MYSQL_MAX_PACKET;
	r->left = len;
	r->in_payload = true;
	return len ? MYSQL_MORE : packet_done(r);
}

enum mysql_read mysql_read(struct mysql_reader *r, const uint8_t *data, size_t len, size_t *used)
{
	enum mysql_read res = MYSQL_MORE;
	size_t i = 0;

	while (i < len && res == MYSQL_MORE) {
		size_t n;

		if (!r->in_payload) {
			r->hdr[r->hdr_have++] = data[i++];
			if (r->hdr_have == sizeof(r->hdr))
				res = header_done(r);
			continue;
		}
		n = len - i < r->left ? len - i : r->left;
		/* The first byte alone, so the caller can choose what to keep. */
		if (r->ask_first && !r->len && r->left > 1)
			n = 1;
		keep_bytes(r, data + i, n);
		i += n;
		r->len += n;
		r->left -= (uint32_t)n;
		if (!r->left)
			res = packet_done(r);
		else if (r->ask_first && r->len == 1)
			res = MYSQL_FIRST;
	}
	*used = i;
	return res;
}

enum mysql_read mysql_skip(struct mysql_reader *r, uint64_t n)
{
	if (!n)
		return MYSQL_MORE;
	if (!r->in_payload || n > r->left)
		return MYSQL_BAD;
	if (r->len < r->keep)
		r->gap = true;
	r->len += n;
	r->left -= (uint32_t)n;
	return r->left ? MYSQL_MORE : packet_done(r);
}

uint64_t mysql_get_int(struct mysql_buf *b, size_t n)
{
	uint64_t v = 0;

	if (b->bad || n > b->len - b->off) {
		b->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)b->p[b->off + i] << (8 * i);
	b->off += n;
	return v;
}

uint64_t mysql_get_lenenc(struct mysql_buf *b)
{
	uint64_t first = mysql_get_int(b, 1);

	switch (first) {
	case 0xfc:
		return mysql_get_int(b, 2);
	case 0xfd:
		return mysql_get_int(b, 3);
	case 0xfe:
		return mysql_get_int(b, 8);
	case 0xfb: /* NULL */
	case 0xff:
		return 0;
	}
	return first;
}

const uint8_t *mysql_get_cstr(struct mysql_buf *b, size_t *n)
{
	const uint8_t *start = b->p + b->off;
	const uint8_t *nul;

	if (b->bad || b->off >= b->len) {
		b->bad = true;
		return NULL;
	}
	nul = memchr(start, 0, b->len - b->off);
	if (!nul) {
		b->bad = true;
		return NULL;
	}
	*n = (size_t)(nul - start);
	b->off += *n + 1;
	return start;
}

void mysql_skip_bytes(struct mysql_buf *b, size_t n)
{
	if (b->bad || n > b->len - b->off) {
		b->bad = true;
		return;
	}
	b->off += n;
}

bool mysql_parse_greeting(const uint8_t *p, size_t len, struct mysql_greeting *g)
{
	struct mysql_buf b = { .p = p, .len = len };
	const uint8_t *version;
	size_t n = 0;

	memset(g, 0, sizeof(*g));
	if (mysql_get_int(&b, 1) != 10)
		return false;
	version = mysql_get_cstr(&b, &n);
	if (!version || !n || n > MAX_VERSION)
		return false;
	for (size_t i = 0; i < n; i++)
		if (version[i] < 0x20 || version[i] >= 0x7f)
			return false;
	g->mariadb = memmem(version, n, "MariaDB", 7) != NULL;
	mysql_skip_bytes(&b, 4 + 8 + 1); /* connection id, scramble, filler */
	g->caps = mysql_get_int(&b, 2);
	if (b.bad)
		return false;
	if (len - b.off < 1 + 2 + 2 + 1 + 6 + 4)
		return true;	     /* a server of old: no more capabilities */
	mysql_skip_bytes(&b, 1 + 2); /* charset, status */
	g->caps |= mysql_get_int(&b, 2) << 16;
	mysql_skip_bytes(&b, 1 + 6); /* scramble length, reserved */
	if (!(g->caps & MYSQL_CAP_MYSQL))
		g->caps |= mysql_get_int(&b, 4) << 32;
	return true;
}

bool mysql_parse_handshake(const uint8_t *p, size_t len, bool complete, struct mysql_handshake *h)
{
	struct mysql_buf b = { .p = p, .len = len };
	size_t n = 0;

	memset(h, 0, sizeof(*h));
	h->caps = mysql_get_int(&b, 4);
	if (b.bad)
		return false;
	if (!(h->caps & MYSQL_CAP_PROTOCOL_41)) {
		h->caps &= 0xffff; /* HandshakeResponse320: no database kept */
		return true;
	}
	mysql_skip_bytes(&b, 4 + 1 + 19); /* max packet, charset, filler */
	if (!(h->caps & MYSQL_CAP_MYSQL))
		h->caps |= mysql_get_int(&b, 4) << 32;
	else
		mysql_skip_bytes(&b, 4);
	if (b.bad)
		return false;
	if (complete && len == 32 && (h->caps & MYSQL_CAP_SSL)) {
		h->ssl_request = true;
		return true;
	}
	/* The user name and the auth response: stepped over. */
	if (!mysql_get_cstr(&b, &n))
		return true;
	if (h->caps & MYSQL_CAP_AUTH_LENENC)
		mysql_skip_bytes(&b, mysql_get_lenenc(&b));
	else if (h->caps & MYSQL_CAP_SECURE_CONN)
		mysql_skip_bytes(&b, mysql_get_int(&b, 1));
	else
		mysql_get_cstr(&b, &n);
	if (!b.bad && (h->caps & MYSQL_CAP_CONNECT_WITH_DB)) {
		h->db = mysql_get_cstr(&b, &n);
		h->db_len = h->db ? n : 0;
	}
	return true;
}

bool mysql_parse_ok(const uint8_t *p, size_t len, uint64_t caps, struct mysql_ok *ok)
{
	struct mysql_buf b = { .p = p, .len = len };
	uint64_t n;
	size_t end;

	memset(ok, 0, sizeof(*ok));
	mysql_skip_bytes(&b, 1);
	mysql_get_lenenc(&b); /* affected rows */
	mysql_get_lenenc(&b); /* last insert id */
	ok->status = (uint16_t)mysql_get_int(&b, 2);
	mysql_skip_bytes(&b, 2); /* warnings */
	if (b.bad)
		return false;
	if (!(caps & MYSQL_CAP_SESSION_TRACK) || !(ok->status & MYSQL_STATUS_STATE_CHANGED) ||
	    b.off >= len)
		return true;
	mysql_skip_bytes(&b, mysql_get_lenenc(&b)); /* info */
	n = mysql_get_lenenc(&b);		    /* session state changes */
	if (b.bad || n > len - b.off)
		return true;
	end = b.off + n;
	while (!b.bad && b.off < end) {
		uint64_t type = mysql_get_int(&b, 1);
		uint64_t data = mysql_get_lenenc(&b);
		size_t data_end;

		if (b.bad || data > end - b.off)
			break;
		data_end = b.off + data;
		if (type == 1 /* SESSION_TRACK_SCHEMA */) {
			uint64_t name = mysql_get_lenenc(&b);

			if (!b.bad && name <= data_end - b.off) {
				ok->schema = p + b.off;
				ok->schema_len = name;
			}
		}
		b.off = data_end;
	}
	return true;
}

bool mysql_parse_eof(const uint8_t *p, size_t len, uint16_t *status)
{
	if (len < 5 || p[0] != 0xfe)
		return false;
	*status = p[3] | (uint16_t)p[4] << 8;
	return true;
}

bool mysql_is_eof(const uint8_t *p, size_t have, uint64_t len)
{
	return have >= 1 && p[0] == 0xfe && len < MYSQL_MAX_PACKET;
}

bool mysql_parse_err(const uint8_t *p, size_t len, struct mysql_err *e)
{
	memset(e, 0, sizeof(*e));
	if (len < 3 || p[0] != 0xff)
		return false;
	e->code = p[1] | (uint16_t)p[2] << 8;
	if (len >= 9 && p[3] == '#')
		memcpy(e->sqlstate, p + 4, 5);
	return true;
}
