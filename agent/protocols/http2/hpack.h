/* SPDX-License-Identifier: MIT */
/*
 * HPACK header block decoder (RFC 7541) for one direction of one HTTP/2
 * connection: static table, dynamic table with size updates, Huffman strings.
 *
 * Pure: bytes in, header fields out through a callback; no I/O, no globals.
 *
 * A passive observer can lose sync with the encoder: a header block it never
 * saw (capture loss, or a connection opened before the agent started) leaves
 * entries it does not know. The decoder then runs "partial": the entries
 * inserted since are known and sit at the right indexes (the newest ones), older
 * indexes are unknown and fields that use them are skipped, never guessed. It
 * is back in sync once the known entries alone fill the table, which proves
 * every unknown one was evicted (§4.4), or after a size update that leaves no
 * room for one. An index past the table or a bad Huffman string while in sync
 * is a desync: the table is cleared and the decoder goes partial.
 */
#ifndef SONDE_PROTO_HPACK_H
#define SONDE_PROTO_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 §6.5.2). */
#define HPACK_DEFAULT_TABLE_SIZE 4096
/* Largest dynamic table followed. An encoder told it may use more can still be
 * followed while it does not; past this the decoder stays partial. */
#define HPACK_MAX_TABLE_SIZE 65536
/* RFC 7541 §3.2 / §2.3.2: static entries are indexes 1..61. */
#define HPACK_STATIC_ENTRIES 61

enum hpack_field_flags {
	HPACK_F_DYNAMIC = 1u << 0,	 /* name or value came from the dynamic table */
	HPACK_F_VALUE_UNKNOWN = 1u << 1, /* the value could not be decoded (bad Huffman) */
};

/* Valid only during the callback. Not NUL-terminated. */
struct hpack_field {
	const char *name;
	size_t name_len;
	const char *value; /* NULL when HPACK_F_VALUE_UNKNOWN */
	size_t value_len;
	uint32_t flags;
};

typedef void (*hpack_field_fn)(void *ctx, const struct hpack_field *f);

/* What one header block gave. */
struct hpack_result {
	uint32_t fields;  /* delivered to the callback */
	uint32_t unknown; /* skipped: they name entries the decoder does not know */
	bool desync;	  /* this block showed the table was out of sync */
	bool resync;	  /* this block brought a partial table back in sync */
	bool malformed;	  /* the block ended inside a representation (rest not decoded) */
};

struct hpack_entry {
	uint32_t off; /* in the table's byte buffer */
	uint32_t name_len;
	uint32_t value_len;
};

struct hpack_decoder {
	/* Entry bytes (name then value), oldest first, in buf[start, end). */
	char *buf;
	uint32_t buf_cap, start, end;
	/* Entry index as a ring, oldest at ring[first]. */
	struct hpack_entry *ring;
	uint32_t ring_cap, first, count;
	uint32_t size;	    /* RFC 7541 §4.1: sum of name + value + 32 of the known entries */
	uint32_t max_size;  /* the table size followed: the encoder's, capped */
	uint32_t announced; /* the encoder's table size, uncapped (its last size update) */
	bool partial;	    /* entries older than the known ones may exist */
	/* Huffman-decoded strings of the field being delivered. */
	char *scratch;
	size_t scratch_cap;
};

/* A decoder for a direction whose first header block will be seen (partial
 * false), or for one already under way (partial true). */
void hpack_init(struct hpack_decoder *d, bool partial);
void hpack_free(struct hpack_decoder *d);

/*
 * Decodes one complete header block (RFC 7541 §3.1), calling fn for every field
 * whose name is known, in order. Updates the dynamic table. *res tells what
 * could not be decoded. Returns 0, or -EBADMSG when the block showed a desync or
 * was malformed (the decoder is then partial).
 */
int hpack_decode(struct hpack_decoder *d, const uint8_t *block, size_t len, hpack_field_fn fn,
		 void *ctx, struct hpack_result *res);

/* A header block went by unseen: whatever it inserted is unknown. */
void hpack_lose(struct hpack_decoder *d);

/* The table size the protocol set before the first header block, as
 * SETTINGS_HEADER_TABLE_SIZE does in RFC 7541 Appendix C.5. Later changes
 * come from the encoder's size updates, which this decoder follows. */
void hpack_set_max_size(struct hpack_decoder *d, uint32_t size);

/* The k-th newest known entry (k = 0 is index 62); false past the last. */
bool hpack_entry(const struct hpack_decoder *d, uint32_t k, struct hpack_field *out);

/*
 * Decodes a Huffman string (RFC 7541 §5.2, Appendix B) of len bytes into out,
 * which holds at least len * 8 / 5 + 1 bytes (the shortest code is 5 bits).
 * Returns the decoded length, or -EBADMSG for padding longer than 7 bits, padding
 * that is not the EOS prefix, or an EOS symbol.
 */
long hpack_huffman_decode(const uint8_t *in, size_t len, char *out);

#endif /* SONDE_PROTO_HPACK_H */
