/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "logs/log_severity.h"

#define LOOK_BYTES 512 /* how far into a line the severity is looked for */
#define FIELDS	   6   /* leading fields that may hold a bare level word */

struct level_word {
	const char *word;
	uint8_t number;
};

static const struct level_word words[] = {
	{ "trace", LOG_SEV_TRACE },	 { "finest", LOG_SEV_TRACE },
	{ "debug", LOG_SEV_DEBUG },	 { "dbg", LOG_SEV_DEBUG },
	{ "fine", LOG_SEV_DEBUG },	 { "info", LOG_SEV_INFO },
	{ "information", LOG_SEV_INFO }, { "informational", LOG_SEV_INFO },
	{ "notice", LOG_SEV_INFO2 },	 { "warn", LOG_SEV_WARN },
	{ "warning", LOG_SEV_WARN },	 { "error", LOG_SEV_ERROR },
	{ "err", LOG_SEV_ERROR },	 { "severe", LOG_SEV_ERROR },
	{ "crit", LOG_SEV_ERROR2 },	 { "critical", LOG_SEV_ERROR2 },
	{ "alert", LOG_SEV_ERROR3 },	 { "fatal", LOG_SEV_FATAL },
	{ "panic", LOG_SEV_FATAL },	 { "emerg", LOG_SEV_FATAL },
	{ "emergency", LOG_SEV_FATAL },
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The level w[0..n) names; upper: only in upper case ("ERROR", not "error"). */
static uint8_t word_level(const char *w, size_t n, bool upper)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		const char *k = words[i].word;
		size_t j = 0;

		if (strlen(k) != n)
			continue;
		for (; j < n; j++) {
			if (lower(w[j]) != k[j] || (upper && w[j] >= 'a' && w[j] <= 'z'))
				break;
		}
		if (j == n)
			return words[i].number;
	}
	return LOG_SEV_UNSPECIFIED;
}

static bool set(struct log_severity *out, uint8_t number, const char *text, size_t n)
{
	if (!number)
		return false;
	if (n >= sizeof(out->text))
		n = sizeof(out->text) - 1;
	out->number = number;
	memcpy(out->text, text, n);
	out->text[n] = '\0';
	return true;
}

/* pino and bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
static bool numeric_level(const char *p, size_t n, struct log_severity *out)
{
	static const char *const names[] = { "trace", "debug", "info", "warn", "error", "fatal" };
	static const uint8_t numbers[] = { LOG_SEV_TRACE, LOG_SEV_DEBUG, LOG_SEV_INFO,
					   LOG_SEV_WARN,  LOG_SEV_ERROR, LOG_SEV_FATAL };
	int v = 0;

	if (n != 2 || !is_digit(p[0]) || !is_digit(p[1]))
		return false;
	v = (p[0] - '0') * 10 + (p[1] - '0');
	if (v < 10 || v > 60 || v % 10)
		return false;
	return set(out, numbers[v / 10 - 1], names[v / 10 - 1], strlen(names[v / 10 - 1]));
}

/* A JSON object's "level" (or a like key) at its top: a string, or a
 * pino/bunyan number. Keys are found where a key can start (after '{' or
 * ','), which is enough for the single-line objects loggers write. */
static bool json_level(const char *s, size_t n, struct log_severity *out)
{
	static const char *const keys[] = { "level",	 "severity", "lvl",	      "levelname",
					    "log.level", "loglevel", "severity_text", "@l" };

	for (size_t i = 1; i < n; i++) {
		size_t j = i - 1, k, v;

		if (s[i] != '"')
			continue;
		while (j > 0 && is_space(s[j]))
			j--;
		if (s[j] != '{' && s[j] != ',')
			continue;
		for (k = i + 1; k < n && s[k] != '"'; k++)
			;
		if (k >= n)
			return false;
		for (size_t x = 0; x < sizeof(keys) / sizeof(keys[0]); x++) {
			size_t kl = strlen(keys[x]);

			if (kl != k - i - 1 || memcmp(s + i + 1, keys[x], kl))
				continue;
			v = k + 1;
			while (v < n && is_space(s[v]))
				v++;
			if (v >= n || s[v++] != ':')
				break;
			while (v < n && is_space(s[v]))
				v++;
			if (v < n && s[v] == '"') {
				size_t e = v + 1;

				while (e < n && s[e] != '"')
					e++;
				return e < n && set(out, word_level(s + v + 1, e - v - 1, false),
						    s + v + 1, e - v - 1);
			}
			k = v;
			while (k < n && is_digit(s[k]))
				k++;
			return numeric_level(s + v, k - v, out);
		}
		i = k;
	}
	return false;
}

