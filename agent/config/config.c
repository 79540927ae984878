/* SPDX-License-Identifier: MIT */
/*
 * The settings table and the layers on top of it: defaults, environment, flags,
 * and the resolution of what each OTLP exporter ends up using. Value parsing is
 * in config_parse.c, the YAML file in config_yaml.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_parse.h"
#include "util/log.h"
#include "sonde_event.h"

/* Enums are stored through an int (config_parse.c). */
_Static_assert(sizeof(enum otlp_protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sampler_kind) == sizeof(int), "enum size");

#define DEFAULT_HTTP_ENDPOINT "http://localhost:4318"
#define DEFAULT_GRPC_ENDPOINT "http://localhost:4317"
#define DEFAULT_TIMEOUT_MS    10000

static const char *const protocol_names[] = { "http/protobuf", "grpc", NULL };
static const char *const compression_names[] = { "none", "gzip", NULL };
static const char *const traces_exporter_names[] = { "", "otlp", "console", "none", NULL };
static const char *const sampler_names[] = { "always_on",
					     "always_off",
					     "traceidratio",
					     "parentbased_always_on",
					     "parentbased_always_off",
					     "parentbased_traceidratio",
					     NULL };
static const char *const log_level_names[] = { "error", "warn", "info", "debug", NULL };
static const char *const k8s_mode_names[] = { "auto", "true", "false", NULL };

#define FIELD(f) \
	.offset = offsetof(struct sonde_config, f), .size = sizeof(((struct sonde_config *)0)->f)
#define HAS(f) .has_offset = offsetof(struct sonde_config, f)

/* exporter.otlp.traces.* and exporter.otlp.metrics.*: the OTLP specification's
 * per-signal variables, each falling back to the generic one. Not formatted:
 * clang-format lays several rows in one macro out as a staircase. */
/* clang-format off */
#define OTLP_SIGNAL_ROWS(layer, KEY, ENV, FLAG, SIGNAL)                                           \
	{ .key = KEY ".endpoint", .env = ENV "_ENDPOINT", .flag = FLAG "-endpoint",                \
	  .default_text = "exporter.otlp.endpoint + /v1/" SIGNAL,                                  \
	  .help = "collector URL for " SIGNAL ", used as given",                                   \
	  .type = CONFIG_T_URL, FIELD(layer.endpoint), HAS(layer.has_endpoint) },                  \
	{ .key = KEY ".protocol", .env = ENV "_PROTOCOL", .flag = FLAG "-protocol",                \
	  .default_text = "exporter.otlp.protocol",                                                \
	  .help = "OTLP protocol for " SIGNAL ": http/protobuf or grpc",                           \
	  .type = CONFIG_T_PROTOCOL, .names = protocol_names,                                      \
	  FIELD(layer.protocol), HAS(layer.has_protocol) },                                        \
	{ .key = KEY ".headers", .env = ENV "_HEADERS", .flag = FLAG "-headers",                   \
	  .default_text = "exporter.otlp.headers",                                                 \
	  .help = "request headers for " SIGNAL ", k=v,k2=v2 (values %-encoded)",                  \
	  .type = CONFIG_T_KV, FIELD(layer.headers), HAS(layer.has_headers) },                     \
	{ .key = KEY ".timeout", .env = ENV "_TIMEOUT", .flag = FLAG "-timeout",                   \
	  .default_text = "exporter.otlp.timeout",                                                 \
	  .help = "export timeout for " SIGNAL " in milliseconds",                                 \
	  .type = CONFIG_T_UINT, .min = 1, .max = 600000,                                          \
	  FIELD(layer.timeout_ms), HAS(layer.has_timeout) },                                       \
	{ .key = KEY ".compression", .env = ENV "_COMPRESSION", .flag = FLAG "-compression",       \
	  .default_text = "exporter.otlp.compression",                                             \
	  .help = "gzip or none, for " SIGNAL,                                                     \
	  .type = CONFIG_T_ENUM, .names = compression_names,                                       \
	  FIELD(layer.compression), HAS(layer.has_compression) },                                  \
	{ .key = KEY ".certificate", .env = ENV "_CERTIFICATE", .flag = FLAG "-certificate",       \
	  .default_text = "exporter.otlp.certificate",                                             \
	  .help = "CA file (PEM) to verify the " SIGNAL " collector",                              \
	  .type = CONFIG_T_STRING, .min = 1, .max = CONFIG_PATH_LEN - 1,                           \
	  FIELD(layer.certificate), HAS(layer.has_certificate) },                                  \
	{ .key = KEY ".insecure", .env = ENV "_INSECURE", .flag = FLAG "-insecure",                \
	  .default_text = "exporter.otlp.insecure",                                                \
	  .help = "TLS to the " SIGNAL " collector without verifying it",                          \
	  .type = CONFIG_T_BOOL, FIELD(layer.insecure), HAS(layer.has_insecure) }
