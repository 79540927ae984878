/* SPDX-License-Identifier: MIT */
/*
 * A value into the settings, by key or by row, with the one-line message a
 * user sees; and config_finish(), what each OTLP exporter ends up using. The
 * tables are in config_table.c, value parsing in config_parse.c; the layers
 * that call these are config_flags.c, config_yaml.c and config_load.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_parse.h"
#include "util/utf8.h"

int config_apply(struct sonde_config *c, const struct config_setting *s, const char *value,
		 const char *origin, bool append, char *err, size_t errlen)
{
	char why[CONFIG_ERR_LEN];

	if (config_store(c, s, value, append, why, sizeof(why))) {
		/* a value with a newline (a YAML block scalar) or an escape
		 * sequence must not break the one-line message */
		snprintf(err, errlen, "invalid %s=%s: %s", origin ? origin : s->key, value, why);
		utf8_one_line(err);
		return -EINVAL;
	}
	return 0;
}

static int set_value(struct sonde_config *c, const char *key, const char *value, const char *origin,
		     bool append, char *err, size_t errlen)
{
	const struct config_setting *s = config_find(key);

	if (!s) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		utf8_one_line(err);
		return -EINVAL;
	}
	return config_apply(c, s, value, origin, append, err, errlen);
}

int config_set(struct sonde_config *c, const char *key, const char *value, const char *origin,
	       char *err, size_t errlen)
{
	return set_value(c, key, value, origin, false, err, errlen);
}

int config_add(struct sonde_config *c, const char *key, const char *value, const char *origin,
	       char *err, size_t errlen)
{
	return set_value(c, key, value, origin, true, err, errlen);
}

/* base + "/" + path with exactly one slash between them: the OTLP/HTTP rule for
 * the generic endpoint ("http://gw:4318/otlp" → "http://gw:4318/otlp/v1/traces"). */
static void url_join(char *out, size_t outlen, const char *base, const char *path)
{
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	snprintf(out, outlen, "%.*s/%s", (int)n, base, path);
}

/* gRPC targets are scheme://host:port; the transport adds the method path. */
static void url_strip(char *out, size_t outlen, const char *url)
{
	size_t n = strlen(url);

	while (n && url[n - 1] == '/')
		n--;
	snprintf(out, outlen, "%.*s", (int)n, url);
}

/* The per-signal value if it was given (in any layer), else the generic one,
 * else the default. */
#define PICK(has, field, dflt) (sig->has ? sig->field : gen->has ? gen->field : (dflt))

static void resolve_target(struct otlp_target *t, const struct otlp_settings *gen,
			   const struct otlp_settings *sig, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->protocol = PICK(has_protocol, protocol, OTLP_PROTOCOL_HTTP_PROTOBUF);
	if (sig->has_endpoint && t->protocol == OTLP_PROTOCOL_GRPC)
		url_strip(t->url, sizeof(t->url), sig->endpoint);
	else if (sig->has_endpoint)
		snprintf(t->url, sizeof(t->url), "%s", sig->endpoint);
	else if (t->protocol == OTLP_PROTOCOL_GRPC)
		url_strip(t->url, sizeof(t->url),
			  gen->has_endpoint ? gen->endpoint : CONFIG_DEFAULT_GRPC_ENDPOINT);
	else
		url_join(t->url, sizeof(t->url),
			 gen->has_endpoint ? gen->endpoint : CONFIG_DEFAULT_HTTP_ENDPOINT, path);
	if (sig->has_headers)
		t->headers = sig->headers;
	else if (gen->has_headers)
		t->headers = gen->headers;
	t->timeout_ms = PICK(has_timeout, timeout_ms, CONFIG_DEFAULT_TIMEOUT_MS);
	t->compression = PICK(has_compression, compression, OTLP_COMPRESSION_NONE);
	snprintf(t->certificate, sizeof(t->certificate), "%s",
		 PICK(has_certificate, certificate, ""));
	t->insecure = PICK(has_insecure, insecure, false);
}

size_t config_log_comms(const struct sonde_config *c, char buf[CONFIG_LOG_COMMS_LEN],
			const char *names[CONFIG_MAX_LOG_COMMS])
{
	const char *p = c->logs_comm;
	size_t n = 0;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (!len || len >= CONFIG_COMM_LEN || n == CONFIG_MAX_LOG_COMMS)
			return (size_t)-1;
		if (buf && names) {
			names[n] = buf + (p - c->logs_comm);
			memcpy(buf + (p - c->logs_comm), p, len);
			buf[(p - c->logs_comm) + len] = '\0';
		}
		n++;
		p += len + (p[len] == ',');
	}
	return n;
}

int config_finish(struct sonde_config *c, char *err, size_t errlen)
{
	if (c->bsp_max_export_batch_size > c->bsp_max_queue_size) {
		snprintf(err, errlen,
			 "invalid traces.batch.max_export_batch_size=%u: larger than "
			 "traces.batch.max_queue_size=%u",
			 c->bsp_max_export_batch_size, c->bsp_max_queue_size);
		return -EINVAL;
	}
	if (c->blrp_max_export_batch_size > c->blrp_max_queue_size) {
		snprintf(err, errlen,
			 "invalid logs.batch.max_export_batch_size=%u: larger than "
			 "logs.batch.max_queue_size=%u",
			 c->blrp_max_export_batch_size, c->blrp_max_queue_size);
		return -EINVAL;
	}
	if (config_log_comms(c, NULL, NULL) == (size_t)-1) {
		snprintf(err, errlen,
			 "invalid logs.comm=%s: names of at most %d characters, at most %d of them",
			 c->logs_comm, CONFIG_COMM_LEN - 1, CONFIG_MAX_LOG_COMMS);
		utf8_one_line(err); /* the value is quoted as given */
		return -EINVAL;
	}
	resolve_target(&c->traces_target, &c->otlp, &c->otlp_traces, "v1/traces");
	resolve_target(&c->metrics_target, &c->otlp, &c->otlp_metrics, "v1/metrics");
	resolve_target(&c->logs_target, &c->otlp, &c->otlp_logs, "v1/logs");

	/* An endpoint is the one sign that a collector is meant; without one, traces
	 * go to the console and metrics stay on the Prometheus endpoint. */
	if (c->traces_exporter == TRACES_EXPORTER_AUTO)
		c->traces_exporter = c->otlp.has_endpoint || c->otlp_traces.has_endpoint
					     ? TRACES_EXPORTER_OTLP
					     : TRACES_EXPORTER_CONSOLE;
	/* Application output is not printed unless asked for: with no collector,
	 * logs stay where the application sent them. */
	if (c->logs_exporter == LOGS_EXPORTER_AUTO)
		c->logs_exporter = c->otlp.has_endpoint || c->otlp_logs.has_endpoint
					   ? LOGS_EXPORTER_OTLP
					   : LOGS_EXPORTER_NONE;
	if (c->metrics_exporter == METRICS_EXPORTER_AUTO)
		c->metrics_exporter = c->otlp.has_endpoint || c->otlp_metrics.has_endpoint
					      ? METRICS_EXPORTER_OTLP
					      : METRICS_EXPORTER_NONE;
	return 0;
}
