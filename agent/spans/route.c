/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spans/route.h"

/* A segment is an identifier when it is a number, a UUID, a long hex string,
 * or a long token mixing letters and digits (base64/ULID-style ids, hashes).
 * Short words with a digit ("v1", "h2", "2fa") stay: they are usually part of
 * the API's shape. */
static bool segment_is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, alpha = 0, other = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isdigit(c))
			digits++;
		else if (isxdigit(c))
			hex++;
		if (isalpha(c))
			alpha++;
		else if (!isdigit(c))
			other++;
	}
	if (digits == n)
		return true;
	if (digits == 0)
		return false;
	if (digits + hex == n && n >= 8)
		return true; /* hex id, hash */
	if (n == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-')
		return true; /* UUID */
	/* Mixed tokens: long, mostly alphanumeric, with enough digits not to be a word. */
	return n >= 16 && other * 4 <= n && digits * 5 >= n;
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
		if (segment_is_id(seg, n)) {
			seg = "{id}";
			n = 4;
		}
		if (n > outlen - 1 - o)
			n = outlen - 1 - o;
		memcpy(out + o, seg, n);
		o += n;
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
