/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/redis/redis_session.h"
#include "protocols/sql/db_query.h"
#include "sonde_event.h"

void redis_session_init(struct redis_session *s, uint8_t role,
			const struct protocol_settings *settings, struct redis_stats *stats)
{
	memset(s, 0, sizeof(*s));
	s->role = role;
	s->settings = settings;
	s->stats = stats;
	resp_parser_init(&s->commands, true);
	resp_parser_init(&s->replies, false);
	snprintf(s->db, sizeof(s->db), "0");
	if (role == SONDE_ROLE_SERVER)
		stats->server_sessions++;
}

void redis_session_free(void *session)
{
	struct redis_session *s = session;

	free(s->queue);
	s->queue = NULL;
	s->cap = s->len = s->head = 0;
}

/* What a span of cmd is from the start: enough for the core to give it its
 * identity (span_sink.begin). */
static void span_head(struct span *sp, const struct redis_command *cmd)
{
	memset(sp, 0, sizeof(*sp));
	sp->kind = SPAN_CLIENT;
	sp->start_ns = cmd->start_ts;
	sp->flags = SPAN_F_DB;
	sp->exchange_kind = cmd->exchange_kind;
	sp->exchange = cmd->exchange;
	sp->db.system = SPAN_DB_REDIS;
	sp->db.returned_rows = -1;
}

static void begin(struct redis_command *cmd, const struct span_sink *sink)
{
	struct span sp;

	span_head(&sp, cmd);
	span_identity_begin(&cmd->id, &sp, sink);
}

/* One span: cmd, answered at end_ts (by an error when err is set). */
static void emit(struct redis_session *s, const struct redis_command *cmd, uint64_t end_ts,
		 uint32_t flags, const struct resp_item *err, const struct span_sink *sink)
{
	struct span sp;

	span_head(&sp, cmd);
	span_identity_apply(&sp, &cmd->id);
	sp.end_ns = end_ts > cmd->start_ts ? end_ts : cmd->start_ts;
	sp.flags |= flags;
	snprintf(sp.db.operation, sizeof(sp.db.operation), "%s", cmd->name);
	snprintf(sp.db.name_space, sizeof(sp.db.name_space), "%s", s->db);
	if (err) {
		redis_error_prefix(err, sp.db.status_code, sizeof(sp.db.status_code));
		sp.flags |= SPAN_F_DB_ERROR;
	}
	if ((!s->settings || s->settings->db_query != DB_QUERY_NONE) &&
	    redis_query_text(cmd, sp.db.query, db_query_cap(s->settings) + 1))
		sp.flags |= SPAN_F_QUERY_TRUNCATED;
	s->stats->spans++;
	sink->emit(sink->ctx, &sp);
}

static struct redis_command *queue_at(struct redis_session *s, uint32_t i)
{
	return &s->queue[(s->head + i) % s->cap];
}

static bool queue_grow(struct redis_session *s)
{
	uint32_t cap = s->cap ? s->cap * 2 : 8;
	struct redis_command *q;

	if (s->cap >= REDIS_MAX_PENDING)
		return false;
	q = malloc(cap * sizeof(*q));
	if (!q)
		return false;
	for (uint32_t i = 0; i < s->len; i++)
		q[i] = *queue_at(s, i);
	free(s->queue);
	s->queue = q;
	s->cap = cap;
	s->head = 0;
	return true;
}

/* A command awaiting its reply; one that cannot be kept still has a reply
 * coming, which is skipped when it comes. */
static bool queue_push(struct redis_session *s, const struct redis_command *cmd)
{
	if (s->len == s->cap && !queue_grow(s)) {
		s->stats->pending_dropped++;
		if (s->len)
			queue_at(s, s->len - 1)->ghosts++;
		else
			s->ghosts++;
		return false;
	}
	*queue_at(s, s->len++) = *cmd;
	return true;
}

/* Every command waiting is reported now, without its reply. */
static void end_pending(struct redis_session *s, uint64_t ts, uint32_t flags,
			const struct span_sink *sink)
{
	while (s->len) {
		struct redis_command *cmd = queue_at(s, 0);

		emit(s, cmd, ts, flags, NULL, sink);
		s->head = (s->head + 1) % s->cap;
		s->len--;
	}
	s->ghosts = 0;
	s->tentative = 0;
	s->lost_in_queue = false;
}

/* Replies can no longer be paired: wait for a point to start again. The
 * commands waiting now are answered somewhere in what follows; those
 * written from now on are tentative. */
static void lose_pairing(struct redis_session *s)
{
	s->replies_lost = true;
	s->replies_clean = false;
	s->ghosts = 0;
	s->tentative = 0;
	s->lost_in_queue = false;
}

