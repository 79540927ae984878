/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <sys/socket.h>

#include "protocols/http2/grpc.h"
#include "spans/span_attrs.h"

static const char *keep(struct span_attrs *a, const char *s, size_t n, size_t *len)
{
	char *dst = a->scratch + a->used;
	size_t room = sizeof(a->scratch) - a->used;

	*len = 0;
	if (room < 2)
		return "";
	*len = utf8_sanitize(dst, room, s, n);
	a->used += *len + 1;
	return dst;
}

/* Inlined so that the length of each key, a literal, is a constant. */
static inline __attribute__((always_inline)) struct attr *add(struct span_attrs *a, const char *key,
							      enum attr_type type)
{
	struct attr *at;

	if (a->n >= SPAN_ATTRS_MAX)
		return NULL;
	at = &a->items[a->n++];
	*at = (struct attr){ .key = key, .key_len = strlen(key), .type = type };
	return at;
}

/* A string that outlives the attributes (the span's fields, the route) and
 * needs no copy when it is plain ASCII, as it nearly always is; copied with
 * its bad bytes replaced otherwise. Not NUL-terminated at str_len. */
static inline __attribute__((always_inline)) void add_str(struct span_attrs *a, const char *key,
							  const char *s, size_t n)
{
	struct attr *at = add(a, key, ATTR_STR);

	if (!at)
		return;
	if (utf8_ascii_run((const unsigned char *)s, 0, n) == n) {
		at->str = s;
		at->str_len = n;
	} else {
		at->str = keep(a, s, n, &at->str_len);
	}
}

/* A string known to be valid: a literal, or one formatted here. */
static inline __attribute__((always_inline)) void add_valid(struct span_attrs *a, const char *key,
							    const char *s, size_t n)
{
	struct attr *at = add(a, key, ATTR_STR);

	if (at) {
		at->str = s;
		at->str_len = n;
	}
}

#define add_literal(a, key, lit) add_valid(a, key, lit, sizeof(lit) - 1)

static inline __attribute__((always_inline)) void add_int(struct span_attrs *a, const char *key,
							  int64_t v)
{
	struct attr *at = add(a, key, ATTR_INT);

	if (at)
		at->num = v;
}

static inline __attribute__((always_inline)) void add_true(struct span_attrs *a, const char *key)
{
	struct attr *at = add(a, key, ATTR_BOOL);

	if (at)
		at->num = 1;
}

/* snprintf(buf, len, "%u", v); returns the full length. */
static size_t format_uint(char *buf, size_t len, unsigned v)
{
	char digits[10];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (!len)
		return n;
	for (size_t i = 0; i < n && i < len - 1; i++)
		buf[i] = digits[n - 1 - i];
	buf[n < len ? n : len - 1] = '\0';
	return n;
}

/* Writes an IPv4 address's dotted form (at most 15 bytes and a NUL); a digit
 * at a time, as format_uint's divisions cost more than the rest together. */
static size_t ipv4_text(const uint8_t v4[4], char *buf)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned b = v4[i];

		if (i)
			buf[n++] = '.';
		if (b >= 100) {
			buf[n++] = (char)('0' + b / 100);
			b %= 100;
			buf[n++] = (char)('0' + b / 10);
		} else if (b >= 10) {
			buf[n++] = (char)('0' + b / 10);
		}
		buf[n++] = (char)('0' + b % 10);
	}
	buf[n] = '\0';
	return n;
}

/* span_endpoint_addr(), with IPv4 (and IPv4-mapped IPv6) written here:
 * inet_ntop formats IPv4 with sprintf, which cost as much as the rest of the
 * address attributes together. Returns the length. */
static size_t endpoint_addr(const struct span_endpoint *e, char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *v4 = NULL;

	if (e->family == AF_INET)
		v4 = e->addr;
	else if (e->family == AF_INET6 && !memcmp(e->addr, v4mapped, sizeof(v4mapped)))
		v4 = e->addr + 12;
	if (!v4 || len < sizeof("255.255.255.255")) {
		span_endpoint_addr(e, buf, len);
		return strlen(buf);
	}
	return ipv4_text(v4, buf);
}

/* server.address without a copy when it is the Host header's host (a pointer
 * into sp->host), else the server's socket address formatted into buf.
 * Returns its length. */
static size_t server_endpoint(const struct span *sp, char *buf, size_t len, const char **addr,
			      uint16_t *port)
{
	const struct span_endpoint *srv = sp->kind == SPAN_SERVER ? &sp->local : &sp->peer;
	size_t n;

	if ((sp->flags & SPAN_F_DB) || !sp->host[0]) {
		*addr = buf;
		*port = srv->port;
		return endpoint_addr(srv, buf, len);
	}
	n = span_split_host(sp->host, addr, port);
	if (sp->kind == SPAN_CLIENT && srv->family)
		*port = srv->port; /* what was really connected to */
	else if (!*port)
		*port = srv->family ? srv->port : sp->flags & SPAN_F_TLS ? 443 : 80;
	return n;
}

