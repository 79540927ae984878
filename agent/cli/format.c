/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/format.h"
#include "util/json.h"
#include "protocols/http2/grpc.h"
#include "spans/span_attrs.h"

void format_duration(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%uns", (unsigned)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%uus", (unsigned)(ns / 1000));
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", (double)ns / 1e9);
}

/* trace_id, span_id, parent_span_id (when it has one) in hex, as OTLP/JSON
 * writes them, and sonde.link: how the parent was found. */
static void json_ids(struct json_buf *j, const struct span *sp)
{
	char hex[33];

	span_hex(sp->trace_id, sizeof(sp->trace_id), hex);
	json_str(j, "trace_id", hex);
	span_hex(sp->span_id, sizeof(sp->span_id), hex);
	json_str(j, "span_id", hex);
	if (span_has_parent(sp)) {
		span_hex(sp->parent_span_id, sizeof(sp->parent_span_id), hex);
		json_str(j, "parent_span_id", hex);
	}
	json_str(j, "sonde.link", span_link_name(sp->link));
}

static const char *kind_name(enum span_kind k)
{
	return k == SPAN_SERVER ? "server" : "client";
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

size_t format_split_host(const char *host, const char **start, uint16_t *port)
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

int format_span_line(const struct span *sp, char *buf, size_t len)
{
	char when[32], dur[24], peer[64], status[24];
	time_t secs = (time_t)(sp->start_ns / 1000000000ull);
	struct tm tm;
	int n;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	format_duration(sp->end_ns - sp->start_ns, dur, sizeof(dur));
	span_endpoint_addr(&sp->peer, peer, sizeof(peer));
	if (sp->flags & SPAN_F_GRPC_STATUS)
		snprintf(status, sizeof(status), "%s", grpc_status_name(sp->grpc_status));
	else if (sp->flags & SPAN_F_NO_RESPONSE)
		snprintf(status, sizeof(status), "no-response");
	else if (sp->flags & SPAN_F_STATUS_UNKNOWN)
		snprintf(status, sizeof(status), "?");
	else
		snprintf(status, sizeof(status), "%u", sp->status);
	/* gRPC: "gRPC /package.Service/Method OK"; HTTP/2 shows as h2. */
	n = snprintf(buf, len, "%s.%06u %-6s %s[%u] %s %s %s %s %s %s:%u%s%s", when,
		     (unsigned)(sp->start_ns % 1000000000ull / 1000), kind_name(sp->kind), sp->comm,
		     sp->pid, sp->flags & SPAN_F_GRPC ? "gRPC" : sp->method, sp->target, status,
		     dur, sp->kind == SPAN_SERVER ? "<-" : "->", peer, sp->peer.port,
		     sp->version_major == 2 ? " h2" : "",
		     sp->flags & (SPAN_F_HEAD_TRUNCATED | SPAN_F_LOST_SYNC) ? " (truncated)" : "");
	if (n < 0)
		return 0;
	return (size_t)n < len ? n : (int)len - 1;
}

static void json_endpoint(struct json_buf *j, const char *addr_key, const char *port_key,
			  const struct span_endpoint *e)
{
	char addr[64];

	if (!e->family)
		return;
	span_endpoint_addr(e, addr, sizeof(addr));
	json_str(j, addr_key, addr);
	json_u64(j, port_key, e->port);
}

/* server.address/port: the Host the client asked for when known (RFC 9110
 * §7.2), else the server's own socket address. */
static void json_server(struct json_buf *j, const struct span *sp)
{
	const struct span_endpoint *srv = sp->kind == SPAN_SERVER ? &sp->local : &sp->peer;
	const char *host;
	uint16_t port;
	size_t n;

	if (sp->host[0]) {
		n = format_split_host(sp->host, &host, &port);
		json_strn(j, "server.address", host, n);
		if (sp->kind == SPAN_CLIENT && srv->family)
			port = srv->port; /* what was really connected to */
		else if (!port)
			port = srv->family ? srv->port : sp->flags & SPAN_F_TLS ? 443 : 80;
		json_u64(j, "server.port", port);
	} else {
		json_endpoint(j, "server.address", "server.port", srv);
	}
}

/* Span name: "package.Service/Method" for gRPC calls (the path without its
 * leading slash), else the method, as the semantic conventions name them. */
static void json_name(struct json_buf *j, const struct span *sp)
{
	const char *svc, *method;
	size_t svc_len, method_len;

	if (span_rpc_parts(sp, &svc, &svc_len, &method, &method_len))
		json_strn(j, "name", svc, svc_len + 1 + method_len);
	else
		json_str(j, "name", sp->method);
}

static void json_rpc(struct json_buf *j, const struct span *sp)
{
	const char *svc, *method;
	size_t svc_len, method_len;

	json_str(j, "rpc.system", "grpc");
	if (span_rpc_parts(sp, &svc, &svc_len, &method, &method_len)) {
		json_strn(j, "rpc.service", svc, svc_len);
		json_strn(j, "rpc.method", method, method_len);
	}
	if (sp->flags & SPAN_F_GRPC_STATUS)
		json_u64(j, "rpc.grpc.status_code", sp->grpc_status);
}

static void json_http(struct json_buf *j, const struct span *sp)
{
	const char *query = span_query(sp);

	json_str(j, "http.request.method", sp->method);
	json_strn(j, "url.path", sp->target, span_path_len(sp));
	if (query)
		json_str(j, "url.query", query);
	json_str(j, "url.scheme", sp->flags & SPAN_F_TLS ? "https" : "http");
	if (sp->status)
		json_u64(j, "http.response.status_code", sp->status);
}

int format_span_json(const struct span *sp, char *buf, size_t len)
{
	struct json_buf j;
	char when[48], version[8], err[32];
	time_t secs = (time_t)(sp->start_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%09uZ",
		 (unsigned)(sp->start_ns % 1000000000ull));
	if (sp->version_major == 2)
		snprintf(version, sizeof(version), "2");
	else
		snprintf(version, sizeof(version), "1.%u", sp->version_minor);

	json_begin(&j, buf, len);
	json_str(&j, "time", when);
	json_str(&j, "kind", kind_name(sp->kind));
	json_name(&j, sp);
	json_u64(&j, "start_time_unix_nano", sp->start_ns);
	json_u64(&j, "end_time_unix_nano", sp->end_ns);
	json_u64(&j, "duration_ns", sp->end_ns - sp->start_ns);
	json_ids(&j, sp);
	json_u64(&j, "process.pid", sp->pid);
	json_str(&j, "process.executable.name", sp->comm);
	if (sp->flags & SPAN_F_GRPC)
		json_rpc(&j, sp);
	else
		json_http(&j, sp);
	json_str(&j, "network.protocol.name", "http");
	json_str(&j, "network.protocol.version", version);
	json_server(&j, sp);
	if (sp->kind == SPAN_SERVER)
		json_endpoint(&j, "client.address", "client.port", &sp->peer);
	json_endpoint(&j, "network.peer.address", "network.peer.port", &sp->peer);
	json_endpoint(&j, "network.local.address", "network.local.port", &sp->local);
	json_u64(&j, "http.request.body.size", sp->request_body_bytes);
	if (sp->status)
		json_u64(&j, "http.response.body.size", sp->response_body_bytes);
	if (sp->user_agent[0])
		json_str(&j, "user_agent.original", sp->user_agent);
	if (sp->traceparent[0])
		json_str(&j, "sonde.traceparent", sp->traceparent);
	span_error_type(sp, err, sizeof(err));
	if (err[0])
		json_str(&j, "error.type", err);
	if (sp->stream_id)
		json_u64(&j, "sonde.http2.stream_id", sp->stream_id);
	if (sp->flags & SPAN_F_RESET)
		json_bool(&j, "sonde.http2.reset", true);
	if (sp->flags & (SPAN_F_HEAD_TRUNCATED | SPAN_F_LOST_SYNC | SPAN_F_TARGET_TRUNCATED))
		json_bool(&j, "sonde.truncated", true);
	return json_end(&j);
}