/* The oldest command is answered at ts (by an error when err is set). */
static void finish_head(struct redis_session *s, uint64_t ts, const struct resp_item *err,
			const struct span_sink *sink)
{
	struct redis_command cmd = *queue_at(s, 0);

	s->head = (s->head + 1) % s->cap;
	s->len--;
	emit(s, &cmd, ts, 0, err, sink);
	s->ghosts += cmd.ghosts;
	if (cmd.lost_after) {
		/* The commands after it were lost: so is the pairing of what
		 * follows. Those waiting were written after the loss. */
		uint32_t after = s->len;

		lose_pairing(s);
		s->tentative = after;
	}
}

/* A command's effects that show in later spans, once it succeeded. */
static void apply_success(struct redis_session *s, const struct redis_command *cmd,
			  const struct resp_frame *f)
{
	switch (cmd->kind) {
	case REDIS_SELECT:
		if (cmd->db[0])
			memcpy(s->db, cmd->db, sizeof(s->db));
		break;
	case REDIS_HELLO:
		s->resp3 = f->type == '%';
		break;
	case REDIS_MONITOR:
		s->monitoring = true;
		break;
	case REDIS_RESET:
		s->resp3 = false;
		s->reply_mode = REDIS_REPLY_ON;
		memset(s->subs, 0, sizeof(s->subs));
		s->subs_total = 0;
		snprintf(s->db, sizeof(s->db), "0");
		break;
	}
}

static void answer_head(struct redis_session *s, const struct resp_frame *f, uint64_t ts,
			const struct span_sink *sink)
{
	bool error = f->type == '-' || f->type == '!';

	if (s->ghosts) {
		s->ghosts--;
		return;
	}
	if (!s->len) {
		s->stats->orphan_replies++;
		return;
	}
	if (!error)
		apply_success(s, queue_at(s, 0), f);
	finish_head(s, ts, error ? &f->item[0] : NULL, sink);
}

static bool subscribed(const struct redis_session *s)
{
	return s->subs_total > 0 || s->subs[REDIS_SHARDS] > 0;
}

/* A RESP2 array shaped like a pub/sub message: one, unless the connection
 * is neither subscribed nor subscribing (then a reply that looks alike). */
static bool pubsub_expected(struct redis_session *s)
{
	struct redis_command *head = s->len ? queue_at(s, 0) : NULL;

	return subscribed(s) || !head || head->kind == REDIS_SUBSCRIBE ||
	       head->kind == REDIS_UNSUBSCRIBE;
}

/* A (un)subscribe confirmation: one of those the oldest command is owed? */
static bool confirms_head(struct redis_session *s, char kind, uint8_t family, uint64_t ts,
			  const struct span_sink *sink)
{
	struct redis_command *head = s->len && !s->ghosts ? queue_at(s, 0) : NULL;
	uint8_t want = kind == 's' ? REDIS_SUBSCRIBE : REDIS_UNSUBSCRIBE;

	if (!head || head->kind != want || head->family != family)
		return false;
	/* UNSUBSCRIBE without arguments: one confirmation per subscription. */
	if (!head->confirms)
		head->confirms = s->subs[family] > 1 ? (uint32_t)s->subs[family] : 1;
	if (--head->confirms == 0)
		finish_head(s, ts, NULL, sink);
	return true;
}

/* Confirmations carry the subscriptions left: channels and patterns counted
 * together, shard channels apart. */
static void subscriptions_now(struct redis_session *s, uint8_t family, int64_t count)
{
	if (count < 0)
		count = 0;
	if (family == REDIS_SHARDS) {
		s->subs[REDIS_SHARDS] = count;
		return;
	}
	s->subs[family] += count - s->subs_total;
	if (s->subs[family] < 0)
		s->subs[family] = 0;
	s->subs_total = count;
}

static void reply_done(struct redis_session *s, uint64_t ts, const struct span_sink *sink)
{
	const struct resp_frame *f = &s->replies.frame;
	uint8_t family = 0;
	char kind = redis_pubsub_kind(f, &family);

	if (s->replies_lost || f->type == '|') /* an attribute describes the next frame */
		return;
	if (f->type == '>' || (kind && !s->resp3 && pubsub_expected(s))) {
		bool confirm = kind == 's' || kind == 'u';

		if (!confirm || !confirms_head(s, kind, family, ts, sink))
			s->stats->pushes++;
		if (confirm)
			subscriptions_now(s, family, s->replies.frame.item[2].num);
		return;
	}
	answer_head(s, f, ts, sink);
}

/* Reply framing lost: the replies of what waits may be in the bytes lost. */
static void reply_framing_lost(struct redis_session *s)
{
	if (!s->replies_lost)
		s->stats->lost_sync++;
	lose_pairing(s);
	s->replies_unframed = true;
}

/* A reply parser result (gap: of bytes not captured); false when framing
 * was lost. */