/* clang-format on */

static const struct config_setting settings[] = {
	{ .key = "exporter.otlp.endpoint",
	  .env = "OTEL_EXPORTER_OTLP_ENDPOINT",
	  .flag = "otlp-endpoint",
	  .default_text = DEFAULT_HTTP_ENDPOINT " (grpc: :4317)",
	  .help = "collector base URL; http/protobuf appends /v1/traces and /v1/metrics",
	  .type = CONFIG_T_URL,
	  FIELD(otlp.endpoint),
	  HAS(otlp.has_endpoint) },
	{ .key = "exporter.otlp.protocol",
	  .env = "OTEL_EXPORTER_OTLP_PROTOCOL",
	  .flag = "otlp-protocol",
	  .default_text = "http/protobuf",
	  .help = "OTLP protocol: http/protobuf or grpc",
	  .type = CONFIG_T_PROTOCOL,
	  .names = protocol_names,
	  FIELD(otlp.protocol),
	  HAS(otlp.has_protocol) },
	{ .key = "exporter.otlp.headers",
	  .env = "OTEL_EXPORTER_OTLP_HEADERS",
	  .flag = "otlp-headers",
	  .default_text = "none",
	  .help = "request headers, k=v,k2=v2 (values %-encoded)",
	  .type = CONFIG_T_KV,
	  FIELD(otlp.headers),
	  HAS(otlp.has_headers) },
	{ .key = "exporter.otlp.timeout",
	  .env = "OTEL_EXPORTER_OTLP_TIMEOUT",
	  .flag = "otlp-timeout",
	  .default_text = "10000",
	  .help = "export timeout in milliseconds",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 600000,
	  FIELD(otlp.timeout_ms),
	  HAS(otlp.has_timeout) },
	{ .key = "exporter.otlp.compression",
	  .env = "OTEL_EXPORTER_OTLP_COMPRESSION",
	  .flag = "otlp-compression",
	  .default_text = "none",
	  .help = "gzip or none",
	  .type = CONFIG_T_ENUM,
	  .names = compression_names,
	  FIELD(otlp.compression),
	  HAS(otlp.has_compression) },
	{ .key = "exporter.otlp.certificate",
	  .env = "OTEL_EXPORTER_OTLP_CERTIFICATE",
	  .flag = "otlp-certificate",
	  .default_text = "system CA store",
	  .help = "CA file (PEM) to verify the collector",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = CONFIG_PATH_LEN - 1,
	  FIELD(otlp.certificate),
	  HAS(otlp.has_certificate) },
	{ .key = "exporter.otlp.insecure",
	  .env = "OTEL_EXPORTER_OTLP_INSECURE",
	  .flag = "otlp-insecure",
	  .default_text = "false",
	  .help = "TLS without verifying the collector",
	  .type = CONFIG_T_BOOL,
	  FIELD(otlp.insecure),
	  HAS(otlp.has_insecure) },
	OTLP_SIGNAL_ROWS(otlp_traces, "exporter.otlp.traces", "OTEL_EXPORTER_OTLP_TRACES",
			 "otlp-traces", "traces"),
	OTLP_SIGNAL_ROWS(otlp_metrics, "exporter.otlp.metrics", "OTEL_EXPORTER_OTLP_METRICS",
			 "otlp-metrics", "metrics"),
	{ .key = "traces.exporter",
	  .env = "OTEL_TRACES_EXPORTER",
	  .flag = "traces-exporter",
	  .default_text = "otlp with an endpoint, else console",
	  .help = "otlp, console or none",
	  .type = CONFIG_T_ENUM,
	  .names = traces_exporter_names,
	  FIELD(traces_exporter) },
	{ .key = "metrics.exporter",
	  .env = "OTEL_METRICS_EXPORTER",
	  .flag = "metrics-exporter",
	  .default_text = "otlp with an endpoint, else none",
	  .help = "otlp, prometheus or none (prometheus: the pull endpoint only)",
	  .type = CONFIG_T_METRICS_EXPORTER,
	  FIELD(metrics_exporter) },
	{ .key = "traces.sampler",
	  .env = "OTEL_TRACES_SAMPLER",
	  .flag = "sampler",
	  .default_text = "parentbased_always_on",
	  .help = "always_on, always_off, traceidratio or their parentbased_ forms",
	  .type = CONFIG_T_ENUM,
	  .names = sampler_names,
	  FIELD(sampler) },
	{ .key = "traces.sampler_arg",
	  .env = "OTEL_TRACES_SAMPLER_ARG",
	  .flag = "sampler-arg",
	  .default_text = "1.0",
	  .help = "sampling ratio for the traceidratio samplers",
	  .type = CONFIG_T_RATIO,
	  FIELD(sampler_arg) },
	{ .key = "traces.batch.max_queue_size",
	  .env = "OTEL_BSP_MAX_QUEUE_SIZE",
	  .default_text = "2048",
	  .help = "spans waiting for export; more are dropped",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 1000000,
	  FIELD(bsp_max_queue_size) },
	{ .key = "traces.batch.max_export_batch_size",
	  .env = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
	  .default_text = "512",
	  .help = "spans per export request, at most the queue size",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 1000000,
	  FIELD(bsp_max_export_batch_size) },
	{ .key = "traces.batch.schedule_delay",
	  .env = "OTEL_BSP_SCHEDULE_DELAY",
	  .default_text = "5000",
	  .help = "milliseconds before a partial batch is sent",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 600000,
	  FIELD(bsp_schedule_delay_ms) },
	{ .key = "metrics.export_interval",
	  .env = "OTEL_METRIC_EXPORT_INTERVAL",
	  .flag = "metric-export-interval",
	  .default_text = "60000",
	  .help = "milliseconds between metric exports",
	  .type = CONFIG_T_UINT,
	  .min = 100,
	  .max = 86400000,
	  FIELD(metric_export_interval_ms) },
	{ .key = "resource.attributes",
	  .env = "OTEL_RESOURCE_ATTRIBUTES",
	  .flag = "resource-attributes",
	  .default_text = "none",
	  .help = "k=v,k2=v2 added to every resource",
	  .type = CONFIG_T_KV,
	  FIELD(resource_attributes) },
	{ .key = "prometheus.port",
	  .env = "SONDE_PROMETHEUS_PORT",
	  .flag = "prometheus-port",
	  .default_text = "9464",
	  .help = "port of the /metrics endpoint, 0 = none",
	  .type = CONFIG_T_UINT,
	  .min = 0,
	  .max = 65535,
	  FIELD(prometheus_port) },
	{ .key = "prometheus.address",
	  .env = "SONDE_PROMETHEUS_ADDRESS",
	  .flag = "prometheus-address",
	  .default_text = "0.0.0.0",
	  .help = "address of the /metrics endpoint",
	  .type = CONFIG_T_ADDRESS,
	  FIELD(prometheus_address) },
	{ .key = "routes.limit",
	  .env = "SONDE_ROUTE_LIMIT",
	  .flag = "route-limit",
	  .default_text = "100",
	  .help = "distinct http.route values per service",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 100000,
	  FIELD(route_limit) },
	{ .key = "metrics.series_limit",
	  .env = "SONDE_METRIC_SERIES_LIMIT",
	  .flag = "metric-series-limit",
	  .default_text = "2000",
	  .help = "metric series in all; more are folded",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 1000000,
	  FIELD(metric_series_limit) },
	{ .key = "capture.bytes",
	  .env = "SONDE_CAPTURE_BYTES",
	  .flag = "capture-bytes",
	  .default_text = "1024",
	  .help = "payload bytes copied per syscall",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = SONDE_MAX_CAPTURE,
	  FIELD(capture_bytes) },
	{ .key = "capture.query",
	  .env = "SONDE_CAPTURE_QUERY",
	  .flag = "capture-query",
	  .default_text = "false",
	  .help = "export url.query (query strings may hold secrets)",
	  .type = CONFIG_T_BOOL,
	  FIELD(capture_query) },
	{ .key = "conns.max",
	  .env = "SONDE_MAX_CONNS",
	  .flag = "max-conns",
	  .default_text = "16384",
	  .help = "connections followed at once",
	  .type = CONFIG_T_UINT,
	  .min = 16,
	  .max = 1048576,
	  FIELD(max_conns) },
	{ .key = "select.pids",
	  .env = "SONDE_PIDS",
	  .flag = "pid",
	  .default_text = "all",
	  .help = "trace only these processes (comma list; the flag repeats)",
	  .type = CONFIG_T_PIDS,
	  FIELD(pids) },
	{ .key = "select.comm",
	  .env = "SONDE_COMM",
	  .flag = "comm",
	  .default_text = "all",
	  .help = "trace only processes with this command name",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = CONFIG_COMM_LEN - 1,
	  FIELD(comm) },
	{ .key = "select.cgroup",
	  .env = "SONDE_CGROUP",
	  .flag = "cgroup",
	  .default_text = "all",
	  .help = "trace only this cgroup (v2 path)",
	  .type = CONFIG_T_STRING,
	  .min = 0,
	  .max = CONFIG_PATH_LEN - 1,
	  FIELD(cgroup) },
	{ .key = "log.level",
	  .env = "SONDE_LOG_LEVEL",
	  .flag = "log-level",
	  .default_text = "info",
	  .help = "error, warn, info or debug",
	  .type = CONFIG_T_ENUM,
	  .names = log_level_names,
	  FIELD(log_level) },
	{ .key = "k8s.enabled",
	  .env = "SONDE_K8S",
	  .flag = "k8s",
	  .default_text = "auto (true inside a cluster or with k8s.kubeconfig)",
	  .help = "add Kubernetes pod metadata: auto, true or false",
	  .type = CONFIG_T_ENUM,
	  .names = k8s_mode_names,
	  FIELD(k8s_mode) },
	{ .key = "k8s.node_name",
	  .env = "SONDE_K8S_NODE_NAME",
	  .flag = "k8s-node-name",
	  .default_text = "this host's name",
	  .help = "the node whose pods are watched (the DaemonSet sets it from spec.nodeName)",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = 253,
	  FIELD(k8s_node_name) },
	{ .key = "k8s.kubeconfig",
	  .env = "SONDE_K8S_KUBECONFIG",
	  .flag = "kubeconfig",
	  .default_text = "in-cluster credentials",
	  .help = "kubeconfig file for the Kubernetes API, instead of the service account",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = CONFIG_PATH_LEN - 1,
	  FIELD(k8s_kubeconfig) },
	{ .key = "k8s.service_account_dir",
	  .env = "SONDE_K8S_SERVICE_ACCOUNT_DIR",
	  .flag = NULL,
	  .default_text = K8S_DEFAULT_SA_DIR,
	  .help = "where the pod's service-account token, ca.crt and namespace are",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = CONFIG_PATH_LEN - 1,
	  FIELD(k8s_service_account_dir) },
	{ .key = "k8s.max_pods",
	  .env = "SONDE_K8S_MAX_PODS",
	  .flag = NULL,
	  .default_text = "1024",
	  .help = "pods kept in the metadata cache",
	  .type = CONFIG_T_UINT,
	  .min = 16,
	  .max = 65536,
	  FIELD(k8s_max_pods) },
	{ .key = "k8s.metadata_wait",
	  .env = "SONDE_K8S_METADATA_WAIT",
	  .flag = NULL,
	  .default_text = "2000",
	  .help = "milliseconds the spans of a pod not yet known wait for its metadata",
	  .type = CONFIG_T_UINT,
	  .min = 0,
	  .max = 60000,
	  FIELD(k8s_metadata_wait_ms) },
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

const struct config_setting *config_settings(size_t *count)
{
	*count = NSETTINGS;
	return settings;
}

const struct config_setting *config_find(const char *key)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (!strcmp(settings[i].key, key))
			return &settings[i];
	}
	return NULL;
}

