/* SPDX-License-Identifier: MIT */
/*
 * sonde's settings. `sonde run`: OpenTelemetry variables first (OTEL_*),
 * SONDE_* for what OpenTelemetry has no name for, a YAML file, and flags;
 * precedence: flag > environment > file > default. `sonde trace`: flags only.
 *
 * Every setting has one dotted key (its path in the YAML file), at most one
 * environment variable and at most one flag; the tables behind
 * config_settings() (`sonde run`) and config_trace_settings() (`sonde
 * trace`) are the single list of them, a setting both commands take defined
 * once for both. Pure code, in files that call each other one way only:
 *   config_table.c   the tables and the defaults
 *   config_parse.c   the text of one value into its field, and back
 *   config.c         a value into the settings by key; config_finish()
 *   config_flags.c   argv, for either command
 *   config_yaml.c    a YAML document
 * The file and the environment are read in config_load.c (config/config_load.h).
 */
#ifndef SONDE_CONFIG_H
#define SONDE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_URL_LEN		     512
#define CONFIG_PATH_LEN		     256
#define CONFIG_KEY_LEN		     128
#define CONFIG_VALUE_LEN	     256
#define CONFIG_MAX_KV		     32
#define CONFIG_MAX_PIDS		     64
#define CONFIG_COMM_LEN		     16
#define CONFIG_ERR_LEN		     512

#define K8S_DEFAULT_SA_DIR	     "/var/run/secrets/kubernetes.io/serviceaccount"

#define CONFIG_DEFAULT_HTTP_ENDPOINT "http://localhost:4318"
#define CONFIG_DEFAULT_GRPC_ENDPOINT "http://localhost:4317"
#define CONFIG_DEFAULT_TIMEOUT_MS    10000

enum otlp_protocol {
	OTLP_PROTOCOL_HTTP_PROTOBUF = 0,
	OTLP_PROTOCOL_GRPC,
};

enum otlp_compression {
	OTLP_COMPRESSION_NONE = 0,
	OTLP_COMPRESSION_GZIP,
};

enum traces_exporter {
	TRACES_EXPORTER_AUTO = 0, /* otlp when an endpoint is configured, else console */
	TRACES_EXPORTER_OTLP,
	TRACES_EXPORTER_CONSOLE,
	TRACES_EXPORTER_NONE,
};

enum metrics_exporter {
	METRICS_EXPORTER_AUTO = 0, /* otlp when an endpoint is configured, else none */
	METRICS_EXPORTER_OTLP,
	METRICS_EXPORTER_NONE, /* also "prometheus": the pull endpoint only */
};

/* Same values as traces: logs go where OTEL_LOGS_EXPORTER says. */
enum logs_exporter {
	LOGS_EXPORTER_AUTO = 0, /* otlp when an endpoint is configured, else none */
	LOGS_EXPORTER_OTLP,
	LOGS_EXPORTER_CONSOLE,
	LOGS_EXPORTER_NONE,
};

#define CONFIG_LOG_COMMS_LEN 256
#define CONFIG_MAX_LOG_COMMS 64

enum k8s_mode {
	K8S_AUTO = 0, /* on inside a cluster (KUBERNETES_SERVICE_HOST) or with a kubeconfig */
	K8S_ON,
	K8S_OFF,
};

/* context.nodejs: whether the Node.js request-context script is put into the
 * traced Node.js processes (nodejs/node_inject.h). */
enum node_context_mode {
	NODE_CONTEXT_INJECT = 0,
	NODE_CONTEXT_OFF,
};

enum sampler_kind {
	SAMPLER_ALWAYS_ON = 0,
	SAMPLER_ALWAYS_OFF,
	SAMPLER_TRACEIDRATIO,
	SAMPLER_PARENTBASED_ALWAYS_ON,
	SAMPLER_PARENTBASED_ALWAYS_OFF,
	SAMPLER_PARENTBASED_TRACEIDRATIO,
};

struct config_kv {
	char key[CONFIG_KEY_LEN];
	char value[CONFIG_VALUE_LEN];
};

