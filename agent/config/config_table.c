/* SPDX-License-Identifier: MIT */
/*
 * The settings tables, `sonde run`'s and `sonde trace`'s, and the defaults.
 * Nothing here reads a value: config_parse.c does.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "spans/span.h"
#include "util/log.h"
#include "sonde_event.h"

/* Enums are stored through an int (config_parse.c). */
_Static_assert(sizeof(enum otlp_protocol) == sizeof(int), "enum size");
_Static_assert(sizeof(enum sampler_kind) == sizeof(int), "enum size");
_Static_assert(sizeof(enum trace_output) == sizeof(int), "enum size");
_Static_assert(sizeof(enum node_context_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum logs_exporter) == sizeof(int), "enum size");
_Static_assert((int)LOGS_EXPORTER_CONSOLE == (int)TRACES_EXPORTER_CONSOLE &&
		       (int)LOGS_EXPORTER_NONE == (int)TRACES_EXPORTER_NONE,
	       "logs.exporter shares the traces' spellings");

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
static const char *const output_names[] = { "text", "json", NULL };
/* In the order of enum db_query_mode (protocols/protocol.h). */
static const char *const db_query_names[] = { "sanitized", "raw", "none", NULL };
/* In the order of enum node_context_mode. */
static const char *const node_context_names[] = { "inject", "off", NULL };

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

/* The settings `sonde run` and `sonde trace` share, one definition each; each
 * command's table adds how its --help shows them. Not formatted, as above. */
/* clang-format off */
#define CAPTURE_BYTES_ROW                                                                          \
	.key = "capture.bytes", .env = "SONDE_CAPTURE_BYTES", .flag = "capture-bytes",             \
	.default_text = "1024", .help = "payload bytes copied per syscall",                        \
	.type = CONFIG_T_UINT, .min = 1, .max = SONDE_MAX_CAPTURE, FIELD(capture_bytes)
#define CAPTURE_QUERY_ROW                                                                          \
	.key = "capture.query", .env = "SONDE_CAPTURE_QUERY", .flag = "capture-query",             \
	.default_text = "false",                                                                   \
	.help = "show and export url.query (query strings may hold secrets)",                      \
	.type = CONFIG_T_BOOL, FIELD(capture_query)
#define DB_QUERY_ROW                                                                               \
	.key = "db.query", .env = "SONDE_DB_QUERY", .flag = "db-query",                            \
	.default_text = "sanitized",                                                               \
	.help = "db.query.text: sanitized (literals become ?), raw, or none",                      \
	.type = CONFIG_T_ENUM, .names = db_query_names, FIELD(db_query)
#define DB_QUERY_MAX_ROW                                                                           \
	.key = "db.query_max_bytes", .env = "SONDE_DB_QUERY_MAX_BYTES",                            \
	.flag = "db-query-max-bytes", .default_text = "2048",                                      \
	.help = "db.query.text longer than this is cut (at a character) and counted",              \
	.type = CONFIG_T_UINT, .min = 16, .max = SPAN_DB_QUERY_LEN - 1, FIELD(db_query_max)
#define NODE_CONTEXT_ROW                                                                           \
	.key = "context.nodejs", .env = "SONDE_CONTEXT_NODEJS", .flag = "context-nodejs",          \
	.default_text = "inject",                                                                  \
	.help = "Node.js request context: inject (a script, through the inspector) or off",        \
	.type = CONFIG_T_ENUM, .names = node_context_names, FIELD(node_context)
#define MAX_CONNS_ROW                                                                              \
	.key = "conns.max", .env = "SONDE_MAX_CONNS", .flag = "max-conns",                         \
	.default_text = "16384", .help = "connections followed at once",                           \
	.type = CONFIG_T_UINT, .min = 16, .max = 1048576, FIELD(max_conns)
