/* SPDX-License-Identifier: MIT */
/* HPACK decoding (RFC 7541); see hpack.h for how a lost sync is handled. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http2/hpack.h"

/* RFC 7541 §4.1: every entry costs its name and value plus 32 octets. */
#define ENTRY_OVERHEAD 32
/* Integers past this are not HPACK a sane peer sends (§5.1 leaves the limit to us). */
#define INT_MAX_VALUE (1u << 28)

struct static_entry {
	const char *name;
	const char *value;
};

/* RFC 7541 Appendix A; index i is static_table[i - 1]. */
static const struct static_entry static_table[HPACK_STATIC_ENTRIES] = {
	{ ":authority", "" },
	{ ":method", "GET" },
	{ ":method", "POST" },
	{ ":path", "/" },
	{ ":path", "/index.html" },
	{ ":scheme", "http" },
	{ ":scheme", "https" },
	{ ":status", "200" },
	{ ":status", "204" },
	{ ":status", "206" },
	{ ":status", "304" },
	{ ":status", "400" },
	{ ":status", "404" },
	{ ":status", "500" },
	{ "accept-charset", "" },
	{ "accept-encoding", "gzip, deflate" },
	{ "accept-language", "" },
	{ "accept-ranges", "" },
	{ "accept", "" },
	{ "access-control-allow-origin", "" },
	{ "age", "" },
	{ "allow", "" },
	{ "authorization", "" },
	{ "cache-control", "" },
	{ "content-disposition", "" },
	{ "content-encoding", "" },
	{ "content-language", "" },
	{ "content-length", "" },
	{ "content-location", "" },
	{ "content-range", "" },
	{ "content-type", "" },
	{ "cookie", "" },
	{ "date", "" },
	{ "etag", "" },
	{ "expect", "" },
	{ "expires", "" },
	{ "from", "" },
	{ "host", "" },
	{ "if-match", "" },
	{ "if-modified-since", "" },
	{ "if-none-match", "" },
	{ "if-range", "" },
	{ "if-unmodified-since", "" },
	{ "last-modified", "" },
	{ "link", "" },
	{ "location", "" },
	{ "max-forwards", "" },
	{ "proxy-authenticate", "" },
	{ "proxy-authorization", "" },
	{ "range", "" },
	{ "referer", "" },
	{ "refresh", "" },
	{ "retry-after", "" },
	{ "server", "" },
	{ "set-cookie", "" },
	{ "strict-transport-security", "" },
	{ "transfer-encoding", "" },
	{ "user-agent", "" },
	{ "vary", "" },
	{ "via", "" },
	{ "www-authenticate", "" },
};

void hpack_init(struct hpack_decoder *d, bool partial)
{
	memset(d, 0, sizeof(*d));
	d->max_size = HPACK_DEFAULT_TABLE_SIZE;
	d->announced = HPACK_DEFAULT_TABLE_SIZE;
	d->partial = partial;
}

void hpack_free(struct hpack_decoder *d)
{
	free(d->buf);
	free(d->ring);
	free(d->scratch);
	memset(d, 0, sizeof(*d));
}

static void table_clear(struct hpack_decoder *d)
{
	d->first = d->count = 0;
	d->start = d->end = 0;
	d->size = 0;
}

void hpack_lose(struct hpack_decoder *d)
{
	table_clear(d);
	d->partial = true;
}

/* k = 0 is the newest entry (index 62). */
static struct hpack_entry *entry_at(struct hpack_decoder *d, uint32_t k)
{
	return &d->ring[(d->first + d->count - 1 - k) % d->ring_cap];
}

static void evict_oldest(struct hpack_decoder *d)
{
	struct hpack_entry *e = &d->ring[d->first];

	d->size -= e->name_len + e->value_len + ENTRY_OVERHEAD;
	d->start = e->off + e->name_len + e->value_len;
	d->first = (d->first + 1) % d->ring_cap;
	if (--d->count == 0)
		d->start = d->end = 0;
}

/* Whether the table followed is the encoder's own: only then does evicting a
 * known entry prove that the older, unknown ones went first. */
static bool follows_encoder(const struct hpack_decoder *d)
{
	return d->announced == d->max_size;
}