struct config_kv_list {
	struct config_kv items[CONFIG_MAX_KV];
	int n;
};

/* One layer of OTLP exporter settings as given (generic, or per signal). A field
 * counts only when its has_ flag is set. */
struct otlp_settings {
	char endpoint[CONFIG_URL_LEN];
	enum otlp_protocol protocol;
	struct config_kv_list headers;
	uint32_t timeout_ms;
	enum otlp_compression compression;
	char certificate[CONFIG_PATH_LEN];
	bool insecure;
	bool has_endpoint, has_protocol, has_headers, has_timeout, has_compression, has_certificate,
		has_insecure;
};

/* What one signal's exporter uses, resolved by config_finish(). */
struct otlp_target {
	/* http/protobuf: the full URL to POST to (…/v1/traces or …/v1/metrics).
	 * grpc: scheme://host:port (the method path is added by the transport). */
	char url[CONFIG_URL_LEN];
	enum otlp_protocol protocol;
	struct config_kv_list headers;
	uint32_t timeout_ms;
	enum otlp_compression compression;
	char certificate[CONFIG_PATH_LEN]; /* CA file for TLS, "" = system store */
	bool insecure;			   /* TLS without verifying the server */
};

enum trace_output {
	TRACE_OUTPUT_TEXT = 0,
	TRACE_OUTPUT_JSON,
};

/* What only `sonde trace` has flags for. */
struct trace_settings {
	char pod[CONFIG_PATH_LEN];	 /* NAMESPACE/NAME, "" = none */
	char container[CONFIG_PATH_LEN]; /* with pod: only this container */
	uint64_t duration_ns;		 /* 0 = until stopped */
	int output;			 /* enum trace_output */
	bool stats;			 /* every counter on exit */
	bool tree;			 /* each trace as a tree of its spans */
	bool no_summary;
	bool no_tls; /* no TLS uprobes */
	bool verbose;
};

struct sonde_config {
	/* OTLP, as given */
	struct otlp_settings otlp;	   /* OTEL_EXPORTER_OTLP_* */
	struct otlp_settings otlp_traces;  /* OTEL_EXPORTER_OTLP_TRACES_* */
	struct otlp_settings otlp_metrics; /* OTEL_EXPORTER_OTLP_METRICS_* */
	struct otlp_settings otlp_logs;	   /* OTEL_EXPORTER_OTLP_LOGS_* */

	enum traces_exporter traces_exporter;
	enum metrics_exporter metrics_exporter;
	enum logs_exporter logs_exporter;

	/* Logs: what traced processes write to stdout and stderr */
	bool logs_enabled;
	char logs_comm[CONFIG_LOG_COMMS_LEN]; /* comma list of process names; "" = all traced */
	uint32_t logs_max_line;		      /* bytes per record */
	uint32_t logs_rate_limit;	      /* records a second per process, 0 = none */
	uint32_t blrp_max_queue_size;	      /* log records waiting for export */
	uint32_t blrp_max_export_batch_size;
	uint32_t blrp_schedule_delay_ms;

	enum sampler_kind sampler;
	double sampler_arg; /* ratio in [0, 1] for the traceidratio samplers */

	uint32_t bsp_max_queue_size;	    /* spans waiting for export */
	uint32_t bsp_max_export_batch_size; /* spans per export request */
	uint32_t bsp_schedule_delay_ms;	    /* longest wait before a partial batch goes */
	uint32_t metric_export_interval_ms;

	struct config_kv_list resource_attributes; /* added to every resource */

	uint16_t prometheus_port; /* 0 = no Prometheus endpoint */
	char prometheus_address[64];

	uint32_t route_limit;	      /* distinct http.route values per service */
	uint32_t metric_series_limit; /* metric series in all */
	uint32_t capture_bytes;
	bool capture_query;    /* export url.query (off: query strings never leave the node) */
	int db_query;	       /* enum db_query_mode (protocols/protocol.h): db.query.text */
	uint32_t db_query_max; /* bytes of db.query.text kept */
	uint32_t max_conns;
	enum node_context_mode node_context; /* context.nodejs */

