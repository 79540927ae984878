/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/prom_text.h"

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->failed)
		return;
	for (;;) {
		size_t room = sb->cap - sb->len;

		va_start(ap, fmt);
		n = vsnprintf(sb->buf ? sb->buf + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			sb->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		size_t cap = sb->cap ? sb->cap * 2 : 4096;

		while (cap - sb->len <= (size_t)n)
			cap *= 2;
		char *nb = realloc(sb->buf, cap);

		if (!nb) {
			sb->failed = 1;
			return;
		}
		sb->buf = nb;
		sb->cap = cap;
	}
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	*sb = (struct strbuf){ 0 };
}

/* Label values escape backslash, double quote and line feed. */
static void label(struct strbuf *sb, const char *name, const char *value, bool *first)
{
	strbuf_printf(sb, "%s%s=\"", *first ? "" : ",", name);
	*first = false;
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			strbuf_printf(sb, "\\\\");
		else if (*p == '"')
			strbuf_printf(sb, "\\\"");
		else if (*p == '\n')
			strbuf_printf(sb, "\\n");
		else
			strbuf_printf(sb, "%c", *p);
	}
	strbuf_printf(sb, "\"");
}

static void series_labels(struct strbuf *sb, const struct series_key *k)
{
	char num[8];
	bool first = true;

	label(sb, "service_name", k->res->service_name, &first);
	label(sb, "service_instance_id", k->res->instance_id, &first);
	if (k->overflow) {
		label(sb, "otel_metric_overflow", "true", &first);
		return;
	}
	if (k->db) {
		label(sb, "db_system_name", span_db_system_name(k->db_system), &first);
		if (k->db_operation[0])
			label(sb, "db_operation_name", k->db_operation, &first);
		if (k->db_collection[0])
			label(sb, "db_collection_name", k->db_collection, &first);
		if (k->db_namespace[0])
			label(sb, "db_namespace", k->db_namespace, &first);
		if (k->error_type[0])
			label(sb, "error_type", k->error_type, &first);
		if (k->server_address[0]) {
			label(sb, "server_address", k->server_address, &first);
			snprintf(num, sizeof(num), "%u", k->server_port);
			label(sb, "server_port", num, &first);
		}
		return;
	}
	if (k->rpc) {
		label(sb, "rpc_system", "grpc", &first);
		if (k->rpc_service[0]) {
			label(sb, "rpc_service", k->rpc_service, &first);
			label(sb, "rpc_method", k->rpc_method, &first);
		}
		if (k->grpc_status >= 0) {
			snprintf(num, sizeof(num), "%d", k->grpc_status);
			label(sb, "rpc_grpc_status_code", num, &first);
		}
		if (k->server_address[0]) {
			label(sb, "server_address", k->server_address, &first);
			snprintf(num, sizeof(num), "%u", k->server_port);
			label(sb, "server_port", num, &first);
		}
		return;
	}
	label(sb, "http_request_method", k->method, &first);
	if (k->status) {
		snprintf(num, sizeof(num), "%u", k->status);
		label(sb, "http_response_status_code", num, &first);
	}
	if (k->route[0])
		label(sb, "http_route", k->route, &first);
	if (k->error_type[0])
		label(sb, "error_type", k->error_type, &first);
	label(sb, "url_scheme", k->tls ? "https" : "http", &first);
	label(sb, "network_protocol_name", "http", &first);
	label(sb, "network_protocol_version", k->protocol_version, &first);
	if (k->server_address[0]) {
		label(sb, "server_address", k->server_address, &first);
		snprintf(num, sizeof(num), "%u", k->server_port);
		label(sb, "server_port", num, &first);
	}
}

struct family {
	const char *name;
	const char *help;
	enum span_kind kind;
	int which; /* 0 duration, 1 request size, 2 response size, 3 RPC duration,
		    * 4 database duration */
};

static const struct family families[] = {
	{ "http_server_request_duration_seconds", "Duration of HTTP server requests.", SPAN_SERVER,
	  0 },
	{ "http_server_request_body_size_bytes", "Size of HTTP server request bodies.", SPAN_SERVER,
	  1 },
	{ "http_server_response_body_size_bytes", "Size of HTTP server response bodies.",
	  SPAN_SERVER, 2 },
	{ "http_client_request_duration_seconds", "Duration of HTTP client requests.", SPAN_CLIENT,
	  0 },
	{ "http_client_request_body_size_bytes", "Size of HTTP client request bodies.", SPAN_CLIENT,
	  1 },
	{ "http_client_response_body_size_bytes", "Size of HTTP client response bodies.",
	  SPAN_CLIENT, 2 },
	{ "rpc_server_duration_milliseconds", "Duration of RPCs served.", SPAN_SERVER, 3 },
	{ "rpc_client_duration_milliseconds", "Duration of RPCs made.", SPAN_CLIENT, 3 },
	{ "db_client_operation_duration_seconds", "Duration of database client operations.",
	  SPAN_CLIENT, 4 },
};