static const struct config_setting *find_env(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *env = settings[i].env;

		if (env && strlen(env) == len && !memcmp(env, name, len))
			return &settings[i];
	}
	return NULL;
}

static const struct config_setting *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *flag = settings[i].flag;

		if (flag && strlen(flag) == len && !memcmp(flag, name, len))
			return &settings[i];
	}
	return NULL;
}

void config_init(struct sonde_config *c)
{
	memset(c, 0, sizeof(*c));
	c->traces_exporter = TRACES_EXPORTER_AUTO;
	c->metrics_exporter = METRICS_EXPORTER_AUTO;
	c->sampler = SAMPLER_PARENTBASED_ALWAYS_ON;
	c->sampler_arg = 1.0;
	c->bsp_max_queue_size = 2048;
	c->bsp_max_export_batch_size = 512;
	c->bsp_schedule_delay_ms = 5000;
	c->metric_export_interval_ms = 60000;
	c->prometheus_port = 9464;
	snprintf(c->prometheus_address, sizeof(c->prometheus_address), "0.0.0.0");
	c->route_limit = 100;
	c->metric_series_limit = 2000;
	c->capture_bytes = SONDE_DEFAULT_CAPTURE;
	c->capture_query = false;
	c->max_conns = 16384;
	c->log_level = LOG_LEVEL_INFO;
	c->k8s_mode = K8S_AUTO;
	snprintf(c->k8s_service_account_dir, sizeof(c->k8s_service_account_dir), "%s",
		 K8S_DEFAULT_SA_DIR);
	c->k8s_max_pods = 1024;
	c->k8s_metadata_wait_ms = 2000;
}

