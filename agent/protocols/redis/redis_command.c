/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "protocols/redis/redis_command.h"

/* Commands whose second word names what they do (Redis calls them container
 * commands): the span keeps it, as it is a keyword and not a value. */
static const char *const with_subcommand[] = {
	"ACL",	    "CLIENT",	"CLUSTER", "COMMAND", "CONFIG", "DEBUG",
	"FUNCTION", "LATENCY",	"MEMORY",  "MODULE",  "OBJECT", "PUBSUB",
	"SCRIPT",   "SENTINEL", "SLOWLOG", "XGROUP",  "XINFO",
};

static const struct {
	const char *name;
	uint8_t kind;	/* enum redis_kind */
	uint8_t family; /* enum redis_channel_family */
} special[] = {
	{ "SELECT", REDIS_SELECT, 0 },
	{ "HELLO", REDIS_HELLO, 0 },
	{ "AUTH", REDIS_AUTH, 0 },
	{ "MONITOR", REDIS_MONITOR, 0 },
	{ "RESET", REDIS_RESET, 0 },
	{ "CLIENT", REDIS_CLIENT, 0 },
	{ "SUBSCRIBE", REDIS_SUBSCRIBE, REDIS_CHANNELS },
	{ "PSUBSCRIBE", REDIS_SUBSCRIBE, REDIS_PATTERNS },
	{ "SSUBSCRIBE", REDIS_SUBSCRIBE, REDIS_SHARDS },
	{ "UNSUBSCRIBE", REDIS_UNSUBSCRIBE, REDIS_CHANNELS },
	{ "PUNSUBSCRIBE", REDIS_UNSUBSCRIBE, REDIS_PATTERNS },
	{ "SUNSUBSCRIBE", REDIS_UNSUBSCRIBE, REDIS_SHARDS },
};

/* Uppercased name of at most cap - 1 bytes; bytes no command name has
 * (Redis's own and modules' like JSON.SET) become '?'. */
static void command_name(const struct resp_item *it, char *out, size_t cap)
{
	size_t n = it->len < cap - 1 ? it->len : cap - 1;

	for (size_t i = 0; i < n; i++) {
		char c = it->text[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			   c == '_' || c == '-' || c == '|' || c == ':'))
			c = '?';
		out[i] = c;
	}
	out[n] = '\0';
	if (!n)
		snprintf(out, cap, "?");
}

static bool has_subcommand(const char *name)
{
	for (size_t i = 0; i < sizeof(with_subcommand) / sizeof(with_subcommand[0]); i++)
		if (!strcmp(name, with_subcommand[i]))
			return true;
	return false;
}