/* A partial table is whole again once no unknown entry (at least 32 octets)
 * can still fit beside the known ones. */
static void check_resync(struct hpack_decoder *d, bool evicted_known, struct hpack_result *res)
{
	if (!d->partial || !follows_encoder(d))
		return;
	if (evicted_known || d->size + ENTRY_OVERHEAD > d->max_size) {
		d->partial = false;
		res->resync = true;
	}
}

static void set_max_size(struct hpack_decoder *d, uint32_t v, struct hpack_result *res)
{
	bool evicted = false;

	d->announced = v;
	d->max_size = v < HPACK_MAX_TABLE_SIZE ? v : HPACK_MAX_TABLE_SIZE;
	while (d->count && d->size > d->max_size) {
		evict_oldest(d);
		evicted = true;
	}
	/* Evicted here but kept by an encoder with a larger table. */
	if (evicted && !follows_encoder(d))
		d->partial = true;
	check_resync(d, evicted, res);
}

void hpack_set_max_size(struct hpack_decoder *d, uint32_t size)
{
	struct hpack_result ignored = { 0 };

	set_max_size(d, size, &ignored);
}

bool hpack_entry(const struct hpack_decoder *d, uint32_t k, struct hpack_field *out)
{
	const struct hpack_entry *e;

	if (k >= d->count)
		return false;
	e = &d->ring[(d->first + d->count - 1 - k) % d->ring_cap];
	*out = (struct hpack_field){ .name = d->buf + e->off,
				     .name_len = e->name_len,
				     .value = d->buf + e->off + e->name_len,
				     .value_len = e->value_len,
				     .flags = HPACK_F_DYNAMIC };
	return true;
}

/* Makes room for need more bytes at end; false when out of memory. The buffer
 * exists once any entry is in the table, even an entry of no bytes ("" = ""),
 * so entries always point into it. */
static bool buf_reserve(struct hpack_decoder *d, uint32_t need)
{
	if (d->buf && d->end + need <= d->buf_cap)
		return true;
	if (d->start) {
		/* Compact: live bytes to the front, entry offsets with them. */
		memmove(d->buf, d->buf + d->start, d->end - d->start);
		for (uint32_t i = 0; i < d->count; i++)
			d->ring[(d->first + i) % d->ring_cap].off -= d->start;
		d->end -= d->start;
		d->start = 0;
		if (d->end + need <= d->buf_cap)
			return true;
	}
	uint32_t cap = d->buf_cap ? d->buf_cap : 512;
	char *nb;

	while (cap < d->end + need)
		cap *= 2;
	nb = realloc(d->buf, cap);
	if (!nb)
		return false;
	d->buf = nb;
	d->buf_cap = cap;
	return true;
}

static bool ring_reserve(struct hpack_decoder *d)
{
	uint32_t cap = d->ring_cap ? d->ring_cap * 2 : 16;
	struct hpack_entry *nr;

	if (d->count < d->ring_cap)
		return true;
	nr = malloc(cap * sizeof(*nr));
	if (!nr)
		return false;
	for (uint32_t i = 0; i < d->count; i++)
		nr[i] = d->ring[(d->first + i) % d->ring_cap];
	free(d->ring);
	d->ring = nr;
	d->ring_cap = cap;
	d->first = 0;
	return true;
}

/* §4.4: evict until the entry fits, then add it as the newest. The name may
 * not point into the table (the caller copies dynamic names aside). */
static void table_insert(struct hpack_decoder *d, const char *name, uint32_t nlen,
			 const char *value, uint32_t vlen, struct hpack_result *res)
{
	uint64_t esize = (uint64_t)nlen + vlen + ENTRY_OVERHEAD;
	bool evicted = false;

	if (esize > d->max_size) {
		/* Larger than the table: the table ends up empty. Only a whole
		 * one when the encoder's table is no larger than ours. */
		table_clear(d);
		if (esize <= d->announced) {
			d->partial = true;
		} else if (d->partial) {
			d->partial = false;
			res->resync = true;
		}
		return;
	}
	while (d->count && d->size + esize > d->max_size) {
		evict_oldest(d);
		evicted = true;
	}
	if (evicted && !follows_encoder(d))
		d->partial = true;
	if (!buf_reserve(d, nlen + vlen) || !ring_reserve(d)) {
		hpack_lose(d); /* out of memory: what follows cannot be trusted */
		return;
	}
	memcpy(d->buf + d->end, name, nlen);
	memcpy(d->buf + d->end + nlen, value, vlen);
	d->ring[(d->first + d->count) % d->ring_cap] =
		(struct hpack_entry){ .off = d->end, .name_len = nlen, .value_len = vlen };
	d->count++;
	d->end += nlen + vlen;
	d->size += (uint32_t)esize;
	check_resync(d, evicted, res);
}