/* Which family kind (the `which` above, durations alike) a series belongs to. */
static int series_which(const struct series_key *k, int which)
{
	if (k->db)
		return 4;
	if (k->rpc)
		return 3;
	return which <= 2 ? which : -1;
}

static const struct histogram *hist_of(const struct series *s, int which)
{
	return which == 1 ? &s->req_size : which == 2 ? &s->resp_size : &s->duration;
}

/* " # {trace_id=…,span_id=…} value time" after a bucket's sample. */
static void exemplar(struct strbuf *sb, const struct exemplar *e)
{
	char trace[33], span[17];

	if (!e->time_ns)
		return;
	span_hex(e->trace_id, sizeof(e->trace_id), trace);
	span_hex(e->span_id, sizeof(e->span_id), span);
	strbuf_printf(sb, " # {trace_id=\"%s\",span_id=\"%s\"} %.17g %llu.%09llu", trace, span,
		      e->value, (unsigned long long)(e->time_ns / 1000000000ull),
		      (unsigned long long)(e->time_ns % 1000000000ull));
}

static void render_family(struct strbuf *sb, const struct metrics *m, const struct family *f,
			  bool openmetrics)
{
	const double *bounds = f->which == 0   ? metrics_duration_bounds
			       : f->which == 3 ? metrics_rpc_bounds
			       : f->which == 4 ? metrics_db_bounds
					       : metrics_size_bounds;
	int nb = f->which == 0	 ? DURATION_BOUNDS
		 : f->which == 3 ? RPC_BOUNDS
		 : f->which == 4 ? DB_BOUNDS
				 : SIZE_BOUNDS;
	bool header = false;

	for (const struct series *s = metrics_first(m); s; s = s->list_next) {
		const struct histogram *h = hist_of(s, f->which);
		uint64_t cumulative = 0;

		/* gRPC series only in the rpc_* families, database ones in db_*,
		 * the others only in http_*. */
		if (s->key.kind != f->kind || !h->count ||
		    series_which(&s->key, f->which) != f->which)
			continue;
		if (!header) {
			strbuf_printf(sb, "# HELP %s %s\n# TYPE %s histogram\n", f->name, f->help,
				      f->name);
			header = true;
		}
		/* Prometheus buckets are cumulative ("le"); OTLP's are not. */
		for (int i = 0; i <= nb; i++) {
			cumulative += h->buckets[i];
			strbuf_printf(sb, "%s_bucket{", f->name);
			series_labels(sb, &s->key);
			if (i < nb)
				strbuf_printf(sb, ",le=\"%g\"} %llu", bounds[i],
					      (unsigned long long)cumulative);
			else
				strbuf_printf(sb, ",le=\"+Inf\"} %llu",
					      (unsigned long long)cumulative);
			if (openmetrics && h == &s->duration)
				exemplar(sb, &s->exemplars[i]);
			strbuf_printf(sb, "\n");
		}
		strbuf_printf(sb, "%s_sum{", f->name);
		series_labels(sb, &s->key);
		strbuf_printf(sb, "} %.17g\n%s_count{", h->sum, f->name);
		series_labels(sb, &s->key);
		strbuf_printf(sb, "} %llu\n", (unsigned long long)h->count);
	}
}

/* "sonde.spans.dropped" → "sonde_spans_dropped_total" for counters. */
static void health_name(char *out, size_t len, const struct health_metric *h)
{
	size_t i = 0;

	for (; h->name[i] && i + 1 < len; i++)
		out[i] = h->name[i] == '.' ? '_' : h->name[i];
	out[i] = '\0';
	if (!h->gauge)
		strncat(out, "_total", len - strlen(out) - 1);
}

static void render(struct strbuf *sb, const struct metrics *m, const struct health_metric *health,
		   size_t nhealth, bool openmetrics)
{
	char name[128];

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		render_family(sb, m, &families[i], openmetrics);
	for (size_t i = 0; i < nhealth; i++) {
		/* OpenMetrics names a counter's family without the _total its
		 * sample has. */
		size_t family = 0;

		health_name(name, sizeof(name), &health[i]);
		family = strlen(name) - (openmetrics && !health[i].gauge ? 6 : 0);
		strbuf_printf(sb, "# HELP %.*s %s\n# TYPE %.*s %s\n%s %llu\n", (int)family, name,
			      health[i].description, (int)family, name,
			      health[i].gauge ? "gauge" : "counter", name,
			      (unsigned long long)health[i].value);
	}
	if (openmetrics)
		strbuf_printf(sb, "# EOF\n");
}

void prom_render(struct strbuf *sb, const struct metrics *m, const struct health_metric *health,
		 size_t nhealth)
{
	render(sb, m, health, nhealth, false);
}

void prom_render_openmetrics(struct strbuf *sb, const struct metrics *m,
			     const struct health_metric *health, size_t nhealth)
{
	render(sb, m, health, nhealth, true);
}