/* A keyword: letters, digits, '-' and '_' only, kept whole. */
static bool keyword(const struct resp_item *it, size_t cap)
{
	if (it->null || it->cut || !it->len || it->len >= cap)
		return false;
	for (size_t i = 0; i < it->len; i++) {
		char c = it->text[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

uint32_t redis_capture_for(const struct resp_item *name)
{
	char upper[SPAN_DB_OPERATION_LEN];

	command_name(name, upper, sizeof(upper));
	if (!strcmp(upper, "CLIENT"))
		return 1u << 1 | 1u << 2; /* CLIENT REPLY's mode */
	if (!strcmp(upper, "SELECT") || has_subcommand(upper))
		return 1u << 1;
	return 0;
}

static int8_t reply_mode(const struct resp_item *it)
{
	if (!keyword(it, 8))
		return -1;
	if (it->len == 2 && !strncasecmp(it->text, "ON", 2))
		return REDIS_REPLY_ON;
	if (it->len == 3 && !strncasecmp(it->text, "OFF", 3))
		return REDIS_REPLY_OFF;
	if (it->len == 4 && !strncasecmp(it->text, "SKIP", 4))
		return REDIS_REPLY_SKIP;
	return -1;
}

static void select_db(struct redis_command *cmd, const struct resp_item *it)
{
	if (it->null || it->cut || !it->len || it->len >= REDIS_DB_LEN)
		return;
	for (size_t i = 0; i < it->len; i++)
		if (it->text[i] < '0' || it->text[i] > '9')
			return;
	memcpy(cmd->db, it->text, it->len);
	cmd->db[it->len] = '\0';
}

bool redis_command_from_frame(struct redis_command *cmd, const struct resp_frame *f)
{
	uint64_t count = f->count > 0 ? (uint64_t)f->count : 0;

	if ((f->type != '*' && f->type != RESP_INLINE) || !count)
		return false;
	memset(cmd, 0, sizeof(*cmd));
	cmd->reply_mode = -1;
	command_name(&f->item[0], cmd->name, sizeof(cmd->name));
	cmd->args = count - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(count - 1);
	if (count >= 2 && has_subcommand(cmd->name) && keyword(&f->item[1], sizeof(cmd->sub))) {
		for (size_t i = 0; i < f->item[1].len; i++) {
			char c = f->item[1].text[i];

			cmd->sub[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		}
		cmd->args--;
	}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
		if (strcmp(cmd->name, special[i].name))
			continue;
		cmd->kind = special[i].kind;
		cmd->family = special[i].family;
	}
	if (cmd->kind == REDIS_SELECT && count >= 2)
		select_db(cmd, &f->item[1]);
	if (cmd->kind == REDIS_CLIENT && count == 3 && !strcmp(cmd->sub, "REPLY"))
		cmd->reply_mode = reply_mode(&f->item[2]);
	if (cmd->kind == REDIS_SUBSCRIBE || cmd->kind == REDIS_UNSUBSCRIBE)
		cmd->confirms = cmd->args;
	return true;
}

/* Appends s if it fits whole; false when it does not. */
static bool append(char *out, size_t cap, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n >= cap)
		return false;
	memcpy(out + *len, s, n + 1);
	*len += n;
	return true;
}

bool redis_query_text(const struct redis_command *cmd, char *out, size_t cap)
{
	uint32_t marks = cmd->args;
	size_t len = 0;

	if (!cap)
		return false;
	out[0] = '\0';
	if (cmd->kind == REDIS_AUTH || cmd->kind == REDIS_HELLO)
		marks = marks ? 1 : 0;
	if (!append(out, cap, &len, cmd->name))
		return true;
	if (cmd->sub[0] && (!append(out, cap, &len, " ") || !append(out, cap, &len, cmd->sub)))
		return true;
	for (uint32_t i = 0; i < marks; i++)
		if (!append(out, cap, &len, " ?"))
			return true;
	return false;
}

static bool item_is(const struct resp_item *it, const char *s)
{
	size_t n = strlen(s);

	return it->type == '$' && !it->cut && it->len == n && !memcmp(it->text, s, n);
}

char redis_pubsub_kind(const struct resp_frame *f, uint8_t *family)
{
	static const char *const prefix[] = { "", "p", "s" };
	const struct resp_item *name = &f->item[0];
	char word[16];

	if ((f->type != '>' && f->type != '*') || f->count < 3 || f->items < 1)
		return 0;
	for (uint8_t fam = REDIS_CHANNELS; fam <= REDIS_SHARDS; fam++) {
		bool confirm = f->count == 3 && f->items >= 3 && f->item[2].type == ':';

		*family = fam;
		snprintf(word, sizeof(word), "%smessage", prefix[fam]);
		if (item_is(name, word) && f->count == (fam == REDIS_PATTERNS ? 4 : 3))
			return 'm';
		snprintf(word, sizeof(word), "%ssubscribe", prefix[fam]);
		if (confirm && item_is(name, word))
			return 's';
		snprintf(word, sizeof(word), "%sunsubscribe", prefix[fam]);
		if (confirm && item_is(name, word))
			return 'u';
	}
	return 0;
}

void redis_error_prefix(const struct resp_item *err, char *out, size_t cap)
{
	size_t n = 0;

	while (n < err->len && err->text[n] >= 'A' && err->text[n] <= 'Z')
		n++;
	/* A prefix is a whole uppercase word: "-Error ..." has none. */
	if (!n || n >= cap || (n < err->len && err->text[n] != ' ') ||
	    (n == err->len && err->cut)) {
		snprintf(out, cap, "ERR");
		return;
	}
	memcpy(out, err->text, n);
	out[n] = '\0';
}
