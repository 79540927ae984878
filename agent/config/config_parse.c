/* SPDX-License-Identifier: MIT */
/*
 * The value parsers behind the settings tables: each turns the text a user gave
 * into one field of struct sonde_config, or says in a few words why it cannot.
 * Texts are (pointer, length) slices so nothing is copied until it is stored.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config.h"
#include "config/config_parse.h"

/* White space around a value is never meant ("4318 " from a shell script). */
static void trim(const char **p, size_t *n)
{
	while (*n && isspace((unsigned char)**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* OpenTelemetry reads enum values case-insensitively (SDK environment
 * variables, "Parsing empty value" and enum rules). */
static bool slice_is(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* Cuts the next comma-separated item off *p, trimmed. */
static bool next_item(const char **p, const char **item, size_t *n)
{
	const char *comma;

	if (!**p)
		return false;
	comma = strchr(*p, ',');
	*item = *p;
	*n = comma ? (size_t)(comma - *p) : strlen(*p);
	*p += *n + (comma ? 1 : 0);
	trim(item, n);
	return true;
}

static int parse_uint(const char *p, size_t n, long long min, long long max,
		      unsigned long long *out)
{
	unsigned long long v = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long long)(p[i] - '0');
		/* stop before v can overflow */
		if (v > (unsigned long long)max)
			return -EINVAL;
	}
	if (v < (unsigned long long)min)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bool(const char *p, size_t n, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (slice_is(p, n, yes[i]) || slice_is(p, n, no[i])) {
			*out = slice_is(p, n, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_bool(const char *text, bool *out)
{
	const char *p = text;
	size_t n = strlen(text);

	trim(&p, &n);
	return parse_bool(p, n, out);
}

#define NUMBER_TEXT_LEN 64

/* strtod() on a slice, copied to buf: the number at its start, and where the
 * number ends in buf. */
static int slice_strtod(const char *p, size_t n, char buf[NUMBER_TEXT_LEN], double *v, char **end)
{
	if (!n || n >= NUMBER_TEXT_LEN)
		return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*v = strtod(buf, end);
	return *end == buf ? -EINVAL : 0;
}

static int parse_ratio(const char *p, size_t n, double *out)
{
	char buf[NUMBER_TEXT_LEN], *end;
	double v;

	/* written so that NaN fails too */
	if (slice_strtod(p, n, buf, &v, &end) || *end || !(v >= 0.0 && v <= 1.0))
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_enum(const char *p, size_t n, const char *const *names, int *out, char *why,
		      size_t whylen)
{
	const char *sep = " ";
	size_t used;

	for (int i = 0; names[i]; i++) {
		if (names[i][0] && slice_is(p, n, names[i])) {
			*out = i;
			return 0;
		}
	}
	used = (size_t)snprintf(why, whylen, "expected one of");
	for (int i = 0; names[i] && used < whylen; i++) {
		if (!names[i][0])
			continue;
		used += (size_t)snprintf(why + used, whylen - used, "%s%s", sep, names[i]);
		sep = ", ";
	}
	return -EINVAL;
}

/* OTEL_METRICS_EXPORTER may name several exporters ("otlp,prometheus"). The
 * Prometheus endpoint is always served (prometheus.port), so the list only
 * decides whether metrics are also pushed. */
static int parse_metrics_exporter(const char *text, int *out)
{
	const char *item;
	size_t n;
	int v = METRICS_EXPORTER_NONE;

	if (!*text)
		return -EINVAL;
	while (next_item(&text, &item, &n)) {
		if (slice_is(item, n, "otlp"))
			v = METRICS_EXPORTER_OTLP;
		else if (!slice_is(item, n, "none") && !slice_is(item, n, "prometheus"))
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_port(const char *p, size_t n)
{
	unsigned long long port;

	return parse_uint(p, n, 1, 65535, &port);
}

/* Checks scheme://[userinfo@]host[:port][/path] and writes it with a lower-case
 * scheme. Without a scheme, "collector:4317" (the usual way to write a gRPC
 * target) means http://collector:4317. */
static int parse_url(const char *p, size_t n, char *out, size_t outlen, char *why, size_t whylen)
{
	const char *sep = memmem(p, n, "://", 3);
	const char *scheme = "http", *host = p, *colon = NULL;
	size_t hlen, rest = n;

	/* The OTLP specification's endpoints are URLs: without a scheme,
	 * "collector:4317" would be a guess between http and https. */
	if (!sep) {
		snprintf(why, whylen, "no scheme: write http://… or https://…");
		return -EINVAL;
	}
	if (slice_is(p, (size_t)(sep - p), "https"))
		scheme = "https";
	else if (!slice_is(p, (size_t)(sep - p), "http"))
		goto not_url;
	host = sep + 3;
	rest = n - (size_t)(sep - p) - 3;
	for (size_t i = 0; i < rest; i++) {
		if (isspace((unsigned char)host[i]) || iscntrl((unsigned char)host[i])) {
			snprintf(why, whylen, "white space in URL");
			return -EINVAL;
		}
	}
	/* what follows the scheme is kept as given; host and port are checked */
	p = host;
	n = rest;
	hlen = strcspn(host, "/?#");
	if (hlen > rest)
		hlen = rest;
	for (size_t i = hlen; i > 0; i--) {
		if (host[i - 1] == '@') {
			hlen -= i;
			host += i;
			break;
		}
	}
	if (hlen && host[0] == '[') {
		const char *close = memchr(host, ']', hlen);

		if (!close || close == host + 1)
			goto no_host;
		if ((size_t)(close + 1 - host) < hlen) {
			if (close[1] != ':')
				goto bad_port;
			colon = close + 1;
		}
	} else {
		colon = memrchr(host, ':', hlen);
	}
	if (colon && parse_port(colon + 1, hlen - (size_t)(colon + 1 - host)))
		goto bad_port;
	if ((colon ? (size_t)(colon - host) : hlen) == 0)
		goto no_host;
	/* room for the "/v1/metrics" config_finish() may append */
	if (strlen(scheme) + 3 + n + 16 > outlen) {
		snprintf(why, whylen, "longer than %zu characters", outlen - 16 - 1);
		return -EINVAL;
	}
	snprintf(out, outlen, "%s://%.*s", scheme, (int)n, p);
	return 0;
not_url:
	snprintf(why, whylen, "not an http:// or https:// URL");
	return -EINVAL;
no_host:
	snprintf(why, whylen, "no host in URL");
	return -EINVAL;
bad_port:
	snprintf(why, whylen, "bad port in URL");
	return -EINVAL;
}

static int hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Control characters could smuggle a CR LF into an HTTP header. */
static bool has_control(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (iscntrl((unsigned char)p[i]))
			return true;
	}
	return false;
}

static int kv_put(struct config_kv_list *list, const char *k, size_t klen, const char *v,
		  size_t vlen, char *why, size_t whylen)
{
	char val[CONFIG_VALUE_LEN];
	size_t o = 0;
	int i;

	if (!klen) {
		snprintf(why, whylen, "an entry has no key");
		return -EINVAL;
	}
	if (klen >= CONFIG_KEY_LEN || has_control(k, klen)) {
		snprintf(why, whylen, "bad key '%.*s'", (int)klen, k);
		return -EINVAL;
	}
	for (size_t j = 0; j < vlen; j++) {
		char ch = v[j];

		if (ch == '%') {
			if (j + 2 >= vlen || hex(v[j + 1]) < 0 || hex(v[j + 2]) < 0) {
				snprintf(why, whylen, "bad %%-escape in the value of '%.*s'",
					 (int)klen, k);
				return -EINVAL;
			}
			ch = (char)(hex(v[j + 1]) * 16 + hex(v[j + 2]));
			j += 2;
		}
		if (iscntrl((unsigned char)ch)) {
			snprintf(why, whylen, "control character in the value of '%.*s'", (int)klen,
				 k);
			return -EINVAL;
		}
		if (o == sizeof(val) - 1) {
			snprintf(why, whylen, "the value of '%.*s' is longer than %zu bytes",
				 (int)klen, k, sizeof(val) - 1);
			return -EINVAL;
		}
		val[o++] = ch;
	}
	val[o] = '\0';
	/* a repeated key replaces the earlier value instead of sending it twice */
	for (i = 0; i < list->n; i++) {
		if (strlen(list->items[i].key) == klen && !memcmp(list->items[i].key, k, klen))
			break;
	}
	if (i == CONFIG_MAX_KV) {
		snprintf(why, whylen, "more than %d entries", CONFIG_MAX_KV);
		return -EINVAL;
	}
	memcpy(list->items[i].key, k, klen);
	list->items[i].key[klen] = '\0';
	memcpy(list->items[i].value, val, o + 1);
	if (i == list->n)
		list->n++;
	return 0;
}

int config_parse_kv_list(struct config_kv_list *list, const char *text, char *why, size_t whylen)
{
	const char *item, *eq;
	size_t n;
	int err;

	while (next_item(&text, &item, &n)) {
		const char *k, *v;
		size_t klen, vlen;

		/* "a=1,,b=2" and a trailing comma are harmless */
		if (!n)
			continue;
		eq = memchr(item, '=', n);
		if (!eq) {
			snprintf(why, whylen, "'%.*s' is not key=value", (int)n, item);
			return -EINVAL;
		}
		k = item;
		klen = (size_t)(eq - item);
		v = eq + 1;
		vlen = n - klen - 1;
		trim(&k, &klen);
		trim(&v, &vlen);
		err = kv_put(list, k, klen, v, vlen, why, whylen);
		if (err)
			return err;
	}
	return 0;
}

static int parse_pids(uint32_t *pids, int *npids, const char *text, char *why, size_t whylen)
{
	const char *item;
	unsigned long long pid;
	size_t n;
	int i;

	while (next_item(&text, &item, &n)) {
		if (!n)
			continue;
		if (parse_uint(item, n, 1, INT_MAX, &pid)) {
			snprintf(why, whylen, "'%.*s' is not a process id", (int)n, item);
			return -EINVAL;
		}
		for (i = 0; i < *npids && pids[i] != pid; i++)
			;
		if (i < *npids)
			continue;
		if (*npids == CONFIG_MAX_PIDS) {
			snprintf(why, whylen, "more than %d pids", CONFIG_MAX_PIDS);
			return -EINVAL;
		}
		pids[(*npids)++] = (uint32_t)pid;
	}
	return 0;
}

/* "30s", "500ms", "2m", "1h", or seconds ("1.5"); at least 1 ns, and at most
 * about 30 years so that the nanoseconds fit. */
static int parse_duration(const char *p, size_t n, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "m", 60e9 }, { "h", 3600e9 } };
	char buf[NUMBER_TEXT_LEN], *end;
	double v;

	if (slice_strtod(p, n, buf, &v, &end))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double total = v * units[i].ns;

		if (strcmp(end, units[i].unit))
			continue;
		/* written so that NaN fails too */
		if (!(total >= 1.0 && total <= 1e18))
			return -EINVAL;
		*ns = (uint64_t)total;
		return 0;
	}
	return -EINVAL;
}

static int parse_address(const char *p, size_t n, char *out, size_t outlen)
{
	char buf[64];
	unsigned char bin[16];

	if (n >= sizeof(buf) || n >= outlen)
		return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, bin) != 1 && inet_pton(AF_INET6, buf, bin) != 1)
		return -EINVAL;
	memcpy(out, buf, n + 1);
	return 0;
}

static int store_list(struct sonde_config *c, const struct config_setting *s, const char *text,
		      bool append, char *why, size_t whylen)
{
	if (s->type == CONFIG_T_KV) {
		struct config_kv_list *list = (void *)((char *)c + s->offset);
		struct config_kv_list tmp = { 0 };

		if (append)
			tmp = *list;
		if (config_parse_kv_list(&tmp, text, why, whylen))
			return -EINVAL;
		*list = tmp;
	} else {
		uint32_t pids[CONFIG_MAX_PIDS];
		int npids = append ? c->npids : 0;

		memcpy(pids, c->pids, sizeof(pids));
		if (parse_pids(pids, &npids, text, why, whylen))
			return -EINVAL;
		memcpy(c->pids, pids, sizeof(pids));
		c->npids = npids;
	}
	return 0;
}

int config_store(struct sonde_config *c, const struct config_setting *s, const char *text,
		 bool append, char *why, size_t whylen)
{
	char *field = (char *)c + s->offset;
	const char *p = text;
	size_t n = strlen(text);
	unsigned long long u;
	double d;
	bool b;
	int e;

	trim(&p, &n);
	switch (s->type) {
	case CONFIG_T_STRING:
		if (n < (size_t)s->min || n > (size_t)s->max || n >= s->size) {
			if (!n)
				snprintf(why, whylen, "empty");
			else
				snprintf(why, whylen, "not %lld to %lld characters", s->min,
					 s->max);
			return -EINVAL;
		}
		memcpy(field, p, n);
		field[n] = '\0';
		break;
	case CONFIG_T_URL: {
		char url[CONFIG_URL_LEN];

		if (parse_url(p, n, url, sizeof(url), why, whylen))
			return -EINVAL;
		snprintf(field, s->size, "%s", url);
		break;
	}
	case CONFIG_T_UINT:
		if (parse_uint(p, n, s->min, s->max, &u)) {
			snprintf(why, whylen, "not an integer between %lld and %lld", s->min,
				 s->max);
			return -EINVAL;
		}
		if (s->size == sizeof(uint16_t)) {
			uint16_t v = (uint16_t)u;

			memcpy(field, &v, sizeof(v));
		} else {
			uint32_t v = (uint32_t)u;

			memcpy(field, &v, sizeof(v));
		}
		break;
	case CONFIG_T_BOOL:
		if (parse_bool(p, n, &b)) {
			snprintf(why, whylen, "not true or false (or 1/0, yes/no, on/off)");
			return -EINVAL;
		}
		memcpy(field, &b, sizeof(b));
		break;
	case CONFIG_T_RATIO:
		if (parse_ratio(p, n, &d)) {
			snprintf(why, whylen, "not a number between 0 and 1");
			return -EINVAL;
		}
		memcpy(field, &d, sizeof(d));
		break;
	case CONFIG_T_PROTOCOL:
		if (slice_is(p, n, "http/json")) {
			snprintf(why, whylen, "not supported; use http/protobuf or grpc");
			return -EINVAL;
		}
		/* fall through */
	case CONFIG_T_ENUM:
		if (parse_enum(p, n, s->names, &e, why, whylen))
			return -EINVAL;
		memcpy(field, &e, sizeof(e));
		break;
	case CONFIG_T_METRICS_EXPORTER:
		if (parse_metrics_exporter(text, &e)) {
			snprintf(why, whylen, "expected otlp, prometheus or none");
			return -EINVAL;
		}
		memcpy(field, &e, sizeof(e));
		break;
	case CONFIG_T_KV:
	case CONFIG_T_PIDS:
		if (store_list(c, s, text, append, why, whylen))
			return -EINVAL;
		break;
	case CONFIG_T_ADDRESS:
		if (parse_address(p, n, field, s->size)) {
			snprintf(why, whylen, "not an IPv4 or IPv6 address");
			return -EINVAL;
		}
		break;
	case CONFIG_T_DURATION: {
		uint64_t ns;

		if (parse_duration(p, n, &ns)) {
			snprintf(why, whylen, "not a duration such as 30s, 500ms or 2m");
			return -EINVAL;
		}
		memcpy(field, &ns, sizeof(ns));
		break;
	}
	default:
		snprintf(why, whylen, "setting has no parser");
		return -EINVAL;
	}
	if (s->has_offset)
		*((bool *)((char *)c + s->has_offset)) = true;
	return 0;
}

void config_format(const struct sonde_config *c, const struct config_setting *s, char *out,
		   size_t outlen)
{
	const char *field = (const char *)c + s->offset;
	size_t used = 0;
	int e;

	out[0] = '\0';
	switch (s->type) {
	case CONFIG_T_STRING:
	case CONFIG_T_URL:
	case CONFIG_T_ADDRESS:
		snprintf(out, outlen, "%s", field);
		break;
	case CONFIG_T_UINT:
		if (s->size == sizeof(uint16_t)) {
			uint16_t v;

			memcpy(&v, field, sizeof(v));
			snprintf(out, outlen, "%u", v);
		} else {
			uint32_t v;

			memcpy(&v, field, sizeof(v));
			snprintf(out, outlen, "%u", v);
		}
		break;
	case CONFIG_T_BOOL:
		snprintf(out, outlen, "%s", *(const bool *)field ? "true" : "false");
		break;
	case CONFIG_T_RATIO: {
		double d;

		memcpy(&d, field, sizeof(d));
		snprintf(out, outlen, "%g", d);
		break;
	}
	case CONFIG_T_PROTOCOL:
	case CONFIG_T_ENUM:
		memcpy(&e, field, sizeof(e));
		snprintf(out, outlen, "%s",
			 e >= 0 && s->names[e] && s->names[e][0] ? s->names[e] : "auto");
		break;
	case CONFIG_T_METRICS_EXPORTER: {
		static const char *const names[] = { "auto", "otlp", "none" };

		memcpy(&e, field, sizeof(e));
		snprintf(out, outlen, "%s", e >= 0 && e < 3 ? names[e] : "?");
		break;
	}
	case CONFIG_T_KV: {
		const struct config_kv_list *l = (const void *)field;

		for (int i = 0; i < l->n && used < outlen; i++)
			used += (size_t)snprintf(out + used, outlen - used, "%s%s=%s", i ? "," : "",
						 l->items[i].key, l->items[i].value);
		break;
	}
	case CONFIG_T_DURATION: {
		uint64_t ns;

		memcpy(&ns, field, sizeof(ns));
		if (ns % 1000000)
			snprintf(out, outlen, "%.9g", (double)ns / 1e9);
		else
			snprintf(out, outlen, "%llums", (unsigned long long)(ns / 1000000));
		break;
	}
	case CONFIG_T_PIDS:
		for (int i = 0; i < c->npids && used < outlen; i++)
			used += (size_t)snprintf(out + used, outlen - used, "%s%u", i ? "," : "",
						 c->pids[i]);
		break;
	}
}