static bool reply_result(struct redis_session *s, enum resp_result r, bool gap, uint64_t ts,
			 const struct span_sink *sink)
{
	if (r == RESP_BAD) {
		s->stats->parse_errors += !gap;
		reply_framing_lost(s);
		return false;
	}
	if (r == RESP_FRAME)
		reply_done(s, ts, sink);
	return true;
}

/*
 * A read while replies cannot be paired, parsed on a copy of the parser.
 * Returns true when it shows the way back: it starts and ends on frame
 * boundaries, and holds exactly one reply for each command written since
 * the loss (all that wait), as a client that waits for its replies reads
 * them. Otherwise the read is passed over, noting whether it ended cleanly.
 */
static bool read_while_lost(struct redis_session *s, const struct protocol_bytes *b)
{
	bool unframed = s->replies_unframed, bad = false, at_start;
	struct resp_parser dry;
	uint32_t frames = 0;
	size_t off = 0;

	if (!unframed && b->unseen && resp_skip(&s->replies, b->unseen) == RESP_BAD)
		unframed = true;
	/* Framing unknown: each read is tried from its start, and trusted
	 * again once one parses from its start to its end. */
	if (unframed)
		resp_parser_reset(&s->replies);
	dry = s->replies;
	at_start = resp_at_frame_start(&dry);
	while (!bad && off < b->captured) {
		size_t used = 0;
		enum resp_result r = resp_parse(&dry, b->data + off, b->captured - off, &used);

		off += used;
		bad = r == RESP_BAD;
		s->stats->parse_errors += bad && !unframed;
		frames += r == RESP_FRAME && dry.frame.type != '>' && dry.frame.type != '|';
	}
	if (!bad) {
		enum resp_result r = resp_skip(&dry, b->total - b->captured);

		bad = r == RESP_BAD;
		frames += r == RESP_FRAME && dry.frame.type != '>' && dry.frame.type != '|';
	}
	s->replies_clean = !bad && resp_at_frame_start(&dry);
	s->replies_unframed = bad || (unframed && !s->replies_clean);
	if (s->replies_unframed) {
		s->replies_clean = false;
		return false;
	}
	if (s->replies_clean && at_start && frames && frames == s->tentative &&
	    s->len == s->tentative) {
		s->stats->resyncs++;
		s->replies_lost = false;
		s->tentative = 0;
		return true;
	}
	s->replies = dry;
	return false;
}

static void feed_replies(struct redis_session *s, const struct protocol_bytes *b,
			 const struct span_sink *sink)
{
	size_t off = 0;

	s->last_in = b->ts;
	if (s->monitoring)
		return;
	if (s->replies_lost) {
		if (!read_while_lost(s, b))
			return;
	} else if (b->unseen &&
		   !reply_result(s, resp_skip(&s->replies, b->unseen), true, b->ts, sink)) {
		return;
	}
	while (off < b->captured) {
		size_t used = 0;
		enum resp_result r =
			resp_parse(&s->replies, b->data + off, b->captured - off, &used);

		off += used;
		if (!reply_result(s, r, false, b->ts, sink) || s->monitoring)
			return;
	}
	if (!reply_result(s, resp_skip(&s->replies, b->total - b->captured), true, b->ts, sink))
		return;
	if (s->replies_lost)
		s->replies_clean = resp_at_frame_start(&s->replies);
}

/* A command's first byte. While replies cannot be paired, a new write
 * means the replies of the commands before it were read (by a client that
 * waits for them): those still waiting end at the last read, unpaired; and
 * when that read ended cleanly, this command's reply is the next frame. */
static void command_starts(struct redis_session *s, const struct protocol_bytes *b, size_t off,
			   const struct span_sink *sink)
{
	s->cmd_start = b->ts;
	s->cmd_seq = b->seq + (uint32_t)off;
	s->cmd_seq_kind = b->seq_kind;
	s->commands.capture = 0;
	if (!s->replies_lost)
		return;
	if (off == 0 && s->len) {
		s->stats->unpaired += s->len;
		end_pending(s, s->last_in, SPAN_F_LOST_SYNC, sink);
	}
	if (!s->len && s->replies_clean) {
		s->stats->resyncs++;
		s->replies_lost = false;
		s->ghosts = 0;
	}
}

/* Whether the command gets a reply, with CLIENT REPLY's modes in force. */
static bool gets_reply(struct redis_session *s, const struct redis_command *cmd)
{
	if (cmd->kind == REDIS_CLIENT && cmd->reply_mode >= 0) {
		if (cmd->reply_mode == REDIS_REPLY_SKIP && s->reply_mode == REDIS_REPLY_OFF)
			return false;
		s->reply_mode = (uint8_t)cmd->reply_mode;
		return cmd->reply_mode == REDIS_REPLY_ON;
	}
	if (s->reply_mode == REDIS_REPLY_SKIP) {
		s->reply_mode = REDIS_REPLY_ON;
		return false;
	}
	return s->reply_mode == REDIS_REPLY_ON;
}

