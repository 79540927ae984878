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

/* "2026-11-25T19:42:01.123456789Z" */
static void format_utc(uint64_t ns, char *when, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), len - strlen(when), ".%09uZ", (unsigned)(ns % 1000000000ull));
}

static const char *kind_name(enum span_kind k)
{
	return k == SPAN_SERVER ? "server" : "client";
}

size_t format_text(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	if (!cap)
		return 0;
	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		char esc[8];
		size_t n;

		/* C0 controls, DEL, and C1 controls (U+0080–U+009F, 0xC2 0x80–0x9F
		 * in UTF-8) could move the cursor, end the line or retitle the
		 * terminal: written as escapes. So is the backslash, so that an
		 * escape in the text cannot pass for one of ours. */
		if (*p < 0x20 || *p == 0x7f || *p == '\\') {
			n = (size_t)snprintf(esc, sizeof(esc), *p == '\\' ? "\\\\" : "\\x%02x", *p);
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", p[1]);
			p++;
		} else {
			esc[0] = (char)*p;
			n = 1;
		}
		if (o + n >= cap)
			break;
		memcpy(dst + o, esc, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

int format_span_what(const struct span *sp, bool with_query, char *buf, size_t len)
{
	char status[24], db_name[SPAN_DB_NAME_LEN], raw[SPAN_TARGET_LEN + SPAN_DB_NAME_LEN + 64];
	const char *what, *target;

	if (sp->flags & SPAN_F_DB)
		snprintf(status, sizeof(status), "%s",
			 sp->flags & SPAN_F_NO_RESPONSE ? "no-response"
			 : sp->db.status_code[0]	? sp->db.status_code
							: "OK");
	else if (sp->flags & SPAN_F_GRPC_STATUS)
		snprintf(status, sizeof(status), "%s", grpc_status_name(sp->grpc_status));
	else if (sp->flags & SPAN_F_NO_RESPONSE)
		snprintf(status, sizeof(status), "no-response");
	else if (sp->flags & SPAN_F_STATUS_UNKNOWN)
		snprintf(status, sizeof(status), "?");
	else
		snprintf(status, sizeof(status), "%u", sp->status);
	/* gRPC: "gRPC /package.Service/Method OK"; a database command:
	 * "postgresql SELECT orders OK". */
	if (sp->flags & SPAN_F_DB) {
		what = span_db_system_name(sp->db.system);
		span_db_name(sp, db_name, sizeof(db_name));
		target = db_name;
	} else {
		what = sp->flags & SPAN_F_GRPC ? "gRPC" : span_method(sp);
		target = sp->target;
	}
	/* The query only when the operator asked for it (capture.query): the
	 * same rule as every other output. */
	snprintf(raw, sizeof(raw), "%s %.*s %s", what,
		 (int)(with_query || (sp->flags & SPAN_F_DB) ? strlen(target) : span_path_len(sp)),
		 target, status);
	/* What came from traffic is shown, never obeyed. */
	return (int)format_text(buf, len, raw);
}

int format_span_line(const struct span *sp, bool with_query, char *buf, size_t len)
{
	char when[32], dur[24], peer[64], what[4 * (SPAN_TARGET_LEN + SPAN_DB_NAME_LEN + 64)];
	char comm[4 * SPAN_COMM_LEN];
	time_t secs = (time_t)(sp->start_ns / 1000000000ull);
	struct tm tm;
	int n;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	format_duration(sp->end_ns - sp->start_ns, dur, sizeof(dur));
	span_endpoint_addr(&sp->peer, peer, sizeof(peer));
	format_span_what(sp, with_query, what, sizeof(what));
	format_text(comm, sizeof(comm), sp->comm);
	/* HTTP/2 shows as h2. */
	n = snprintf(buf, len, "%s.%06u %-6s %s[%u] %s %s %s %s:%u%s%s", when,
		     (unsigned)(sp->start_ns % 1000000000ull / 1000), kind_name(sp->kind), comm,
		     sp->pid, what, dur, sp->kind == SPAN_SERVER ? "<-" : "->", peer, sp->peer.port,
		     sp->version_major == 2 ? " h2" : "",
		     sp->flags & (SPAN_F_HEAD_TRUNCATED | SPAN_F_LOST_SYNC) ? " (truncated)" : "");
	if (n < 0)
		return 0;
	return (size_t)n < len ? n : (int)len - 1;
}

/* Span name: "package.Service/Method" for gRPC calls (the path without its
 * leading slash), else the method, as the semantic conventions name them. */
static void json_name(struct json_buf *j, const struct span *sp)
{
	const char *svc, *method;
	size_t svc_len, method_len;

	if (sp->flags & SPAN_F_DB) {
		char name[SPAN_DB_NAME_LEN];

		json_strn(j, "name", name, span_db_name(sp, name, sizeof(name)));
	} else if (span_rpc_parts(sp, &svc, &svc_len, &method, &method_len)) {
		json_strn(j, "name", svc, svc_len + 1 + method_len);
	} else {
		json_str(j, "name", sp->method);
	}
}

static void json_attr(struct json_buf *j, const struct attr *a)
{
	switch (a->type) {
	case ATTR_STR:
		json_strn(j, a->key, a->str, a->str_len);
		break;
	case ATTR_INT:
		json_i64(j, a->key, a->num);
		break;
	case ATTR_BOOL:
		json_bool(j, a->key, a->num != 0);
		break;
	}
}

int format_span_json(const struct span *sp, bool with_query, char *buf, size_t len)
{
	struct span_attrs attrs;
	struct json_buf j;
	char when[48];

	format_utc(sp->start_ns, when, sizeof(when));
	json_begin(&j, buf, len);
	json_str(&j, "time", when);
	json_str(&j, "kind", kind_name(sp->kind));
	json_name(&j, sp);
	json_u64(&j, "start_time_unix_nano", sp->start_ns);
	json_u64(&j, "end_time_unix_nano", sp->end_ns);
	json_u64(&j, "duration_ns", sp->end_ns - sp->start_ns);
	json_ids(&j, sp);
	/* Resource attributes in OTLP (host/resource.c): here, with the span. */
	json_u64(&j, "process.pid", sp->pid);
	json_str(&j, "process.executable.name", sp->comm);
	/* `sonde trace` templates no routes: no http.route. */
	span_attrs_build(&attrs, sp, NULL,
			 SPAN_ATTRS_CONSOLE | (with_query ? SPAN_ATTRS_QUERY : 0));
	for (int i = 0; i < attrs.n; i++)
		json_attr(&j, &attrs.items[i]);
	return json_end(&j);
}

/* Application output as it is safe to show on a terminal (format_text):
 * s[0..n), a tab shown as two spaces (stack traces indent with them). */
static void put_safe(struct strbuf *sb, const char *s, size_t n)
{
	char chunk[1024], safe[4 * sizeof(chunk)];

	while (n) {
		size_t k = n < sizeof(chunk) - 1 ? n : sizeof(chunk) - 1;

		/* Not between the two bytes of a C1 control's UTF-8. */
		if (k < n && (unsigned char)s[k - 1] == 0xc2)
			k--;
		for (size_t i = 0; i < k; i++)
			chunk[i] = s[i] == '\t' ? ' ' : s[i];
		chunk[k] = '\0';
		for (size_t i = 0; i < k; i++)
			if (!chunk[i])
				chunk[i] = ' '; /* a NUL would end the text early */
		format_text(safe, sizeof(safe), chunk);
		strbuf_printf(sb, "%s", safe);
		s += k;
		n -= k;
	}
}

void format_log_text(struct strbuf *sb, const struct log_record *r, const char *comm, int indent,
		     bool with_ids)
{
	char when[32], trace[33], span[17];
	time_t secs = (time_t)(r->time_ns / 1000000000ull);
	const char *sev = log_severity_name(r->severity.number);
	const char *p = r->body, *end = r->body + r->len;
	struct tm tm;

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	strbuf_printf(sb, "%*slog %s.%06u ", indent, "", when,
		      (unsigned)(r->time_ns % 1000000000ull / 1000));
	put_safe(sb, comm, strlen(comm));
	strbuf_printf(sb, "[%u] %s%s", r->tgid, sev, sev[0] ? " " : "");
	/* The body's lines, the first on this line, the others under it. */
	for (bool first = true; first || p < end; first = false) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		if (!first)
			strbuf_printf(sb, "\n%*s", indent + 6, "");
		put_safe(sb, p, n);
		p += n + (nl != NULL);
		if (!nl)
			break;
	}
	if (r->cut)
		strbuf_printf(sb, " (truncated)");
	if (with_ids && r->in_request) {
		span_hex(r->ctx.trace_id, sizeof(r->ctx.trace_id), trace);
		span_hex(r->ctx.span_id, sizeof(r->ctx.span_id), span);
		strbuf_printf(sb, " (trace %s/span %s)", trace, span);
	}
	strbuf_printf(sb, "\n");
}

int format_log_json(const struct log_record *r, const char *comm, char *buf, size_t len)
{
	struct json_buf j;
	char when[48], hex[33];

	format_utc(r->time_ns, when, sizeof(when));
	json_begin(&j, buf, len);
	json_strn(&j, "log", r->body, r->len);
	json_str(&j, "time", when);
	json_u64(&j, "time_unix_nano", r->time_ns);
	if (r->severity.number) {
		json_u64(&j, "severity_number", r->severity.number);
		json_str(&j, "severity_text", r->severity.text);
	}
	json_str(&j, "log.iostream", r->fd == 2 ? "stderr" : "stdout");
	json_u64(&j, "process.pid", r->tgid);
	json_str(&j, "process.executable.name", comm);
	if (r->in_request) {
		span_hex(r->ctx.trace_id, sizeof(r->ctx.trace_id), hex);
		json_str(&j, "trace_id", hex);
		span_hex(r->ctx.span_id, sizeof(r->ctx.span_id), hex);
		json_str(&j, "span_id", hex);
	}
	if (r->cut)
		json_bool(&j, "sonde.truncated", true);
	return json_end(&j);
}
