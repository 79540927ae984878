/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "protocols/http2/grpc.h"
#include "spans/span.h"
#include "spans/span_attrs.h"

bool span_is_error(const struct span *s)
{
	if (s->flags & SPAN_F_DB)
		return (s->flags & (SPAN_F_DB_ERROR | SPAN_F_NO_RESPONSE)) != 0;
	/* A call's status decides, even for a client that cancelled before the
	 * server answered (CANCELLED is no server error). */
	if (s->flags & SPAN_F_GRPC_STATUS) {
		if (s->kind == SPAN_SERVER)
			return grpc_status_is_server_error(s->grpc_status);
		return s->grpc_status != 0;
	}
	if (s->flags & SPAN_F_NO_RESPONSE)
		return true;
	if (s->status == 0)
		return !(s->flags & SPAN_F_STATUS_UNKNOWN);
	return s->kind == SPAN_SERVER ? s->status >= 500 : s->status >= 400;
}

bool span_rpc_parts(const struct span *s, const char **service, size_t *service_len,
		    const char **method, size_t *method_len)
{
	if (!(s->flags & SPAN_F_GRPC))
		return false;
	return grpc_split_path(s->target, strlen(s->target), service, service_len, method,
			       method_len);
}

size_t span_path_len(const struct span *s)
{
	if (s->flags & SPAN_F_DB)
		return 0;
	return strcspn(s->target, "?#");
}

const char *span_query(const struct span *s)
{
	const char *q = s->flags & SPAN_F_DB ? NULL : strchr(s->target, '?');

	return q ? q + 1 : NULL;
}

void span_endpoint_addr(const struct span_endpoint *e, char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (e->family == AF_INET6 && !memcmp(e->addr, v4mapped, sizeof(v4mapped))) {
		inet_ntop(AF_INET, e->addr + 12, buf, (socklen_t)len);
	} else if (e->family == AF_INET || e->family == AF_INET6) {
		inet_ntop(e->family, e->addr, buf, (socklen_t)len);
	} else if (len) {
		strncpy(buf, "-", len);
		buf[len - 1] = '\0';
	}
}

void span_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

const char *span_link_name(uint8_t link)
{
	static const char *const names[SPAN_LINK__COUNT] = {
		[SPAN_LINK_ROOT] = "root",
		[SPAN_LINK_HEADER] = "header",
		[SPAN_LINK_CONNECTION] = "connection",
		[SPAN_LINK_THREAD] = "thread",
		[SPAN_LINK_GOROUTINE] = "goroutine",
		[SPAN_LINK_SPAWN] = "spawn",
		[SPAN_LINK_HANDOFF] = "handoff",
		[SPAN_LINK_ASYNC] = "async",
	};

	return link < SPAN_LINK__COUNT ? names[link] : "root";
}

bool span_has_parent(const struct span *s)
{
	static const uint8_t none[8];

	return memcmp(s->parent_span_id, none, sizeof(none)) != 0;
}

/* The decimal port at s; 0 when there is none or it is out of range.
 * strtoul cost ~180 instructions a span here, for five digits. */
static uint16_t port_number(const char *s)
{
	uint32_t v = 0;
	int i = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint32_t)(s[i] - '0');
		if (v > 65535)
			return 0;
	}
	return (uint16_t)v;
}

size_t span_split_host(const char *host, const char **start, uint16_t *port)
{
	const char *colon;
	size_t n;

	*port = 0;
	*start = host;
	if (host[0] == '[') { /* IPv6 literal, RFC 3986 §3.2.2 */
		const char *end = strchr(host, ']');

		if (!end)
			return strlen(host);
		*start = host + 1;
		if (end[1] == ':')
			*port = port_number(end + 2);
		return (size_t)(end - host - 1);
	}
	colon = strrchr(host, ':');
	n = colon ? (size_t)(colon - host) : strlen(host);
	if (colon)
		*port = port_number(colon + 1);
	return n;
}

const char *span_db_system_name(uint8_t system)
{
	switch (system) {
	case SPAN_DB_POSTGRESQL:
		return "postgresql";
	case SPAN_DB_MYSQL:
		return "mysql";
	case SPAN_DB_MARIADB:
		return "mariadb";
	case SPAN_DB_REDIS:
		return "redis";
	}
	return "other_sql";
}

size_t span_db_name(const struct span *s, char *buf, size_t len)
{
	const struct span_db *db = &s->db;
	int n;

	if (!db->operation[0])
		n = snprintf(buf, len, "%s", span_db_system_name(db->system));
	else if (!db->collection[0])
		n = snprintf(buf, len, "%s", db->operation);
	else
		n = snprintf(buf, len, "%s %s", db->operation, db->collection);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

bool span_set_text(char *dst, size_t cap, const char *src, size_t n)
{
	size_t used;

	if (!cap)
		return n > 0;
	utf8_sanitize_used(dst, cap, src, n, &used);
	return used < n;
}

bool span_is_token(const char *s, size_t n)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c && strchr(extra, c))))
			return false;
	}
	return true;
}

const char *span_method(const struct span *s)
{
	return s->method[0] ? s->method : "_OTHER";
}