static void command_done(struct redis_session *s, uint64_t ts, const struct span_sink *sink)
{
	struct redis_command cmd;

	if (!redis_command_from_frame(&cmd, &s->commands.frame))
		return; /* an empty command: Redis answers nothing */
	cmd.start_ts = s->cmd_start;
	cmd.exchange = s->cmd_seq;
	cmd.exchange_kind = s->cmd_seq_kind;
	begin(&cmd, sink);
	if (!gets_reply(s, &cmd) || s->monitoring) {
		emit(s, &cmd, ts, 0, NULL, sink);
		return;
	}
	if (queue_push(s, &cmd) && (s->replies_lost || s->lost_in_queue))
		s->tentative++;
}

/* Command framing lost: the command being read is gone, and so is the
 * pairing of replies to the commands after the last one kept. */
static void commands_unframed(struct redis_session *s)
{
	s->stats->lost_sync++;
	if (!resp_at_frame_start(&s->commands))
		s->stats->commands_lost++;
	s->commands_lost = true;
	if (s->len) {
		queue_at(s, s->len - 1)->lost_after = true;
		s->lost_in_queue = true;
	} else {
		lose_pairing(s);
	}
}

static bool command_result(struct redis_session *s, enum resp_result r, bool gap, uint64_t ts,
			   const struct span_sink *sink)
{
	if (r == RESP_BAD) {
		s->stats->parse_errors += !gap;
		commands_unframed(s);
		return false;
	}
	if (r == RESP_FIRST)
		s->commands.capture = redis_capture_for(&s->commands.frame.item[0]);
	else if (r == RESP_FRAME)
		command_done(s, ts, sink);
	return true;
}

static void feed_commands(struct redis_session *s, const struct protocol_bytes *b,
			  const struct span_sink *sink)
{
	size_t off = 0;

	if (b->unseen && !s->commands_lost)
		command_result(s, resp_skip(&s->commands, b->unseen), true, b->ts, sink);
	if (s->commands_lost) {
		/* Only a write that starts with a command array can bring framing
		 * back: any text could pass for an inline command. */
		if (!b->captured || b->data[0] != '*')
			return;
		resp_parser_reset(&s->commands);
		s->commands_lost = false;
	}
	while (off < b->captured) {
		size_t used = 0;
		enum resp_result r;

		if (resp_at_frame_start(&s->commands))
			command_starts(s, b, off, sink);
		r = resp_parse(&s->commands, b->data + off, b->captured - off, &used);
		off += used;
		if (!command_result(s, r, false, b->ts, sink))
			return;
	}
	command_result(s, resp_skip(&s->commands, b->total - b->captured), true, b->ts, sink);
}

/*
 * A connection whose role the kernel could not tell (found already open):
 * a command and an array reply look alike, so the role is learnt from a
 * frame only one side sends: a reply that is no array, or an inline
 * command. A client starts out of sync, as its first bytes may answer
 * commands never seen. Returns false while still unknown.
 */
static bool learn_role(struct redis_session *s, const struct protocol_bytes *b)
{
	static const char reply_types[] = "+-:$_,#(!=%~>|";
	uint8_t c = b->captured ? b->data[0] : 0;
	bool reply = c && strchr(reply_types, c);
	bool inline_command = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');

	if (!reply && !inline_command)
		return false;
	if (reply != b->ingress) {
		s->role = SONDE_ROLE_SERVER;
		s->stats->server_sessions++;
		return true;
	}
	s->role = SONDE_ROLE_CLIENT;
	s->commands_lost = true;
	lose_pairing(s);
	s->replies_unframed = true;
	return true;
}

void redis_session_feed(void *session, const struct protocol_bytes *b, const struct span_sink *sink)
{
	struct redis_session *s = session;

	if (s->role == SONDE_ROLE_UNKNOWN && !learn_role(s, b))
		return;
	/* A traced Redis server: its clients' spans are theirs to make. */
	if (s->role == SONDE_ROLE_SERVER)
		return;
	if (b->ingress)
		feed_replies(s, b, sink);
	else
		feed_commands(s, b, sink);
}

/* Commands still waiting: never answered, or answered where the replies
 * could not be followed (then at the last read). */
void redis_session_close(void *session, uint64_t ts, const struct span_sink *sink)
{
	struct redis_session *s = session;

	if (s->replies_lost) {
		s->stats->unpaired += s->len;
		end_pending(s, s->last_in, SPAN_F_LOST_SYNC, sink);
	} else {
		end_pending(s, ts, SPAN_F_NO_RESPONSE, sink);
	}
}

uint32_t redis_session_in_flight(const void *session)
{
	const struct redis_session *s = session;

	return s->len;
}
