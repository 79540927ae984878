/* SPDX-License-Identifier: MIT */
/*
 * What a Redis command is, from its first words: its name, its subcommand
 * (CLIENT SETNAME, CONFIG GET), the commands whose replies the session must
 * understand (SELECT, HELLO, pub/sub, MONITOR, CLIENT REPLY), and the text a
 * span shows for it: the command and subcommand with every argument as `?`.
 */
#ifndef SONDE_REDIS_COMMAND_H
#define SONDE_REDIS_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/redis/resp.h"
#include "protocols/span_identity.h"
#include "spans/span.h"

#define REDIS_SUB_LEN 24
#define REDIS_DB_LEN  8

enum redis_kind {
	REDIS_PLAIN = 0,
	REDIS_SELECT,	   /* changes db.namespace when answered +OK */
	REDIS_HELLO,	   /* its reply tells the protocol version; arguments never kept */
	REDIS_AUTH,	   /* arguments never kept, their number not shown */
	REDIS_MONITOR,	   /* after +OK the server streams: replies end */
	REDIS_RESET,	   /* back to RESP2, DB 0, no subscriptions */
	REDIS_CLIENT,	   /* CLIENT REPLY ON|OFF|SKIP changes which commands get replies */
	REDIS_SUBSCRIBE,   /* the pub/sub family: answered by confirmations ... */
	REDIS_UNSUBSCRIBE, /* ... one per channel */
};

/* Channels, patterns and shard channels: each has its own (un)subscribe. */
enum redis_channel_family {
	REDIS_CHANNELS = 0,
	REDIS_PATTERNS,
	REDIS_SHARDS,
};

/* CLIENT REPLY's argument. */
enum redis_reply_mode {
	REDIS_REPLY_ON = 0,
	REDIS_REPLY_OFF,
	REDIS_REPLY_SKIP,
};

/* A command as the session keeps it until its reply. */
struct redis_command {
	uint64_t start_ts;		  /* its first byte was written */
	char name[SPAN_DB_OPERATION_LEN]; /* uppercased */
	char sub[REDIS_SUB_LEN];	  /* subcommand, uppercased, or "" */
	char db[REDIS_DB_LEN];		  /* SELECT: the index asked for */
	uint32_t args;			  /* arguments after the name (and subcommand) */
	uint32_t confirms;		  /* pub/sub: confirmations owed; 0: not known yet */
	uint32_t ghosts;		  /* commands after it left untracked: replies to skip */
	uint8_t kind;			  /* enum redis_kind */
	uint8_t family;			  /* enum redis_channel_family, for pub/sub */
	int8_t reply_mode;		  /* CLIENT REPLY: enum redis_reply_mode, or -1 */
	bool lost_after;		  /* commands after it were lost: replies out of sync */
	uint8_t exchange_kind;		  /* where its first byte sits in the stream */
	uint32_t exchange;
	struct span_identity id; /* given when it was written */
};

/* Which of a command's first items the parser may keep, once item 0 (its
 * name) is known: a bit per item (resp_parser.capture). */
uint32_t redis_capture_for(const struct resp_item *name);

/* Fills cmd (all but start_ts) from a complete command frame. False for a
 * frame that is no command (an empty one). */
bool redis_command_from_frame(struct redis_command *cmd, const struct resp_frame *f);

/*
 * db.query.text for cmd into out (cap bytes with its NUL): "SET ? ?",
 * "CLIENT SETNAME ?"; AUTH and HELLO show one `?` whatever their arguments.
 * Returns true when the text was cut to fit.
 */
bool redis_query_text(const struct redis_command *cmd, char *out, size_t cap);

/* The pub/sub message a frame is (a push, or a RESP2 array shaped like one):
 * 's' a subscribe confirmation, 'u' an unsubscribe confirmation, 'm' a
 * message, 0 none. *family: whose channels. */
char redis_pubsub_kind(const struct resp_frame *f, uint8_t *family);

/* An error reply's prefix (ERR, WRONGTYPE, NOAUTH) into out; "ERR" when
 * it has none. */
void redis_error_prefix(const struct resp_item *err, char *out, size_t cap);

#endif /* SONDE_REDIS_COMMAND_H */