bool copy_cut(char *buf, size_t len, const char *s, size_t n)
{
	size_t kept;

	if (!len)
		return n > 0;
	kept = n < len ? n : len - 1;
	if (kept)
		memcpy(buf, s, kept);
	buf[kept] = '\0';
	return kept < n;
}

void span_server_endpoint(const struct span *sp, char *addr, size_t len, uint16_t *port)
{
	const char *s;
	size_t n = server_endpoint(sp, addr, len, &s, port);

	if (s != addr)
		copy_cut(addr, len, s, n);
}

/* error.type's status code text: up to 5 digits and a NUL. */
#define STATUS_TEXT_LEN 6
/* An address's text: INET6_ADDRSTRLEN, and room to spare. */
#define ADDR_TEXT_LEN 64

/* The text of error.type: a literal, or the status code formatted into buf
 * (STATUS_TEXT_LEN bytes). Returns its length, 0 for none. */
static size_t error_type(const struct span *sp, char *buf, const char **out)
{
	*out = buf;
	if (!span_is_error(sp))
		return 0;
	if ((sp->flags & SPAN_F_DB) && sp->db.status_code[0])
		*out = sp->db.status_code;
	else if (sp->flags & SPAN_F_GRPC_STATUS)
		*out = grpc_status_name(sp->grpc_status);
	else if (sp->status)
		return format_uint(buf, STATUS_TEXT_LEN, sp->status);
	else
		*out = "no_response";
	return strlen(*out);
}

void span_error_type(const struct span *sp, char *buf, size_t len)
{
	char code[STATUS_TEXT_LEN];
	const char *s;
	size_t n = error_type(sp, code, &s);

	copy_cut(buf, len, s, n);
}

/* Room in the scratch area for a string formatted in place, or NULL. */
static char *scratch_room(struct span_attrs *a, size_t need)
{
	if (sizeof(a->scratch) - a->used < need)
		return NULL;
	return a->scratch + a->used;
}

/* An endpoint's address formatted into the scratch area; NULL when it is
 * unknown or there is no room. */
static const char *scratch_addr(struct span_attrs *a, const struct span_endpoint *e, size_t *n)
{
	char *addr = scratch_room(a, ADDR_TEXT_LEN);

	if (!e->family || !addr)
		return NULL;
	*n = endpoint_addr(e, addr, ADDR_TEXT_LEN);
	a->used += *n + 1;
	return addr;
}

/* client.address (servers only) and network.peer.address: the same peer,
 * whose address is formatted once. */
static void add_peer(struct span_attrs *a, const struct span *sp)
{
	size_t n;
	const char *addr = scratch_addr(a, &sp->peer, &n);

	if (!addr)
		return;
	if (sp->kind == SPAN_SERVER) {
		add_valid(a, "client.address", addr, n);
		add_int(a, "client.port", sp->peer.port);
	}
	add_valid(a, "network.peer.address", addr, n);
	add_int(a, "network.peer.port", sp->peer.port);
}

static void add_local(struct span_attrs *a, const struct span *sp)
{
	size_t n;
	const char *addr = scratch_addr(a, &sp->local, &n);

	if (!addr)
		return;
	add_valid(a, "network.local.address", addr, n);
	add_int(a, "network.local.port", sp->local.port);
}

/* server.address and server.port; an address formatted here goes to the
 * scratch area, a Host header's host is referred to where it is. */
static void add_server(struct span_attrs *a, const struct span *sp)
{
	char *buf = scratch_room(a, ADDR_TEXT_LEN);
	const char *addr;
	uint16_t port;
	size_t n;

	if (!buf)
		return;
	n = server_endpoint(sp, buf, ADDR_TEXT_LEN, &addr, &port);
	if (addr == buf) {
		a->used += n + 1;
		add_valid(a, "server.address", addr, n);
	} else {
		add_str(a, "server.address", addr, n);
	}
	add_int(a, "server.port", port);
}

static void add_error_type(struct span_attrs *a, const struct span *sp)
{
	char *buf = scratch_room(a, STATUS_TEXT_LEN);
	const char *s;
	size_t n;

	if (!buf)
		return;
	n = error_type(sp, buf, &s);
	if (!n)
		return;
	if (s == buf)
		a->used += n + 1;
	add_valid(a, "error.type", s, n);
}

/* What HTTP spans and gRPC calls have alike, after their own keys: the
 * endpoints, sizes, user agent and error. gRPC calls carry the body sizes
 * (their messages with gRPC's framing) on the console only. */