/* A value with a newline (a YAML block scalar) must not break the one-line
 * message. */
static void one_line(char *s)
{
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r')
			*s = ' ';
	}
}

static int set_value(struct sonde_config *c, const char *key, const char *value, const char *origin,
		     bool append, char *err, size_t errlen)
{
	const struct config_setting *s = config_find(key);
	char why[CONFIG_ERR_LEN];

	if (!s) {
		snprintf(err, errlen, "unknown setting '%s'", key);
		return -EINVAL;
	}
	if (config_store(c, s, value, append, why, sizeof(why))) {
		snprintf(err, errlen, "invalid %s=%s: %s", origin ? origin : key, value, why);
		one_line(err);
		return -EINVAL;
	}
	return 0;
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

int config_load_env(struct sonde_config *c, char *const envp[], char *err, size_t errlen)
{
	for (; envp && *envp; envp++) {
		const char *eq = strchr(*envp, '=');
		const struct config_setting *s;
		int ret;

		/* OpenTelemetry: an empty value is the same as an unset variable */
		if (!eq || !eq[1])
			continue;
		s = find_env(*envp, (size_t)(eq - *envp));
		if (!s)
			continue;
		ret = config_set(c, s->key, eq + 1, s->env, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
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
			  gen->has_endpoint ? gen->endpoint : DEFAULT_GRPC_ENDPOINT);
	else
		url_join(t->url, sizeof(t->url),
			 gen->has_endpoint ? gen->endpoint : DEFAULT_HTTP_ENDPOINT, path);
	if (sig->has_headers)
		t->headers = sig->headers;
	else if (gen->has_headers)
		t->headers = gen->headers;
	t->timeout_ms = PICK(has_timeout, timeout_ms, DEFAULT_TIMEOUT_MS);
	t->compression = PICK(has_compression, compression, OTLP_COMPRESSION_NONE);
	snprintf(t->certificate, sizeof(t->certificate), "%s",
		 PICK(has_certificate, certificate, ""));
	t->insecure = PICK(has_insecure, insecure, false);
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
	resolve_target(&c->traces_target, &c->otlp, &c->otlp_traces, "v1/traces");
	resolve_target(&c->metrics_target, &c->otlp, &c->otlp_metrics, "v1/metrics");

	/* An endpoint is the one sign that a collector is meant; without one, traces
	 * go to the console and metrics stay on the Prometheus endpoint. */
	if (c->traces_exporter == TRACES_EXPORTER_AUTO)
		c->traces_exporter = c->otlp.has_endpoint || c->otlp_traces.has_endpoint
					     ? TRACES_EXPORTER_OTLP
					     : TRACES_EXPORTER_CONSOLE;
	if (c->metrics_exporter == METRICS_EXPORTER_AUTO)
		c->metrics_exporter = c->otlp.has_endpoint || c->otlp_metrics.has_endpoint
					      ? METRICS_EXPORTER_OTLP
					      : METRICS_EXPORTER_NONE;
	return 0;
}

struct flag {
	const struct config_setting *s; /* NULL for --config */
	const char *name;		/* without "--", up to '=' */
	size_t len;
	const char *value;
};

/* Reads the option at argv[*i] and its value ("--name value" or "--name=value"),
 * advancing *i past what it used. Returns 0, 1 for --help, or -EINVAL. */
static int read_flag(int argc, char **argv, int *i, struct flag *f, char *err, size_t errlen)
{
	const char *arg = argv[*i], *eq;
	bool b;

	if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
		return 1;
	if (strncmp(arg, "--", 2) || !arg[2]) {
		if (arg[0] == '-' && arg[1])
			snprintf(err, errlen, "unknown option %s", arg);
		else
			snprintf(err, errlen, "unexpected argument '%s'", arg);
		return -EINVAL;
	}
	f->name = arg + 2;
	eq = strchr(f->name, '=');
	f->len = eq ? (size_t)(eq - f->name) : strlen(f->name);
	f->s = NULL;
	if (f->len != strlen("config") || strncmp(f->name, "config", f->len)) {
		f->s = find_flag(f->name, f->len);
		if (!f->s) {
			snprintf(err, errlen, "unknown option --%.*s", (int)f->len, f->name);
			return -EINVAL;
		}
	}
	(*i)++;
	if (eq) {
		f->value = eq + 1;
	} else if (f->s && f->s->type == CONFIG_T_BOOL) {
		/* "--capture-query" alone means true; "--capture-query false" works too */
		f->value = "true";
		if (*i < argc && !config_parse_bool(argv[*i], &b))
			f->value = argv[(*i)++];
	} else if (*i < argc && strncmp(argv[*i], "--", 2)) {
		f->value = argv[(*i)++];
	} else {
		snprintf(err, errlen, "option --%.*s needs a value", (int)f->len, f->name);
		return -EINVAL;
	}
	return 0;
}

static const char *env_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);

	for (; envp && *envp; envp++) {
		if (!strncmp(*envp, name, len) && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}

int config_load_all(struct sonde_config *c, int argc, char **argv, char *const envp[], char *err,
		    size_t errlen)
{
	const char *file = NULL;
	char origin[CONFIG_KEY_LEN];
	bool pids_given = false;
	struct flag f;
	int ret;

	config_init(c);
	/* First pass: --help wins whatever else is there, and the file layer goes
	 * below the environment, so --config must be known before anything is set. */
	for (int i = 1; i < argc;) {
		ret = read_flag(argc, argv, &i, &f, err, errlen);
		if (ret)
			return ret;
		if (!f.s)
			file = f.value;
	}
	if (!file) {
		file = env_get(envp, "SONDE_CONFIG");
		if (file && !*file)
			file = NULL;
	}
	if (file) {
		ret = config_load_yaml_file(c, file, err, errlen);
		if (ret)
			return ret;
	}
	ret = config_load_env(c, envp, err, errlen);
	if (ret)
		return ret;
	for (int i = 1; i < argc;) {
		ret = read_flag(argc, argv, &i, &f, err, errlen);
		if (ret)
			return ret;
		if (!f.s)
			continue;
		snprintf(origin, sizeof(origin), "--%s", f.s->flag);
		/* the first --pid replaces the lower layers, the next ones add to it */
		ret = set_value(c, f.s->key, f.value, origin,
				f.s->type == CONFIG_T_PIDS && pids_given, err, errlen);
		if (ret)
			return ret;
		if (f.s->type == CONFIG_T_PIDS)
			pids_given = true;
	}
	return config_finish(c, err, errlen);
}