#define SELECT_PIDS_ROW                                                                            \
	.key = "select.pids", .env = "SONDE_PIDS", .flag = "pid", .default_text = "all",           \
	.help = "trace only these processes (comma list; the flag repeats)",                       \
	.type = CONFIG_T_PIDS, FIELD(pids)
#define SELECT_COMM_ROW                                                                            \
	.key = "select.comm", .env = "SONDE_COMM", .flag = "comm", .default_text = "all",          \
	.help = "trace only processes with this command name",                                     \
	.type = CONFIG_T_STRING, .min = 1, .max = CONFIG_COMM_LEN - 1, FIELD(comm)
#define SELECT_CGROUP_ROW                                                                          \
	.key = "select.cgroup", .env = "SONDE_CGROUP", .flag = "cgroup", .default_text = "all",    \
	.help = "trace only this cgroup (v2 path)",                                                \
	.type = CONFIG_T_STRING, .min = 0, .max = CONFIG_PATH_LEN - 1, FIELD(cgroup)
/* Without one, `sonde run` uses the pod's service account and `sonde trace`
 * looks further (k8s/trace_pod.c): each table says which. */
#define KUBECONFIG_ROW                                                                             \
	.key = "k8s.kubeconfig", .env = "SONDE_K8S_KUBECONFIG", .flag = "kubeconfig",              \
	.help = "kubeconfig file for the Kubernetes API, instead of the service account",          \
	.type = CONFIG_T_STRING, .min = 1, .max = CONFIG_PATH_LEN - 1, FIELD(k8s_kubeconfig)
#define LOGS_ENABLED_ROW                                                                           \
	.key = "logs.enabled", .env = "SONDE_LOGS", .flag = "logs",                                \
	.help = "collect what traced processes write to stdout and stderr as log records",         \
	.type = CONFIG_T_BOOL, FIELD(logs_enabled)
#define LOGS_COMM_ROW                                                                              \
	.key = "logs.comm", .env = "SONDE_LOGS_COMM", .flag = "logs-comm", .default_text = "all",  \
	.help = "collect only the logs of processes with these names (comma list)",                \
	.type = CONFIG_T_STRING, .min = 1, .max = CONFIG_LOG_COMMS_LEN - 1, FIELD(logs_comm)
#define LOGS_MAX_LINE_ROW                                                                          \
	.key = "logs.max_line_bytes", .env = "SONDE_LOGS_MAX_LINE_BYTES",                          \
	.flag = "logs-max-line-bytes", .default_text = "8192",                                     \
	.help = "a log record longer than this is cut and counted",                                \
	.type = CONFIG_T_UINT, .min = 256, .max = 65536, FIELD(logs_max_line)
#define LOGS_RATE_ROW                                                                              \
	.key = "logs.rate_limit", .env = "SONDE_LOGS_RATE_LIMIT", .flag = "logs-rate-limit",       \
	.default_text = "1000",                                                                    \
	.help = "log records a second per process, more are dropped and counted (0 = no limit)",   \
	.type = CONFIG_T_UINT, .min = 0, .max = 1000000, FIELD(logs_rate_limit)
/* clang-format on */

