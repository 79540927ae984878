/* SPDX-License-Identifier: MIT */
/*
 * The MySQL/MariaDB client/server protocol's framing and the few payloads
 * the session reads: packets (3-byte length, sequence id) joined into
 * messages (a payload of 0xffffff bytes continues in the next packet), the
 * server's greeting, the client's handshake response, OK, ERR and EOF.
 *
 * The reader keeps only the first bytes of each message (how many is the
 * caller's choice, message by message) and skips the rest by length, so a
 * result set of any size costs a few bytes per row, and bytes the capture
 * missed inside a payload are no harm. Pure code.
 */
#ifndef SONDE_MYSQL_WIRE_H
#define SONDE_MYSQL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Capability flags (the server's greeting, the client's response; the
 * upper 32 bits are MariaDB's extended capabilities). */
#define MYSQL_CAP_MYSQL		   (1ull << 0) /* unset by MariaDB: extended caps follow */
#define MYSQL_CAP_CONNECT_WITH_DB  (1ull << 3)
#define MYSQL_CAP_COMPRESS	   (1ull << 5)
#define MYSQL_CAP_PROTOCOL_41	   (1ull << 9)
#define MYSQL_CAP_SSL		   (1ull << 11)
#define MYSQL_CAP_SECURE_CONN	   (1ull << 15)
#define MYSQL_CAP_PLUGIN_AUTH	   (1ull << 19)
#define MYSQL_CAP_AUTH_LENENC	   (1ull << 21)
#define MYSQL_CAP_SESSION_TRACK	   (1ull << 23)
#define MYSQL_CAP_DEPRECATE_EOF	   (1ull << 24)
#define MYSQL_CAP_OPTIONAL_META	   (1ull << 25)
#define MYSQL_CAP_ZSTD		   (1ull << 26)
#define MYSQL_CAP_QUERY_ATTRIBUTES (1ull << 27)
#define MARIADB_CAP_PROGRESS	   (1ull << 32)
#define MARIADB_CAP_CACHE_META	   (1ull << 36)

/* Server status flags (OK and EOF packets). */
#define MYSQL_STATUS_MORE_RESULTS  0x0008
#define MYSQL_STATUS_CURSOR_EXISTS 0x0040
#define MYSQL_STATUS_STATE_CHANGED 0x4000

#define MYSQL_MAX_PACKET	   0xffffffu

enum mysql_read {
	MYSQL_MORE = 0, /* all bytes used, the message goes on */
	MYSQL_FIRST,	/* a message's first payload byte was kept: the keep may change */
	MYSQL_MESSAGE,	/* a message is complete */
	MYSQL_BAD,	/* framing lost: reset before use */
};

/* One direction of a connection. */
struct mysql_reader {
	uint8_t hdr[4];
	uint8_t hdr_have;
	bool ask_first; /* report MYSQL_FIRST */
	bool check_seq; /* a message must start with sequence id want_seq */
	uint8_t want_seq;
	bool in_payload;   /* inside a packet's payload */
	bool continued;	   /* the message goes on in the next packet */
	uint32_t left;	   /* payload bytes of the current packet not read */
	uint8_t first_seq; /* of the message's first packet */
	uint8_t last_seq;  /* of its last packet so far */
	uint64_t len;	   /* message bytes so far (its length once complete) */
	size_t keep;	   /* bytes of the message to keep */
	size_t have;	   /* bytes kept */
	bool gap;	   /* bytes of the kept range went unseen: have is a prefix */
	uint8_t *buf;	   /* the kept bytes; grows up to keep */
	size_t cap;
};

void mysql_reader_init(struct mysql_reader *r, size_t keep);
void mysql_reader_free(struct mysql_reader *r);
/* Back to a message boundary (after MYSQL_BAD, or to re-synchronise). */
void mysql_reader_reset(struct mysql_reader *r);
bool mysql_reader_at_boundary(const struct mysql_reader *r);
/* Forgets the kept bytes (overwrites them). */
void mysql_reader_wipe(struct mysql_reader *r);

/* Reads from data until a message completes (or its first byte is kept,
 * with ask_first), the bytes run out or the framing is lost. */
enum mysql_read mysql_read(struct mysql_reader *r, const uint8_t *data, size_t len, size_t *used);

/* n bytes went unseen: fine inside a payload. */
enum mysql_read mysql_skip(struct mysql_reader *r, uint64_t n);

/* Cursor over a kept payload. */
struct mysql_buf {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad; /* read past the end */
};

uint64_t mysql_get_int(struct mysql_buf *b, size_t n); /* little-endian, n <= 8 */
uint64_t mysql_get_lenenc(struct mysql_buf *b);
/* A NUL-terminated string: its bytes (without the NUL) and length. */
const uint8_t *mysql_get_cstr(struct mysql_buf *b, size_t *n);
void mysql_skip_bytes(struct mysql_buf *b, size_t n);

/* The server's first message: Initial Handshake v10. */
struct mysql_greeting {
	bool mariadb; /* its version says MariaDB */
	uint64_t caps;
};
bool mysql_parse_greeting(const uint8_t *p, size_t len, struct mysql_greeting *g);

/* The client's HandshakeResponse41 (or the SSLRequest that starts it). Its
 * user name and auth response are stepped over, never copied. */
struct mysql_handshake {
	uint64_t caps;
	bool ssl_request;  /* only the 32 bytes that ask for TLS */
	const uint8_t *db; /* the database asked for, or NULL */
	size_t db_len;
};
bool mysql_parse_handshake(const uint8_t *p, size_t len, bool complete, struct mysql_handshake *h);

/* OK (0x00, or 0xfe ending rows with CLIENT_DEPRECATE_EOF) and EOF. */
struct mysql_ok {
	uint16_t status;
	const uint8_t *schema; /* a session-state change of the current database */
	size_t schema_len;
};
bool mysql_parse_ok(const uint8_t *p, size_t len, uint64_t caps, struct mysql_ok *ok);
bool mysql_parse_eof(const uint8_t *p, size_t len, uint16_t *status);
/* An EOF packet, or an OK packet in its place (0xfe, shorter than a row
 * that starts with a 0xfe length could be). */
bool mysql_is_eof(const uint8_t *p, size_t have, uint64_t len);

/* ERR: the error number and SQLSTATE ("" before the protocol is known). */
struct mysql_err {
	uint16_t code;
	char sqlstate[6];
};
bool mysql_parse_err(const uint8_t *p, size_t len, struct mysql_err *e);

#endif /* SONDE_MYSQL_WIRE_H */
