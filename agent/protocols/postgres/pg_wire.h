/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL frontend/backend protocol 3 (protocol-message-formats in the
 * PostgreSQL documentation): message types, what a plausible message header
 * looks like in each direction, and the few message bodies sonde reads. Pure
 * code: bytes in, values out; nothing here keeps state.
 *
 * Every message but the first few a client sends is a type byte and an
 * int32 length (counting itself, not the type byte), big-endian. The
 * start-up family (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest)
 * has no type byte: an int32 length and an int32 code.
 */
#ifndef SONDE_PG_WIRE_H
#define SONDE_PG_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Codes of the start-up family. */
#define PG_PROTOCOL_3	   0x00030000u /* StartupMessage: major 3 in the high 16 bits */
#define PG_CANCEL_CODE	   80877102u
#define PG_SSL_CODE	   80877103u
#define PG_GSSENC_CODE	   80877104u
#define PG_STARTUP_MAX_LEN 10000u /* the server refuses longer start-up packets */

/* Frontend (client to server) message types. */
enum {
	PG_F_QUERY = 'Q',
	PG_F_PARSE = 'P',
	PG_F_BIND = 'B',
	PG_F_DESCRIBE = 'D',
	PG_F_EXECUTE = 'E',
	PG_F_CLOSE = 'C',
	PG_F_SYNC = 'S',
	PG_F_FLUSH = 'H',
	PG_F_FUNCTION_CALL = 'F',
	PG_F_TERMINATE = 'X',
	PG_F_COPY_DATA = 'd',
	PG_F_COPY_DONE = 'c',
	PG_F_COPY_FAIL = 'f',
	PG_F_PASSWORD = 'p', /* also SASL and GSSAPI responses: never read */
};

/* Backend (server to client) message types. */
enum {
	PG_B_AUTH = 'R',
	PG_B_KEY_DATA = 'K',
	PG_B_PARAMETER_STATUS = 'S',
	PG_B_READY = 'Z',
	PG_B_ROW_DESCRIPTION = 'T',
	PG_B_DATA_ROW = 'D',
	PG_B_COMMAND_COMPLETE = 'C',
	PG_B_EMPTY_QUERY = 'I',
	PG_B_ERROR = 'E',
	PG_B_NOTICE = 'N',
	PG_B_NOTIFICATION = 'A',
	PG_B_PARSE_COMPLETE = '1',
	PG_B_BIND_COMPLETE = '2',
	PG_B_CLOSE_COMPLETE = '3',
	PG_B_PARAMETER_DESCRIPTION = 't',
	PG_B_NO_DATA = 'n',
	PG_B_PORTAL_SUSPENDED = 's',
	PG_B_COPY_IN = 'G',
	PG_B_COPY_OUT = 'H',
	PG_B_COPY_BOTH = 'W',
	PG_B_COPY_DATA = 'd',
	PG_B_COPY_DONE = 'c',
	PG_B_FUNCTION_RESULT = 'V',
	PG_B_NEGOTIATE_VERSION = 'v',
};

static inline uint32_t pg_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Whether a typed message header (type, length field) could come from that
 * side: a known type, and a length in the range its format allows. */
bool pg_frontend_plausible(uint8_t type, uint32_t len);
bool pg_backend_plausible(uint8_t type, uint32_t len);

/* What a start-up family header (length field, code) is. */
enum pg_startup_kind {
	PG_STARTUP_NONE = 0, /* not one */
	PG_STARTUP,
	PG_STARTUP_SSL,
	PG_STARTUP_GSSENC,
	PG_STARTUP_CANCEL,
};

enum pg_startup_kind pg_startup_kind(uint32_t len, uint32_t code);

/* A message's body as the session kept it: possibly only a prefix. */
struct pg_body {
	const uint8_t *p;
	size_t n;
};

/* The NUL-terminated string at *off in b: its bytes (without the NUL) and
 * length; *off moves past the NUL. false when no NUL is within b (the
 * string is then all of the rest, and *off the end). */
bool pg_cstring(struct pg_body b, size_t *off, const char **s, size_t *n);

/* StartupMessage parameters (after the code): the value of "database".
 * Without one the server takes the user name, which sonde never exports:
 * false then. */
bool pg_startup_database(struct pg_body params, const char **db, size_t *n);

/* ErrorResponse / NoticeResponse: the SQLSTATE (field 'C'). */
bool pg_error_code(struct pg_body b, const char **code, size_t *n);

/* CommandComplete's tag: the verb ("SELECT", "INSERT", …) and the row count
 * it ends with, if any (-1 when none: "BEGIN", "CREATE TABLE"). */
void pg_command_tag(struct pg_body b, char *verb, size_t verb_len, int64_t *rows);

#endif /* SONDE_PG_WIRE_H */