static const struct config_setting settings[] = {
	{ .key = "exporter.otlp.endpoint",
	  .env = "OTEL_EXPORTER_OTLP_ENDPOINT",
	  .flag = "otlp-endpoint",
	  .default_text = CONFIG_DEFAULT_HTTP_ENDPOINT " (grpc: :4317)",
	  .help = "collector base URL; http/protobuf appends /v1/traces, /v1/metrics and /v1/logs",
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
	OTLP_SIGNAL_ROWS(otlp_logs, "exporter.otlp.logs", "OTEL_EXPORTER_OTLP_LOGS", "otlp-logs",
			 "logs"),
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
	{ .key = "logs.exporter",
	  .env = "OTEL_LOGS_EXPORTER",
	  .flag = "logs-exporter",
	  .default_text = "otlp with an endpoint, else none",
	  .help = "otlp, console or none",
	  .type = CONFIG_T_ENUM,
	  .names = traces_exporter_names,
	  FIELD(logs_exporter) },
	{ LOGS_ENABLED_ROW, .default_text = "true" },
	{ LOGS_COMM_ROW },
	{ LOGS_MAX_LINE_ROW },
	{ LOGS_RATE_ROW },
	{ .key = "logs.batch.max_queue_size",
	  .env = "OTEL_BLRP_MAX_QUEUE_SIZE",
	  .default_text = "2048",
	  .help = "log records waiting for export; more are dropped",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 1000000,
	  FIELD(blrp_max_queue_size) },
	{ .key = "logs.batch.max_export_batch_size",
	  .env = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
	  .default_text = "512",
	  .help = "log records per export request, at most the queue size",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 1000000,
	  FIELD(blrp_max_export_batch_size) },
	{ .key = "logs.batch.schedule_delay",
	  .env = "OTEL_BLRP_SCHEDULE_DELAY",
	  .default_text = "1000",
	  .help = "milliseconds before a partial batch of log records is sent",
	  .type = CONFIG_T_UINT,
	  .min = 1,
	  .max = 600000,
	  FIELD(blrp_schedule_delay_ms) },
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
	{ CAPTURE_BYTES_ROW },
	{ CAPTURE_QUERY_ROW },
	{ DB_QUERY_ROW },
	{ DB_QUERY_MAX_ROW },
	{ NODE_CONTEXT_ROW },
	{ MAX_CONNS_ROW },
	{ SELECT_PIDS_ROW },
	{ SELECT_COMM_ROW },
	{ SELECT_CGROUP_ROW },
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
	{ KUBECONFIG_ROW, .default_text = "in-cluster credentials" },
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

/* `sonde trace`: flags only, in the order its --help lists them. */
static const struct config_setting trace_settings[] = {
	{ SELECT_PIDS_ROW, .short_flag = 'p', .arg = "N" },
	{ SELECT_COMM_ROW, .short_flag = 'c', .arg = "NAME" },
	{ SELECT_CGROUP_ROW, .short_flag = 'g', .arg = "PATH" },
	{ .key = "trace.pod",
	  .flag = "pod",
	  .short_flag = 'P',
	  .arg = "NS/NAME",
	  .help = "trace this Kubernetes pod (it must run on this node)",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = CONFIG_PATH_LEN - 1,
	  FIELD(trace.pod) },
	{ .key = "trace.container",
	  .flag = "container",
	  .arg = "C",
	  .help = "with --pod: only this container of the pod",
	  .type = CONFIG_T_STRING,
	  .min = 1,
	  .max = CONFIG_PATH_LEN - 1,
	  FIELD(trace.container) },
	{ KUBECONFIG_ROW, .arg = "FILE",
	  .default_text = "$KUBECONFIG, the pod's service account, ~/.kube/config" },
	{ .key = "trace.duration",
	  .flag = "duration",
	  .short_flag = 'd',
	  .arg = "TIME",
	  .help = "stop after TIME (30s, 500ms, 2m)",
	  .type = CONFIG_T_DURATION,
	  FIELD(trace.duration_ns) },
	{ .key = "trace.output",
	  .flag = "output",
	  .short_flag = 'o',
	  .arg = "FORMAT",
	  .default_text = "text",
	  .help = "text, or json: one object per span per line",
	  .type = CONFIG_T_ENUM,
	  .names = output_names,
	  FIELD(trace.output) },
	{ CAPTURE_BYTES_ROW, .arg = "N" },
	{ CAPTURE_QUERY_ROW },
	{ DB_QUERY_ROW, .arg = "MODE" },
	{ DB_QUERY_MAX_ROW, .arg = "N" },
	{ MAX_CONNS_ROW, .arg = "N" },
	{ NODE_CONTEXT_ROW, .arg = "MODE" },
	{ .key = "trace.tree",
	  .flag = "tree",
	  .help = "print each trace as a tree of its spans once its root ends (text only)",
	  .type = CONFIG_T_BOOL,
	  FIELD(trace.tree) },
	{ LOGS_ENABLED_ROW, .default_text = "false" },
	{ LOGS_COMM_ROW, .arg = "NAMES" },
	{ LOGS_MAX_LINE_ROW, .arg = "N" },
	{ LOGS_RATE_ROW, .arg = "N" },
	{ .key = "trace.stats",
	  .flag = "stats",
	  .help = "print the kernel and agent counters on exit",
	  .type = CONFIG_T_BOOL,
	  FIELD(trace.stats) },
	{ .key = "trace.no_summary",
	  .flag = "no-summary",
	  .help = "no summary on exit",
	  .type = CONFIG_T_BOOL,
	  FIELD(trace.no_summary) },
	{ .key = "trace.no_tls",
	  .flag = "no-tls",
	  .help = "do not hook TLS libraries (HTTPS is then not seen)",
	  .type = CONFIG_T_BOOL,
	  FIELD(trace.no_tls) },
	{ .key = "trace.verbose",
	  .flag = "verbose",
	  .short_flag = 'v',
	  .help = "libbpf messages (verifier log) and debug logs",
	  .type = CONFIG_T_BOOL,
	  FIELD(trace.verbose) },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const struct config_setting *config_settings(size_t *count)
{
	*count = ARRAY_LEN(settings);
	return settings;
}

const struct config_setting *config_trace_settings(size_t *count)
{
	*count = ARRAY_LEN(trace_settings);
	return trace_settings;
}

static const struct config_setting *table_of(enum config_command cmd, size_t *count)
{
	return cmd == CONFIG_TRACE ? config_trace_settings(count) : config_settings(count);
}

const struct config_setting *config_find(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		if (!strcmp(settings[i].key, key))
			return &settings[i];
	}
	return NULL;
}

/* name[0..len) is the whole of want. */
static bool same(const char *want, const char *name, size_t len)
{
	return want && strlen(want) == len && !memcmp(want, name, len);
}

const struct config_setting *config_find_env(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(settings); i++) {
		if (same(settings[i].env, name, len))
			return &settings[i];
	}
	return NULL;
}

const struct config_setting *config_find_flag(enum config_command cmd, const char *name, size_t len)
{
	size_t n;
	const struct config_setting *s = table_of(cmd, &n);

	for (size_t i = 0; i < n; i++) {
		if (same(s[i].flag, name, len))
			return &s[i];
	}
	return NULL;
}

const struct config_setting *config_find_short(enum config_command cmd, char letter)
{
	size_t n;
	const struct config_setting *s = table_of(cmd, &n);

	for (size_t i = 0; letter && i < n; i++) {
		if (s[i].short_flag == letter)
			return &s[i];
	}
	return NULL;
}

void config_init(struct sonde_config *c)
{
	memset(c, 0, sizeof(*c));
	c->traces_exporter = TRACES_EXPORTER_AUTO;
	c->metrics_exporter = METRICS_EXPORTER_AUTO;
	c->logs_exporter = LOGS_EXPORTER_AUTO;
	c->logs_enabled = true;
	c->logs_max_line = 8192;
	c->logs_rate_limit = 1000;
	c->blrp_max_queue_size = 2048;
	c->blrp_max_export_batch_size = 512;
	c->blrp_schedule_delay_ms = 1000;
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
	c->db_query = 0; /* DB_QUERY_SANITIZED */
	c->db_query_max = SPAN_DB_QUERY_LEN - 1;
	c->max_conns = 16384;
	c->node_context = NODE_CONTEXT_INJECT;
	c->log_level = LOG_LEVEL_INFO;
	c->k8s_mode = K8S_AUTO;
	snprintf(c->k8s_service_account_dir, sizeof(c->k8s_service_account_dir), "%s",
		 K8S_DEFAULT_SA_DIR);
	c->k8s_max_pods = 1024;
	c->k8s_metadata_wait_ms = 2000;
}