static void add_common(struct span_attrs *a, const struct span *sp, unsigned flags, bool body_sizes)
{
	bool console = flags & SPAN_ATTRS_CONSOLE;

	add_server(a, sp);
	add_peer(a, sp);
	if (console)
		add_local(a, sp);
	if (body_sizes) {
		add_int(a, "http.request.body.size", (int64_t)sp->request_body_bytes);
		if (sp->status)
			add_int(a, "http.response.body.size", (int64_t)sp->response_body_bytes);
	}
	if (sp->user_agent[0])
		add_str(a, "user_agent.original", sp->user_agent, strlen(sp->user_agent));
	if (console && sp->traceparent[0])
		add_str(a, "sonde.traceparent", sp->traceparent, strlen(sp->traceparent));
	add_error_type(a, sp);
	if (!console)
		return;
	if (sp->stream_id)
		add_int(a, "sonde.http2.stream_id", sp->stream_id);
	if (sp->flags & SPAN_F_RESET)
		add_true(a, "sonde.http2.reset");
	if (sp->flags & (SPAN_F_HEAD_TRUNCATED | SPAN_F_LOST_SYNC | SPAN_F_TARGET_TRUNCATED))
		add_true(a, "sonde.truncated");
}

/* The OpenTelemetry database conventions. The query text is already what
 * may leave the node (the protocol sanitised or dropped it as configured). */
static void db_attrs_build(struct span_attrs *out, const struct span *sp, unsigned flags)
{
	const struct span_db *db = &sp->db;
	const char *system = span_db_system_name(db->system);

	add_str(out, "db.system.name", system, strlen(system));
	if (db->name_space[0])
		add_str(out, "db.namespace", db->name_space, strlen(db->name_space));
	if (db->operation[0])
		add_str(out, "db.operation.name", db->operation, strlen(db->operation));
	if (db->collection[0])
		add_str(out, "db.collection.name", db->collection, strlen(db->collection));
	if (db->query[0])
		add_str(out, "db.query.text", db->query, strlen(db->query));
	if (db->status_code[0])
		add_str(out, "db.response.status_code", db->status_code, strlen(db->status_code));
	if (db->returned_rows >= 0)
		add_int(out, "db.response.returned_rows", db->returned_rows);
	add_server(out, sp);
	add_peer(out, sp);
	if (flags & SPAN_ATTRS_CONSOLE)
		add_local(out, sp);
	add_error_type(out, sp);
	if (sp->flags & (SPAN_F_HEAD_TRUNCATED | SPAN_F_LOST_SYNC | SPAN_F_QUERY_TRUNCATED))
		add_true(out, "sonde.truncated");
}

/* The OpenTelemetry gRPC conventions: rpc.* instead of http.*. */
static void rpc_attrs_build(struct span_attrs *out, const struct span *sp, unsigned flags)
{
	const char *svc, *method;
	size_t svc_len, method_len;

	add_literal(out, "rpc.system", "grpc");
	if (span_rpc_parts(sp, &svc, &svc_len, &method, &method_len)) {
		add_str(out, "rpc.service", svc, svc_len);
		add_str(out, "rpc.method", method, method_len);
	}
	if (sp->flags & SPAN_F_GRPC_STATUS)
		add_int(out, "rpc.grpc.status_code", sp->grpc_status);
	add_literal(out, "network.protocol.name", "http");
	add_literal(out, "network.protocol.version", "2");
	add_common(out, sp, flags, flags & SPAN_ATTRS_CONSOLE);
}

void span_attrs_build(struct span_attrs *out, const struct span *sp, const char *route,
		      unsigned flags)
{
	static const char *const http1_versions[10] = { "1.0", "1.1", "1.2", "1.3", "1.4",
							"1.5", "1.6", "1.7", "1.8", "1.9" };
	const char *query = span_query(sp);

	out->n = 0;
	out->used = 0;
	if (sp->flags & SPAN_F_DB) {
		db_attrs_build(out, sp, flags);
		return;
	}
	if (sp->flags & SPAN_F_GRPC) {
		rpc_attrs_build(out, sp, flags);
		return;
	}
	add_str(out, "http.request.method", span_method(sp), strlen(span_method(sp)));
	add_str(out, "url.path", sp->target, span_path_len(sp));
	if (query && (flags & SPAN_ATTRS_QUERY))
		add_str(out, "url.query", query, strlen(query));
	if (sp->flags & SPAN_F_TLS)
		add_literal(out, "url.scheme", "https");
	else
		add_literal(out, "url.scheme", "http");
	if (route)
		add_str(out, "http.route", route, strlen(route));
	if (sp->status)
		add_int(out, "http.response.status_code", sp->status);
	add_literal(out, "network.protocol.name", "http");
	if (sp->version_major == 2)
		add_literal(out, "network.protocol.version", "2");
	else
		add_valid(out, "network.protocol.version", http1_versions[sp->version_minor % 10],
			  3);
	add_common(out, sp, flags, true);
}
