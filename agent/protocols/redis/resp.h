/* SPDX-License-Identifier: MIT */
/*
 * Incremental RESP2/RESP3 frame parser for one direction of one Redis
 * connection: the commands a client writes (arrays of bulk strings, or
 * inline lines) or the replies it reads (any RESP type).
 *
 * It never buffers a value: bulk strings are skipped by their length, and
 * only the first bytes of the first few top-level items are kept, so that
 * the session can name a command or classify a reply. Which items are kept
 * is the caller's choice (capture), so that arguments such as passwords are
 * never copied. Nesting of any depth costs two counters: the items left at
 * the top level and the items left inside the current top-level item.
 *
 * Streamed RESP3 types (`$?`, `*?`), which Redis itself never sends, are
 * reported as bad input.
 */
#ifndef SONDE_REDIS_RESP_H
#define SONDE_REDIS_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Top-level items described in a frame, and bytes kept of each. */
#define RESP_ITEMS 3
#define RESP_KEEP  32

/* The type byte of an inline command (a frame that is a plain text line). */
#define RESP_INLINE 'i'

struct resp_item {
	char type;   /* '$', '+', '-', ':', '*', ... */
	bool null;   /* $-1, *-1, _ */
	bool cut;    /* text holds only the first bytes, or none (not captured) */
	uint8_t len; /* bytes in text */
	int64_t num; /* ':' integers; aggregate counts */
	char text[RESP_KEEP];
};

/*
 * A frame as far as the session needs it. A scalar frame is described by
 * item[0]; an aggregate (or an inline command) by its count and its first
 * top-level items.
 */
struct resp_frame {
	char type;	/* of the frame itself */
	int64_t count;	/* aggregates: elements (-1 null); inline: words */
	uint64_t items; /* top-level items completed so far */
	struct resp_item item[RESP_ITEMS];
};

enum resp_result {
	RESP_MORE = 0, /* all bytes used, the frame goes on */
	RESP_FIRST,    /* an aggregate's first item is complete: set capture for the rest */
	RESP_FRAME,    /* a frame is complete: frame holds it until the next call */
	RESP_BAD,      /* not RESP: the parser must be reset before it is used again */
};

struct resp_parser {
	bool commands;	  /* commands (arrays of bulk strings, inline) or replies */
	uint8_t state;	  /* internal */
	bool top;	  /* the item being read is the frame itself */
	bool depth1;	  /* the item being read is a top-level item */
	bool keep;	  /* its bytes are kept (in frame.item[index]) */
	bool attr1;	  /* an attribute stands before the next top-level item */
	char type;	  /* of the item being read */
	uint8_t quote;	  /* inline: quote character open, or 0 */
	uint8_t line_len; /* header: bytes in line; text: last byte was CR; inline: in a word */
	uint32_t index;	  /* top-level index of the item being read */
	uint32_t capture; /* bit i: keep top-level item i (item 0 always) */
	uint64_t left;	  /* bulk bytes left, CRLF included; text and inline: bytes read */
	uint64_t top_left;
	uint64_t nested_left;
	char line[24]; /* a length or number being read */
	struct resp_frame frame;
};

void resp_parser_init(struct resp_parser *p, bool commands);

/* Back to the start of a frame (after RESP_BAD, or to re-synchronise). */
void resp_parser_reset(struct resp_parser *p);

/* Whether the parser is between frames. */
bool resp_at_frame_start(const struct resp_parser *p);

/*
 * Parses from data until a frame (or its first item) completes, the bytes
 * run out or they are not RESP. *used: bytes consumed. Call again with the
 * rest after RESP_FIRST and RESP_FRAME.
 */
enum resp_result resp_parse(struct resp_parser *p, const uint8_t *data, size_t len, size_t *used);

/*
 * n bytes that went unseen: fine inside a value whose length is known.
 * RESP_BAD when they may hold framing (the parser must then be reset);
 * RESP_FIRST or RESP_FRAME when they completed one.
 */
enum resp_result resp_skip(struct resp_parser *p, uint64_t n);

#endif /* SONDE_REDIS_RESP_H */