/* logfmt: level=warn, lvl="error", severity=info. */
static bool logfmt_level(const char *s, size_t n, struct log_severity *out)
{
	static const char *const keys[] = { "level=", "lvl=", "severity=" };

	for (size_t i = 0; i < n; i++) {
		if (i && !is_space(s[i - 1]))
			continue;
		for (size_t x = 0; x < sizeof(keys) / sizeof(keys[0]); x++) {
			size_t kl = strlen(keys[x]), v = i + kl, e;
			bool quoted;

			if (n - i < kl || memcmp(s + i, keys[x], kl))
				continue;
			quoted = v < n && s[v] == '"';
			v += quoted;
			for (e = v; e < n && (quoted ? s[e] != '"' : !is_space(s[e])); e++)
				;
			return set(out, word_level(s + v, e - v, false), s + v, e - v);
		}
	}
	return false;
}

/* One of the first fields: "[WARN]", "<error>", "(info)" in any case; a bare
 * "WARNING", "ERROR:" or Python's "WARNING:root:…" in upper case. */
static bool field_level(const char *f, size_t n, struct log_severity *out)
{
	static const char open[] = "[(<", close[] = "])>";
	const char *o = n ? strchr(open, f[0]) : NULL;
	size_t end;

	if (o && *o && n >= 3 && f[n - 1 - (f[n - 1] == ':')] == close[o - open]) {
		end = n - 1 - (f[n - 1] == ':');
		return set(out, word_level(f + 1, end - 1, false), f + 1, end - 1);
	}
	for (end = 0; end < n && f[end] != ':'; end++)
		;
	return set(out, word_level(f, end, true), f, end);
}

/* glog and klog: "W0501 12:00:00.000000 …" (I, W, E, F and MMDD). */
static bool glog_level(const char *s, size_t n, struct log_severity *out)
{
	static const char letters[] = "IWEF";
	static const uint8_t numbers[] = { LOG_SEV_INFO, LOG_SEV_WARN, LOG_SEV_ERROR,
					   LOG_SEV_FATAL };
	const char *l = n >= 6 ? strchr(letters, s[0]) : NULL;

	if (!l || !*l || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) || !is_digit(s[4]) ||
	    s[5] != ' ')
		return false;
	return set(out, numbers[l - letters], s, 1);
}

/* "<4>" at the start: a syslog priority (systemd reads these from stderr). */
static bool syslog_level(const char *s, size_t n, struct log_severity *out)
{
	static const uint8_t numbers[] = { LOG_SEV_FATAL, LOG_SEV_ERROR3, LOG_SEV_ERROR2,
					   LOG_SEV_ERROR, LOG_SEV_WARN,	  LOG_SEV_INFO2,
					   LOG_SEV_INFO,  LOG_SEV_DEBUG };
	static const char *const names[] = { "emerg",	"alert",  "crit", "err",
					     "warning", "notice", "info", "debug" };

	if (n < 3 || s[0] != '<' || s[1] < '0' || s[1] > '7' || s[2] != '>')
		return false;
	return set(out, numbers[s[1] - '0'], names[s[1] - '0'], strlen(names[s[1] - '0']));
}

void log_severity_parse(const char *line, size_t len, struct log_severity *out)
{
	size_t i = 0, n = len < LOOK_BYTES ? len : LOOK_BYTES;

	out->number = LOG_SEV_UNSPECIFIED;
	out->text[0] = '\0';
	while (i < n && is_space(line[i]))
		i++;
	line += i;
	n -= i;
	if (syslog_level(line, n, out) || (n && line[0] == '{' && json_level(line, n, out)) ||
	    glog_level(line, n, out) || logfmt_level(line, n, out))
		return;
	for (int field = 0, start = 0; field < FIELDS && (size_t)start < n; field++) {
		int end = start;

		while ((size_t)end < n && !is_space(line[end]))
			end++;
		if (field_level(line + start, (size_t)(end - start), out))
			return;
		while ((size_t)end < n && is_space(line[end]))
			end++;
		start = end;
	}
	out->number = LOG_SEV_UNSPECIFIED;
	out->text[0] = '\0';
}

const char *log_severity_name(uint8_t number)
{
	if (!number)
		return "";
	if (number <= 4)
		return "TRACE";
	if (number <= 8)
		return "DEBUG";
	if (number <= 12)
		return "INFO";
	if (number <= 16)
		return "WARN";
	if (number <= 20)
		return "ERROR";
	return "FATAL";
}
