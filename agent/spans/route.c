/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spans/route.h"

/* An e-mail address (local@domain.tld), as sent or with the @ %-encoded. */
static bool is_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t skip = 1;

	if (!at) {
		for (size_t i = 0; i + 3 <= n; i++)
			if (!strncasecmp(s + i, "%40", 3)) {
				at = s + i;
				skip = 3;
				break;
			}
	}
	return at && at > s && memchr(at + skip, '.', (size_t)(s + n - at) - skip);
}

/* A JSON Web Token: three base64url parts, the header's JSON starting "eyJ". */
static bool is_jwt(const char *s, size_t n)
{
	size_t dots = 0;

	if (n < 20 || strncmp(s, "eyJ", 3))
		return false;
	for (size_t i = 0; i < n; i++)
		dots += s[i] == '.';
	return dots == 2;
}

/* A secret-looking token: an API key's shape: long, of letters, digits, '_'
 * and '-' only, with a well-known key prefix (Stripe, GitHub, Slack, AWS,
 * Google) or enough digits among letters. Words joined by '-' or '_'
 * ("user-settings") have no digit. */
static bool is_key(const char *s, size_t n)
{
	static const char *const prefixes[] = { "sk_",	 "pk_",	  "rk_",  "whsec_",	 "ghp_",
						"gho_",	 "ghs_",  "ghu_", "github_pat_", "xoxb-",
						"xoxp-", "xoxa-", "AKIA", "ASIA",	 "AIza" };
	size_t digits = 0, alpha = 0;

	if (n < 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isdigit(c))
			digits++;
		else if (isalpha(c))
			alpha++;
		else if (c != '_' && c != '-')
			return false;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
			return true;
	/* Without a prefix, only with the separators an id has not (a UUID's
	 * '-' alone makes it an id). */
	return digits && alpha && digits * 8 >= n && memchr(s, '_', n);
}

/* An identifier: a number, a UUID, a hex string of 8+ characters (digits or
 * not: "deadbeef"), or a long token mixing letters and digits (base64/ULID
 * ids, hashes). Short words with a digit ("v1", "h2", "2fa") stay: they are
 * usually part of the API's shape. */
static bool is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, other = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isdigit(c))
			digits++;
		else if (isxdigit(c))
			hex++;
		if (!isalnum(c))
			other++;
	}
	if (digits == n)
		return true;
	if (digits + hex == n && n >= 8)
		return true; /* hex id, hash */
	if (digits == 0)
		return false;
	if (n == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-')
		return true; /* UUID */
	/* Mixed tokens: long, mostly alphanumeric, with enough digits not to be a word. */
	return n >= 16 && other * 4 <= n && digits * 5 >= n;
}

static const char *segment_template(const char *s, size_t n)
{
	if (n == 0)
		return NULL;
	if (is_email(s, n))
		return "{email}";
	if (is_jwt(s, n) || is_key(s, n))
		return "{token}";
	if (is_id(s, n))
		return "{id}";
	return NULL;
}

/* Appends a segment's template: its matrix parameters (`;jsessionid=…`, RFC
 * 3986 §3.3) keep their names and lose their values, whatever they are. */
static size_t put_segment(const char *seg, size_t n, char *out, size_t room)
{
	const char *semi = memchr(seg, ';', n);
	size_t head = semi ? (size_t)(semi - seg) : n, o = 0;
	const char *t = segment_template(seg, head);
	const char *piece = t ? t : seg;
	size_t plen = t ? strlen(t) : head;

	if (plen > room)
		plen = room;
	memcpy(out, piece, plen);
	o = plen;
	while (semi && o < room) {
		const char *end = seg + n;
		const char *next = memchr(semi + 1, ';', (size_t)(end - semi - 1));
		const char *stop = next ? next : end;
		const char *eq = memchr(semi, '=', (size_t)(stop - semi));
		size_t keep = (size_t)((eq ? eq + 1 : stop) - semi);

		if (keep > room - o)
			keep = room - o;
		memcpy(out + o, semi, keep);
		o += keep;
		if (eq && room - o >= 4) {
			memcpy(out + o, "{id}", 4);
			o += 4;
		}
		semi = next;
	}
	return o;
}

size_t route_template(const char *path, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen == 0)
		return 0;
	if (len == 0 || path[0] != '/') {
		/* "*" (OPTIONS *), absolute-form targets and garbage: no template. */
		const char *t = len == 1 && path[0] == '*' ? "*" : "/";

		strncpy(out, t, outlen - 1);
		out[outlen - 1] = '\0';
		return strlen(out);
	}
	while (i < len && o + 1 < outlen) {
		size_t start, n;
		const char *seg;

		out[o++] = '/';
		start = ++i;
		while (i < len && path[i] != '/')
			i++;
		seg = path + start;
		n = i - start;
		o += put_segment(seg, n, out + o, outlen - 1 - o);
	}
	out[o] = '\0';
	return o;
}