/* §5.1: an integer with an n-bit prefix. Returns false when cut or too large. */
static bool read_int(const uint8_t *b, size_t len, size_t *pos, unsigned n, uint32_t *out)
{
	uint32_t max = (1u << n) - 1;
	uint32_t v = b[*pos] & max;
	unsigned m = 0;

	(*pos)++;
	if (v < max) {
		*out = v;
		return true;
	}
	for (;;) {
		uint8_t c;

		if (*pos >= len || m > 21)
			return false;
		c = b[(*pos)++];
		v += (uint32_t)(c & 0x7f) << m;
		m += 7;
		if (!(c & 0x80))
			break;
	}
	if (v > INT_MAX_VALUE)
		return false;
	*out = v;
	return true;
}

enum lookup {
	LOOKUP_OK,
	LOOKUP_UNKNOWN, /* an entry the partial table does not know */
	LOOKUP_BAD,	/* an index no in-sync table has: the table is out of sync */
};

static enum lookup lookup(struct hpack_decoder *d, uint32_t idx, struct hpack_field *f)
{
	if (idx == 0)
		return LOOKUP_BAD;
	if (idx <= HPACK_STATIC_ENTRIES) {
		const struct static_entry *s = &static_table[idx - 1];

		f->name = s->name;
		f->name_len = strlen(s->name);
		f->value = s->value;
		f->value_len = strlen(s->value);
		return LOOKUP_OK;
	}
	idx -= HPACK_STATIC_ENTRIES + 1;
	if (idx < d->count) {
		struct hpack_entry *e = entry_at(d, idx);

		f->name = d->buf + e->off;
		f->name_len = e->name_len;
		f->value = d->buf + e->off + e->name_len;
		f->value_len = e->value_len;
		f->flags |= HPACK_F_DYNAMIC;
		return LOOKUP_OK;
	}
	return d->partial ? LOOKUP_UNKNOWN : LOOKUP_BAD;
}

/* The table was found out of sync: nothing in it can be trusted. */
static void desync(struct hpack_decoder *d, struct hpack_result *res)
{
	hpack_lose(d);
	res->desync = true;
}

enum str_result {
	STR_OK,
	STR_BAD_HUFFMAN, /* skipped: the string's length is known, its text is not */
	STR_CUT,	 /* the block ends inside the string */
};

/* §5.2: a string literal, Huffman-decoded into scratch at *used if needed. */
static enum str_result read_str(struct hpack_decoder *d, const uint8_t *b, size_t len, size_t *pos,
				size_t *used, const char **out, size_t *out_len)
{
	bool huffman;
	uint32_t n;
	long got;

	if (*pos >= len)
		return STR_CUT;
	huffman = b[*pos] & 0x80;
	if (!read_int(b, len, pos, 7, &n) || n > len - *pos)
		return STR_CUT;
	if (!huffman) {
		*out = (const char *)b + *pos;
		*out_len = n;
		*pos += n;
		return STR_OK;
	}
	got = hpack_huffman_decode(b + *pos, n, d->scratch + *used);
	*pos += n;
	if (got < 0)
		return STR_BAD_HUFFMAN;
	*out = d->scratch + *used;
	*out_len = (size_t)got;
	*used += (size_t)got;
	return STR_OK;
}

static bool scratch_reserve(struct hpack_decoder *d, size_t need)
{
	char *ns;

	if (need <= d->scratch_cap)
		return true;
	ns = realloc(d->scratch, need);
	if (!ns)
		return false;
	d->scratch = ns;
	d->scratch_cap = need;
	return true;
}

