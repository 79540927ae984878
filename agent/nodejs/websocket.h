/* SPDX-License-Identifier: MIT */
/*
 * The client side of RFC 6455 WebSocket, as much as talking to the Node.js
 * inspector needs: the opening handshake, masked frames out, frames in
 * (fragmented messages put back together, control frames between them).
 * Pure: bytes in, bytes out; the sockets are in nodejs/inspector.c.
 */
#ifndef SONDE_WEBSOCKET_H
#define SONDE_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_KEY_LEN	    24	/* base64 of the 16-byte nonce */
#define WS_ACCEPT_LEN	    28	/* base64 of a SHA-1 digest */
#define WS_MAX_CONTROL	    125 /* payload of a control frame, at most (5.5) */
#define WS_MAX_HEADER	    14	/* 2 + 8 bytes of length + 4 of mask */
#define WS_MAX_HANDSHAKE_IN 4096

enum ws_opcode {
	WS_OP_CONTINUATION = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* SHA-1 (FIPS 180-4): the handshake's only use of it. */
void ws_sha1(const void *data, size_t len, uint8_t digest[20]);
/* RFC 4648 base64 with padding; out holds 4 * ceil(len / 3) + 1 bytes. */
void ws_base64(const uint8_t *in, size_t len, char *out);

/* The Sec-WebSocket-Key for a 16-byte random nonce. */
void ws_key(const uint8_t nonce[16], char key[WS_KEY_LEN + 1]);
/* What the server must answer in Sec-WebSocket-Accept for key (4.2.2). */
void ws_accept_for(const char *key, char accept[WS_ACCEPT_LEN + 1]);
/* The opening handshake for ws://host/path. Returns its length, or -ENOSPC. */
int ws_handshake_request(char *buf, size_t cap, const char *host, const char *path,
			 const char *key);
/* Checks the server's answer to the handshake with key: the head must be
 * complete (up to the empty line). Returns the head's length (frames may
 * follow it), 0 when more bytes are needed, -EPROTO when the server refused
 * or answered something else (status not 101, Upgrade or Connection missing,
 * a wrong Sec-WebSocket-Accept). */
int ws_handshake_response(const char *buf, size_t len, const char *key);

/* One frame from client to server: FIN set, masked with mask (5.3).
 * Returns the frame's length, or -ENOSPC when it does not fit in cap. */
int ws_frame_encode(uint8_t *out, size_t cap, enum ws_opcode op, const void *payload, size_t len,
		    const uint8_t mask[4]);

struct ws_frame {
	bool fin;
	uint8_t opcode;
	size_t header_len;
	uint64_t payload_len;
};

/* The header of the frame at buf. Returns 1 (f filled), 0 when more bytes
 * are needed, -EPROTO for a frame a client must fail the connection on:
 * reserved bits or opcodes, masked (servers never mask), a control frame
 * fragmented or longer than 125 bytes, a length with its top bit set. */
int ws_frame_decode(const uint8_t *buf, size_t len, struct ws_frame *f);

/* Reads messages out of the bytes received, in the caller's buffers. */
struct ws_reader {
	uint8_t *in; /* bytes received and not yet taken: append at in + in_len */
	size_t in_cap, in_len;
	uint8_t *msg; /* the data message being put together */
	size_t msg_cap, msg_len;
	uint8_t msg_op;
	bool in_msg; /* fragments of a message have come, not its last */
};

struct ws_message {
	uint8_t op;	     /* enum ws_opcode: TEXT, BINARY, CLOSE, PING or PONG */
	const uint8_t *data; /* a data message: r->msg; a control one: control */
	size_t len;
	uint8_t control[WS_MAX_CONTROL];
};

void ws_reader_init(struct ws_reader *r, uint8_t *in, size_t in_cap, uint8_t *msg, size_t msg_cap);
/* Takes the next whole message out of r->in. Returns 1 (m filled; a data
 * message is valid until the next call), 0 when more bytes are needed,
 * -EPROTO on a frame decode refuses or fragments out of order, -EMSGSIZE for
 * a frame or message larger than the buffers. */
int ws_reader_next(struct ws_reader *r, struct ws_message *m);

#endif /* SONDE_WEBSOCKET_H */