	uint32_t pids[CONFIG_MAX_PIDS];
	int npids;
	char comm[CONFIG_COMM_LEN];
	char cgroup[CONFIG_PATH_LEN];

	int log_level; /* enum log_level */

	struct trace_settings trace; /* `sonde trace` only */

	/* Kubernetes pod metadata */
	enum k8s_mode k8s_mode;
	char k8s_node_name[254]; /* "" = this host's name */
	char k8s_kubeconfig[CONFIG_PATH_LEN];
	char k8s_service_account_dir[CONFIG_PATH_LEN];
	uint32_t k8s_max_pods;
	uint32_t k8s_metadata_wait_ms; /* spans of a pod not yet known wait this long */

	/* Resolved by config_finish() */
	struct otlp_target traces_target;
	struct otlp_target metrics_target;
	struct otlp_target logs_target;
};

/* logs.comm split into names (at most CONFIG_MAX_LOG_COMMS of up to
 * CONFIG_COMM_LEN - 1 characters each, as config_finish() checked): fills
 * names (pointers into buf, a copy) and returns how many. */
size_t config_log_comms(const struct sonde_config *c, char buf[CONFIG_LOG_COMMS_LEN],
			const char *names[CONFIG_MAX_LOG_COMMS]);

/* How config_set() reads a setting's text (config_parse.c). */
enum config_type {
	CONFIG_T_STRING,	   /* min..max characters */
	CONFIG_T_URL,		   /* http:// or https:// URL; "host:port" gets http:// */
	CONFIG_T_UINT,		   /* integer in min..max, stored in `size` bytes (2 or 4) */
	CONFIG_T_BOOL,		   /* a flag given without a value means true */
	CONFIG_T_RATIO,		   /* number in [0, 1] */
	CONFIG_T_ENUM,		   /* one of names[], stored as its index */
	CONFIG_T_PROTOCOL,	   /* enum otlp_protocol */
	CONFIG_T_METRICS_EXPORTER, /* comma list as OpenTelemetry allows; otlp wins */
	CONFIG_T_KV,		   /* "k=v,k2=v2", or a mapping in YAML */
	CONFIG_T_PIDS,		   /* "1,2", or a sequence in YAML; a repeated flag appends */
	CONFIG_T_ADDRESS,	   /* IPv4 or IPv6 literal */
	CONFIG_T_DURATION,	   /* "30s", "500ms", "2m", "1h" or seconds, stored in ns */
};

/* The commands that read settings. */
enum config_command {
	CONFIG_RUN = 0, /* the file, the environment and flags */
	CONFIG_TRACE,	/* flags; a word that is no option starts COMMAND */
};

/* One row of the settings table. */
struct config_setting {
	const char *key;	  /* YAML path, e.g. "exporter.otlp.endpoint" */
	const char *env;	  /* e.g. "OTEL_EXPORTER_OTLP_ENDPOINT", or NULL */
	const char *flag;	  /* long option without "--", e.g. "otlp-endpoint", or NULL */
	const char *default_text; /* for --help and the README */
	const char *help;
	char short_flag; /* `sonde trace`'s one-letter form ('p' for -p), or 0 */
	const char *arg; /* what the value is, for --help ("N", "PATH"), or NULL */

	/* Where and how config_set() stores it */
	enum config_type type;
	size_t offset, size;	  /* the field in struct sonde_config */
	size_t has_offset;	  /* its has_ flag in an otlp_settings layer, 0 = none */
	long long min, max;	  /* range of a number, or length of a string */
	const char *const *names; /* an enum's spellings by value, NULL-terminated;
				   * "" = a value that cannot be written (auto) */
};

/* `sonde run`'s settings (the file's keys, the environment, its flags), for
 * --help and documentation. */
const struct config_setting *config_settings(size_t *count);

/* `sonde trace`'s flags: some of `sonde run`'s settings (the selection, capture
 * bytes, connections, kubeconfig) and its own. */