/*
 * A literal field (§6.2), first byte at *pos with an n-bit index prefix.
 * Returns false when the block is cut inside it.
 */
static bool literal(struct hpack_decoder *d, const uint8_t *b, size_t len, size_t *pos, unsigned n,
		    bool indexing, hpack_field_fn fn, void *ctx, struct hpack_result *res)
{
	struct hpack_field f = { 0 };
	bool name_known = true, value_known = true;
	size_t used = 0;
	uint32_t idx;

	if (!read_int(b, len, pos, n, &idx))
		return false;
	if (idx) {
		enum lookup l = lookup(d, idx, &f);

		if (l == LOOKUP_BAD)
			desync(d, res);
		name_known = l == LOOKUP_OK;
		if (name_known && (f.flags & HPACK_F_DYNAMIC))
			used = f.name_len;
	}
	/* Room for a dynamic name and every string left in the block (Huffman
	 * expands at most 8/5), reserved before any pointer into scratch is taken. */
	if (!scratch_reserve(d, used + (len - *pos) * 8 / 5 + 2))
		return false;
	if (idx) {
		if (used) {
			/* Copied aside: inserting may evict the entry it names (§4.4). */
			memcpy(d->scratch, f.name, f.name_len);
			f.name = d->scratch;
		}
	} else {
		enum str_result r = read_str(d, b, len, pos, &used, &f.name, &f.name_len);

		if (r == STR_CUT)
			return false;
		if (r == STR_BAD_HUFFMAN) {
			desync(d, res);
			name_known = false;
		}
	}
	switch (read_str(d, b, len, pos, &used, &f.value, &f.value_len)) {
	case STR_CUT:
		return false;
	case STR_BAD_HUFFMAN:
		desync(d, res);
		value_known = false;
		f.value = NULL;
		f.value_len = 0;
		f.flags |= HPACK_F_VALUE_UNKNOWN;
		break;
	case STR_OK:
		break;
	}
	if (name_known) {
		res->fields++;
		fn(ctx, &f);
	} else {
		res->unknown++;
	}
	if (indexing) {
		if (name_known && value_known)
			table_insert(d, f.name, (uint32_t)f.name_len, f.value,
				     (uint32_t)f.value_len, res);
		else
			hpack_lose(d); /* an entry of unknown size went in */
	}
	return true;
}

int hpack_decode(struct hpack_decoder *d, const uint8_t *block, size_t len, hpack_field_fn fn,
		 void *ctx, struct hpack_result *res)
{
	size_t pos = 0;

	memset(res, 0, sizeof(*res));
	while (pos < len) {
		uint8_t c = block[pos];
		bool ok;

		if (c & 0x80) { /* §6.1 indexed field */
			struct hpack_field f = { 0 };
			uint32_t idx;
			enum lookup l;

			ok = read_int(block, len, &pos, 7, &idx);
			l = ok ? lookup(d, idx, &f) : LOOKUP_UNKNOWN;
			if (ok && l == LOOKUP_OK) {
				res->fields++;
				fn(ctx, &f);
			} else if (ok) {
				if (l == LOOKUP_BAD)
					desync(d, res);
				res->unknown++;
			}
		} else if ((c & 0xc0) == 0x40) { /* §6.2.1 with incremental indexing */
			ok = literal(d, block, len, &pos, 6, true, fn, ctx, res);
		} else if ((c & 0xe0) == 0x20) { /* §6.3 dynamic table size update */
			uint32_t v;

			ok = read_int(block, len, &pos, 5, &v);
			if (ok)
				set_max_size(d, v, res);
		} else { /* §6.2.2 without indexing, §6.2.3 never indexed */
			ok = literal(d, block, len, &pos, 4, false, fn, ctx, res);
		}
		if (!ok) {
			res->malformed = true;
			break;
		}
	}
	if (res->malformed)
		hpack_lose(d);
	/* Keep a small scratch for the next block; give large ones back. */
	if (d->scratch_cap > 16384) {
		free(d->scratch);
		d->scratch = NULL;
		d->scratch_cap = 0;
	}
	return res->desync || res->malformed ? -EBADMSG : 0;
}
