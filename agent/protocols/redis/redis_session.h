/* SPDX-License-Identifier: MIT */
/*
 * One Redis connection seen from its client: the commands it writes, paired
 * in order with the replies it reads (Redis answers every connection's
 * commands in the order they came, pipelined or not), each pair a span.
 *
 * Not every frame read is a reply: RESP3 pushes and, on a subscribed RESP2
 * connection, messages are skipped; SUBSCRIBE and its kin are answered by one
 * confirmation per channel. Some commands get no reply at all (CLIENT REPLY
 * OFF/SKIP) and after MONITOR the server only streams.
 *
 * When bytes of either direction go missing where they may hold framing, the
 * session stops pairing rather than pair wrongly. It finds its way back as a
 * client that waits for its replies (pipelined in rounds or not) shows it:
 * when the client writes again, the commands still waiting were answered by
 * what it read before, and end there, unpaired (marked lost sync); when a
 * read starts and ends on frame boundaries and holds exactly one reply for
 * each command written since the loss, they are paired; and a command
 * written after a read that ended cleanly, with none waiting, is paired
 * with the next frame.
 */
#ifndef SONDE_REDIS_SESSION_H
#define SONDE_REDIS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/protocol.h"
#include "protocols/redis/redis_command.h"
#include "protocols/redis/resp.h"

/* Commands awaiting replies, per connection; more are counted, not kept. */
#define REDIS_MAX_PENDING 1024

struct redis_stats {
	uint64_t spans;
	uint64_t orphan_replies;  /* replies with no command waiting for them */
	uint64_t pushes;	  /* out-of-band frames skipped: pub/sub messages, RESP3 pushes */
	uint64_t pending_dropped; /* commands untracked: too many awaiting replies */
	uint64_t parse_errors;	  /* bytes that were not RESP where a frame was expected */
	uint64_t lost_sync;	  /* times a direction's framing was lost (gap, cut, not RESP) */
	uint64_t resyncs;	  /* times the pairing was found again */
	uint64_t commands_lost;	  /* commands whose bytes were partly lost: no span */
	uint64_t unpaired;	  /* commands whose replies could not be followed */
	uint64_t server_sessions; /* connections of a traced Redis server: no spans made */
};

struct redis_session {
	uint8_t role;	       /* enum sonde_role; unknown until the first bytes */
	bool resp3;	       /* HELLO 3 answered */
	bool monitoring;       /* MONITOR answered: the server only streams */
	uint8_t reply_mode;    /* enum redis_reply_mode in force for the next command */
	bool commands_lost;    /* command framing lost: wait for a command at a write's start */
	bool replies_lost;     /* pairing lost: replies skipped until re-synchronised */
	bool replies_unframed; /* reply framing lost: try the next read's start */
	bool replies_clean;    /* while replies_lost: the last read ended on a frame boundary */
	bool lost_in_queue;    /* a queued command carries lost_after */
	uint32_t tentative;    /* while replies_lost: commands queued since the loss */
	uint64_t last_in;      /* ts of the last read */
	uint64_t cmd_start;    /* its first byte's ts */
	uint32_t cmd_seq;      /* and where it sits in the stream (protocol_bytes.seq) */
	uint8_t cmd_seq_kind;
	struct resp_parser commands;
	struct resp_parser replies;
	/* Commands awaiting replies: a ring of cap entries. */
	struct redis_command *queue;
	uint32_t cap, head, len;
	uint32_t ghosts; /* replies to skip: commands left untracked before the head */
	/* Subscriptions, from the counts confirmations carry: channels and
	 * patterns share one count, shard channels have their own. */
	int64_t subs[3];
	int64_t subs_total; /* channels + patterns, as the server last said */
	char db[REDIS_DB_LEN];
	const struct protocol_settings *settings;
	struct redis_stats *stats;
};

void redis_session_init(struct redis_session *s, uint8_t role,
			const struct protocol_settings *settings, struct redis_stats *stats);
void redis_session_feed(void *session, const struct protocol_bytes *b,
			const struct span_sink *sink);
/* The connection ended: commands still waiting are reported without reply. */
void redis_session_close(void *session, uint64_t ts, const struct span_sink *sink);
void redis_session_free(void *session);
/* Commands awaiting their reply. */
uint32_t redis_session_in_flight(const void *session);

#endif /* SONDE_REDIS_SESSION_H */