/* Open-addressing set of strings; never shrinks (bounded by limit). */
struct route_set {
	uint32_t limit;
	uint32_t count;
	uint32_t cap; /* slots, a power of two > 2 * limit */
	uint64_t overflows;
	char **slots;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ull;
	}
	return h;
}

struct route_set *route_set_new(uint32_t limit)
{
	struct route_set *rs = calloc(1, sizeof(*rs));
	uint32_t cap = 16;

	if (!rs)
		return NULL;
	while (cap <= 2 * (uint64_t)limit)
		cap *= 2;
	rs->slots = calloc(cap, sizeof(*rs->slots));
	if (!rs->slots) {
		free(rs);
		return NULL;
	}
	rs->limit = limit;
	rs->cap = cap;
	return rs;
}

void route_set_free(struct route_set *rs)
{
	if (!rs)
		return;
	for (uint32_t i = 0; i < rs->cap; i++)
		free(rs->slots[i]);
	free(rs->slots);
	free(rs);
}

const char *route_set_admit(struct route_set *rs, const char *route)
{
	uint32_t i = (uint32_t)hash_str(route) & (rs->cap - 1);

	while (rs->slots[i]) {
		if (strcmp(rs->slots[i], route) == 0)
			return rs->slots[i];
		i = (i + 1) & (rs->cap - 1);
	}
	if (rs->count >= rs->limit) {
		rs->overflows++;
		return ROUTE_OVERFLOW;
	}
	rs->slots[i] = strdup(route);
	if (!rs->slots[i]) {
		rs->overflows++;
		return ROUTE_OVERFLOW;
	}
	rs->count++;
	return rs->slots[i];
}

uint64_t route_set_overflows(const struct route_set *rs)
{
	return rs->overflows;
}

uint32_t route_set_count(const struct route_set *rs)
{
	return rs->count;
}

struct service_routes {
	char *service;
	struct route_set *routes;
};

struct route_registry {
	uint32_t per_service_limit;
	uint32_t max_services, nservices;
	uint32_t cap; /* slots, a power of two > 2 * max_services */
	struct service_routes *slots;
	struct route_set *shared; /* for services past max_services */
};

struct route_registry *route_registry_new(uint32_t per_service_limit, uint32_t max_services)
{
	struct route_registry *rr = calloc(1, sizeof(*rr));
	uint32_t cap = 16;

	if (!rr)
		return NULL;
	while (cap <= 2 * (uint64_t)max_services)
		cap *= 2;
	rr->slots = calloc(cap, sizeof(*rr->slots));
	rr->shared = route_set_new(per_service_limit);
	if (!rr->slots || !rr->shared) {
		route_registry_free(rr);
		return NULL;
	}
	rr->cap = cap;
	rr->per_service_limit = per_service_limit;
	rr->max_services = max_services;
	return rr;
}

void route_registry_free(struct route_registry *rr)
{
	if (!rr)
		return;
	for (uint32_t i = 0; rr->slots && i < rr->cap; i++) {
		free(rr->slots[i].service);
		route_set_free(rr->slots[i].routes);
	}
	free(rr->slots);
	route_set_free(rr->shared);
	free(rr);
}

static struct route_set *service_set(struct route_registry *rr, const char *service)
{
	uint32_t i = (uint32_t)hash_str(service) & (rr->cap - 1);

	while (rr->slots[i].service) {
		if (strcmp(rr->slots[i].service, service) == 0)
			return rr->slots[i].routes;
		i = (i + 1) & (rr->cap - 1);
	}
	if (rr->nservices >= rr->max_services)
		return rr->shared;
	rr->slots[i].routes = route_set_new(rr->per_service_limit);
	rr->slots[i].service = strdup(service);
	if (!rr->slots[i].routes || !rr->slots[i].service) {
		route_set_free(rr->slots[i].routes);
		free(rr->slots[i].service);
		rr->slots[i] = (struct service_routes){ 0 };
		return rr->shared;
	}
	rr->nservices++;
	return rr->slots[i].routes;
}

const char *route_registry_admit(struct route_registry *rr, const char *service, const char *route)
{
	return route_set_admit(service_set(rr, service), route);
}

uint64_t route_registry_overflows(const struct route_registry *rr)
{
	uint64_t n = route_set_overflows(rr->shared);

	for (uint32_t i = 0; i < rr->cap; i++)
		if (rr->slots[i].routes)
			n += route_set_overflows(rr->slots[i].routes);
	return n;
}