const struct config_setting *config_trace_settings(size_t *count);

/* The `sonde run` row for a dotted key, or NULL. */
const struct config_setting *config_find(const char *key);

/* The row of a command's flag: by long name (name[0..len)), or by its letter. */
const struct config_setting *config_find_flag(enum config_command cmd, const char *name,
					      size_t len);
const struct config_setting *config_find_short(enum config_command cmd, char letter);

/* The `sonde run` row of an environment variable (name[0..len)), or NULL. */
const struct config_setting *config_find_env(const char *name, size_t len);

/* Defaults. */
void config_init(struct sonde_config *c);

/*
 * Sets one setting by its dotted key. `origin` names where the value came from
 * and is what error messages show ("OTEL_TRACES_SAMPLER_ARG", "--sampler-arg",
 * "traces.sampler_arg"; the YAML loader puts "sonde.yaml:12: " in front of the
 * message). Returns 0, or -EINVAL with a one-line reason in err
 * ("invalid OTEL_TRACES_SAMPLER_ARG=2: not a number between 0 and 1").
 */
int config_set(struct sonde_config *c, const char *key, const char *value, const char *origin,
	       char *err, size_t errlen);

/* Like config_set(), but a list (select.pids, headers, resource attributes)
 * grows instead of being replaced: repeated --pid flags, YAML sequences and maps. */
int config_add(struct sonde_config *c, const char *key, const char *value, const char *origin,
	       char *err, size_t errlen);

/* config_set() or config_add() (append) for a row found otherwise (a flag). */
int config_apply(struct sonde_config *c, const struct config_setting *s, const char *value,
		 const char *origin, bool append, char *err, size_t errlen);

/* The setting's current value as text, as it would be written in the YAML
 * file ("http/protobuf", "a=b,c=d", "1,2"). For `sonde run --check-config`. */
void config_format(const struct sonde_config *c, const struct config_setting *s, char *out,
		   size_t outlen);

/* Applies a YAML document (nested maps whose paths are the keys). `name` is the
 * file name used in messages. Unknown keys are errors. */
int config_load_yaml_text(struct sonde_config *c, const char *text, size_t len, const char *name,
			  char *err, size_t errlen);

/* Resolves defaults that depend on other settings (endpoints, exporters) and
 * checks settings against each other. */
int config_finish(struct sonde_config *c, char *err, size_t errlen);

/*
 * The flags of a command in argv (argv[0], the command, is skipped):
 * "--name value", "--name=value", and for `sonde trace` "-x value", "-xvalue"
 * and "-vx value". A flag without a value is true for a setting that is true
 * or false. `sonde run` also takes --config FILE, which only
 * config_scan_flags() reports.
 */

/* Finds --config FILE (*file, NULL without one) and --help, setting nothing.
 * Returns 0, 1 for --help, or -EINVAL with err set. */
int config_scan_flags(enum config_command cmd, int argc, char **argv, const char **file, char *err,
		      size_t errlen);

/* Applies every flag over what c holds: the first --pid replaces the lower
 * layers' list, the next ones add to it. *command (may be NULL) is set to the
 * index of COMMAND (`sonde trace`: the first word that is no option, or what
 * follows "--"), argc without one. Returns 0, 1 for --help, or -EINVAL. */
int config_apply_flags(struct sonde_config *c, enum config_command cmd, int argc, char **argv,
		       int *command, char *err, size_t errlen);

/* `sonde trace`: defaults, then its flags, checked against each other.
 * *command as config_apply_flags() sets it. Returns 0, 1 for --help, or
 * -EINVAL with a one-line reason in err. */
int config_load_trace(struct sonde_config *c, int argc, char **argv, int *command, char *err,
		      size_t errlen);

/* "k1=v1,k2=v2" with %XX escapes in values (the OTEL_*_HEADERS and
 * OTEL_RESOURCE_ATTRIBUTES format). Appends to list. */
int config_parse_kv_list(struct config_kv_list *list, const char *text, char *why, size_t whylen);

#endif /* SONDE_CONFIG_H */
