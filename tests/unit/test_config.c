/* SPDX-License-Identifier: MIT */
/* `sonde run` configuration: defaults, layers, OTLP endpoint resolution, messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_load.h"

#define NONE ((const char *[]){ NULL })

/* config_load_all() with "run" as argv[0]; args and env are NULL-terminated. */
static int load(struct sonde_config *c, const char *const *args, const char *const *env, char *err)
{
	char *argv[CONFIG_MAX_PIDS + 8] = { "run" };
	int argc = 1;

	while (args[argc - 1] && argc < (int)(sizeof(argv) / sizeof(argv[0]))) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	err[0] = '\0';
	return config_load_all(c, argc, argv, (char *const *)env, err, CONFIG_ERR_LEN);
}

static void load_ok(struct sonde_config *c, const char *const *args, const char *const *env)
{
	char err[CONFIG_ERR_LEN];

	if (load(c, args, env, err))
		fail_msg("unexpected error: %s", err);
}

static void assert_load_error(const char *const *args, const char *const *env, const char *want)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];

	assert_true(load(&c, args, env, err) < 0);
	assert_string_equal(err, want);
}

/* A config file on disk, for the --config and SONDE_CONFIG paths. */
static char *write_file(const char *text)
{
	char *path = strdup("/tmp/sonde-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	struct sonde_config c;

	(void)state;
	load_ok(&c, NONE, NONE);
	/* nothing says a collector is there: traces on the console, metrics pulled */
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_CONSOLE);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_NONE);
	assert_int_equal(c.prometheus_port, 9464);
	assert_string_equal(c.prometheus_address, "0.0.0.0");
	assert_string_equal(c.traces_target.url, "http://localhost:4318/v1/traces");
	assert_string_equal(c.metrics_target.url, "http://localhost:4318/v1/metrics");
	assert_int_equal(c.traces_target.protocol, OTLP_PROTOCOL_HTTP_PROTOBUF);
	assert_int_equal(c.traces_target.timeout_ms, 10000);
	assert_int_equal(c.traces_target.compression, OTLP_COMPRESSION_NONE);
	assert_int_equal(c.traces_target.headers.n, 0);
	assert_string_equal(c.traces_target.certificate, "");
	assert_false(c.traces_target.insecure);
	assert_int_equal(c.sampler, SAMPLER_PARENTBASED_ALWAYS_ON);
	assert_true(c.sampler_arg == 1.0);
	assert_int_equal(c.bsp_max_queue_size, 2048);
	assert_int_equal(c.bsp_max_export_batch_size, 512);
	assert_int_equal(c.bsp_schedule_delay_ms, 5000);
	assert_int_equal(c.metric_export_interval_ms, 60000);
	assert_int_equal(c.route_limit, 100);
	assert_int_equal(c.metric_series_limit, 2000);
	assert_int_equal(c.capture_bytes, 1024);
	assert_false(c.capture_query);
	assert_int_equal(c.max_conns, 16384);
	assert_int_equal(c.npids, 0);
	assert_string_equal(c.comm, "");
	assert_int_equal(c.log_level, 2);
}

static void test_generic_endpoint_gets_signal_paths(void **state)
{
	static const struct {
		const char *given, *traces, *metrics;
	} cases[] = {
		{ "http://collector:4318", "http://collector:4318/v1/traces",
		  "http://collector:4318/v1/metrics" },
		{ "http://collector:4318/", "http://collector:4318/v1/traces",
		  "http://collector:4318/v1/metrics" },
		{ "http://gw:4318/otlp", "http://gw:4318/otlp/v1/traces",
		  "http://gw:4318/otlp/v1/metrics" },
		{ "HTTPS://gw/otlp/", "https://gw/otlp/v1/traces", "https://gw/otlp/v1/metrics" },
		{ "http://[::1]:4318", "http://[::1]:4318/v1/traces",
		  "http://[::1]:4318/v1/metrics" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sonde_config c;
		char var[CONFIG_URL_LEN];

		snprintf(var, sizeof(var), "OTEL_EXPORTER_OTLP_ENDPOINT=%s", cases[i].given);
		load_ok(&c, NONE, (const char *[]){ var, NULL });
		assert_string_equal(c.traces_target.url, cases[i].traces);
		assert_string_equal(c.metrics_target.url, cases[i].metrics);
		/* an endpoint means a collector: both signals are exported */
		assert_int_equal(c.traces_exporter, TRACES_EXPORTER_OTLP);
		assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_OTLP);
	}
}

static void test_signal_endpoint_used_as_is(void **state)
{
	struct sonde_config c;

	(void)state;
	load_ok(&c, NONE,
		(const char *[]){ "OTEL_EXPORTER_OTLP_ENDPOINT=http://gen:4318",
				  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://t:9999/custom/",
				  NULL });
	assert_string_equal(c.traces_target.url, "http://t:9999/custom/");
	assert_string_equal(c.metrics_target.url, "http://gen:4318/v1/metrics");

	/* the protocol is per signal too, and so is the default port that follows */
	load_ok(&c, (const char *[]){ "--otlp-metrics-protocol", "grpc", NULL }, NONE);
	assert_int_equal(c.metrics_target.protocol, OTLP_PROTOCOL_GRPC);
	assert_string_equal(c.metrics_target.url, "http://localhost:4317");
	assert_int_equal(c.traces_target.protocol, OTLP_PROTOCOL_HTTP_PROTOBUF);
	assert_string_equal(c.traces_target.url, "http://localhost:4318/v1/traces");

	/* grpc takes the generic endpoint as it is, without a trailing slash */
	load_ok(&c, NONE,
		(const char *[]){ "OTEL_EXPORTER_OTLP_PROTOCOL=GRPC",
				  "OTEL_EXPORTER_OTLP_ENDPOINT=https://c.example:4317/", NULL });
	assert_string_equal(c.traces_target.url, "https://c.example:4317");
	assert_string_equal(c.metrics_target.url, "https://c.example:4317");
}

static void test_grpc_default_port(void **state)
{
	struct sonde_config c;

	(void)state;
	load_ok(&c, NONE, (const char *[]){ "OTEL_EXPORTER_OTLP_PROTOCOL=grpc", NULL });
	assert_int_equal(c.traces_target.protocol, OTLP_PROTOCOL_GRPC);
	assert_string_equal(c.traces_target.url, "http://localhost:4317");
	assert_string_equal(c.metrics_target.url, "http://localhost:4317");
	/* a protocol alone is not an endpoint */
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_CONSOLE);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_NONE);
}

static void test_headers_percent_decoded(void **state)
{
	struct sonde_config c;
	const struct config_kv_list *h;

	(void)state;
	load_ok(&c, NONE,
		(const char *[]){
			"OTEL_EXPORTER_OTLP_HEADERS= api-key = abc%20def ,x-tenant=a%2Cb,",
			"OTEL_EXPORTER_OTLP_METRICS_HEADERS=m=%3d1", NULL });
	h = &c.traces_target.headers;
	assert_int_equal(h->n, 2);
	assert_string_equal(h->items[0].key, "api-key");
	assert_string_equal(h->items[0].value, "abc def");
	assert_string_equal(h->items[1].key, "x-tenant");
	assert_string_equal(h->items[1].value, "a,b");
	/* per-signal headers replace the generic ones for that signal */
	h = &c.metrics_target.headers;
	assert_int_equal(h->n, 1);
	assert_string_equal(h->items[0].key, "m");
	assert_string_equal(h->items[0].value, "=1");
}

static void test_resource_attributes_replace_and_dedupe(void **state)
{
	struct sonde_config c;

	(void)state;
	load_ok(&c,
		(const char *[]){ "--resource-attributes", "deployment.environment=prod", NULL },
		(const char *[]){ "OTEL_RESOURCE_ATTRIBUTES=a=1,b=2,a=3", NULL });
	/* the flag layer replaces the environment's list, it does not add to it */
	assert_int_equal(c.resource_attributes.n, 1);
	assert_string_equal(c.resource_attributes.items[0].key, "deployment.environment");

	load_ok(&c, NONE, (const char *[]){ "OTEL_RESOURCE_ATTRIBUTES=a=1,b=2,a=3", NULL });
	assert_int_equal(c.resource_attributes.n, 2);
	assert_string_equal(c.resource_attributes.items[0].value, "3");
}

static void test_precedence_flag_env_file_default(void **state)
{
	char *path = write_file("traces:\n  sampler_arg: 0.1\n");
	char cfg[300];
	struct sonde_config c;

	(void)state;
	snprintf(cfg, sizeof(cfg), "SONDE_CONFIG=%s", path);
	load_ok(&c, (const char *[]){ "--sampler-arg=0.3", NULL },
		(const char *[]){ cfg, "OTEL_TRACES_SAMPLER_ARG=0.2", NULL });
	assert_true(c.sampler_arg == 0.3);
	load_ok(&c, NONE, (const char *[]){ cfg, "OTEL_TRACES_SAMPLER_ARG=0.2", NULL });
	assert_true(c.sampler_arg == 0.2);
	load_ok(&c, NONE, (const char *[]){ cfg, NULL });
	assert_true(c.sampler_arg == 0.1);
	/* --config names the file as well; an empty variable counts as unset */
	load_ok(&c, (const char *[]){ "--config", path, NULL },
		(const char *[]){ "OTEL_TRACES_SAMPLER_ARG=", NULL });
	assert_true(c.sampler_arg == 0.1);
	load_ok(&c, NONE, (const char *[]){ "OTEL_TRACES_SAMPLER_ARG=", "OTEL_UNKNOWN=1", NULL });
	assert_true(c.sampler_arg == 1.0);
	unlink(path);
	free(path);
}

static void test_signal_setting_beats_generic(void **state)
{
	char *path = write_file("exporter.otlp.traces.timeout: 2000\n"
				"exporter.otlp.metrics.compression: gzip\n");
	struct sonde_config c;

	(void)state;
	/* per signal wins even from a lower layer: it is the more specific setting */
	load_ok(&c,
		(const char *[]){ "--config", path, "--otlp-timeout", "5000", "--otlp-insecure",
				  "--otlp-traces-insecure=false", NULL },
		(const char *[]){ "OTEL_EXPORTER_OTLP_CERTIFICATE=/etc/ca.pem", NULL });
	assert_int_equal(c.traces_target.timeout_ms, 2000);
	assert_int_equal(c.metrics_target.timeout_ms, 5000);
	assert_int_equal(c.traces_target.compression, OTLP_COMPRESSION_NONE);
	assert_int_equal(c.metrics_target.compression, OTLP_COMPRESSION_GZIP);
	assert_false(c.traces_target.insecure);
	assert_true(c.metrics_target.insecure);
	assert_string_equal(c.traces_target.certificate, "/etc/ca.pem");
	assert_string_equal(c.metrics_target.certificate, "/etc/ca.pem");
	unlink(path);
	free(path);
}

static void test_invalid_env_messages(void **state)
{
	static const struct {
		const char *env, *want;
	} cases[] = {
		{ "OTEL_TRACES_SAMPLER_ARG=2",
		  "invalid OTEL_TRACES_SAMPLER_ARG=2: not a number between 0 and 1" },
		{ "OTEL_TRACES_SAMPLER_ARG=nan",
		  "invalid OTEL_TRACES_SAMPLER_ARG=nan: not a number between 0 and 1" },
		{ "OTEL_TRACES_SAMPLER=foo",
		  "invalid OTEL_TRACES_SAMPLER=foo: expected one of always_on, always_off, "
		  "traceidratio, parentbased_always_on, parentbased_always_off, "
		  "parentbased_traceidratio" },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=0",
		  "invalid OTEL_EXPORTER_OTLP_TIMEOUT=0: not an integer between 1 and 600000" },
		{ "OTEL_EXPORTER_OTLP_TIMEOUT=10s",
		  "invalid OTEL_EXPORTER_OTLP_TIMEOUT=10s: not an integer between 1 and 600000" },
		{ "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=99999999999999999999999",
		  "invalid OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=99999999999999999999999: not an "
		  "integer between 1 and 600000" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=ftp://x",
		  "invalid OTEL_EXPORTER_OTLP_ENDPOINT=ftp://x: not an http:// or https:// URL" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=http://",
		  "invalid OTEL_EXPORTER_OTLP_ENDPOINT=http://: no host in URL" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=http://[]:4318",
		  "invalid OTEL_EXPORTER_OTLP_ENDPOINT=http://[]:4318: no host in URL" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=http://user@:4318",
		  "invalid OTEL_EXPORTER_OTLP_ENDPOINT=http://user@:4318: no host in URL" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=http://:4318",
		  "invalid OTEL_EXPORTER_OTLP_ENDPOINT=http://:4318: no host in URL" },
		{ "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://h:99999/v1/metrics",
		  "invalid OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://h:99999/v1/metrics: bad port "
		  "in URL" },
		{ "OTEL_EXPORTER_OTLP_ENDPOINT=http://a b",
		  "invalid OTEL_EXPORTER_OTLP_ENDPOINT=http://a b: white space in URL" },
		{ "OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
		  "invalid OTEL_EXPORTER_OTLP_PROTOCOL=http/json: not supported; use "
		  "http/protobuf or grpc" },
		{ "OTEL_EXPORTER_OTLP_COMPRESSION=zstd",
		  "invalid OTEL_EXPORTER_OTLP_COMPRESSION=zstd: expected one of none, gzip" },
		{ "OTEL_EXPORTER_OTLP_INSECURE=maybe",
		  "invalid OTEL_EXPORTER_OTLP_INSECURE=maybe: not true or false (or 1/0, yes/no, "
		  "on/off)" },
		{ "OTEL_EXPORTER_OTLP_HEADERS=novalue",
		  "invalid OTEL_EXPORTER_OTLP_HEADERS=novalue: 'novalue' is not key=value" },
		{ "OTEL_EXPORTER_OTLP_HEADERS==v",
		  "invalid OTEL_EXPORTER_OTLP_HEADERS==v: an entry has no key" },
		{ "OTEL_EXPORTER_OTLP_HEADERS=a=%zz",
		  "invalid OTEL_EXPORTER_OTLP_HEADERS=a=%zz: bad %-escape in the value of 'a'" },
		{ "OTEL_EXPORTER_OTLP_HEADERS=a=x%2",
		  "invalid OTEL_EXPORTER_OTLP_HEADERS=a=x%2: bad %-escape in the value of 'a'" },
		/* a decoded CR LF would split the HTTP header */
		{ "OTEL_EXPORTER_OTLP_HEADERS=a=x%0D%0AHost:evil",
		  "invalid OTEL_EXPORTER_OTLP_HEADERS=a=x%0D%0AHost:evil: control character in the "
		  "value of 'a'" },
		{ "OTEL_TRACES_EXPORTER=zipkin",
		  "invalid OTEL_TRACES_EXPORTER=zipkin: expected one of otlp, console, none" },
		{ "OTEL_TRACES_EXPORTER=auto",
		  "invalid OTEL_TRACES_EXPORTER=auto: expected one of otlp, console, none" },
		{ "OTEL_METRICS_EXPORTER=otlp,console",
		  "invalid OTEL_METRICS_EXPORTER=otlp,console: expected otlp, prometheus or none" },
		{ "OTEL_BSP_MAX_QUEUE_SIZE=0",
		  "invalid OTEL_BSP_MAX_QUEUE_SIZE=0: not an integer between 1 and 1000000" },
		{ "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096",
		  "invalid traces.batch.max_export_batch_size=4096: larger than "
		  "traces.batch.max_queue_size=2048" },
		{ "OTEL_BSP_SCHEDULE_DELAY=-1",
		  "invalid OTEL_BSP_SCHEDULE_DELAY=-1: not an integer between 1 and 600000" },
		{ "OTEL_METRIC_EXPORT_INTERVAL=99",
		  "invalid OTEL_METRIC_EXPORT_INTERVAL=99: not an integer between 100 and "
		  "86400000" },
		{ "SONDE_PROMETHEUS_PORT=65536",
		  "invalid SONDE_PROMETHEUS_PORT=65536: not an integer between 0 and 65535" },
		{ "SONDE_PROMETHEUS_ADDRESS=localhost",
		  "invalid SONDE_PROMETHEUS_ADDRESS=localhost: not an IPv4 or IPv6 address" },
		{ "SONDE_ROUTE_LIMIT=100001",
		  "invalid SONDE_ROUTE_LIMIT=100001: not an integer between 1 and 100000" },
		{ "SONDE_METRIC_SERIES_LIMIT=0",
		  "invalid SONDE_METRIC_SERIES_LIMIT=0: not an integer between 1 and 1000000" },
		{ "SONDE_CAPTURE_BYTES=8193",
		  "invalid SONDE_CAPTURE_BYTES=8193: not an integer between 1 and 8192" },
		{ "SONDE_CAPTURE_QUERY=2",
		  "invalid SONDE_CAPTURE_QUERY=2: not true or false (or 1/0, yes/no, on/off)" },
		{ "SONDE_MAX_CONNS=8",
		  "invalid SONDE_MAX_CONNS=8: not an integer between 16 and 1048576" },
		{ "SONDE_PIDS=12,abc", "invalid SONDE_PIDS=12,abc: 'abc' is not a process id" },
		{ "SONDE_PIDS=0", "invalid SONDE_PIDS=0: '0' is not a process id" },
		{ "SONDE_COMM=averyveryverylongname",
		  "invalid SONDE_COMM=averyveryverylongname: not 1 to 15 characters" },
		{ "SONDE_LOG_LEVEL=trace",
		  "invalid SONDE_LOG_LEVEL=trace: expected one of error, warn, info, debug" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_load_error(NONE, (const char *[]){ cases[i].env, NULL }, cases[i].want);
}

static void test_invalid_flag_messages(void **state)
{
	(void)state;
	assert_load_error((const char *[]){ "--otlp-protocol=http/json", NULL }, NONE,
			  "invalid --otlp-protocol=http/json: not supported; use http/protobuf or "
			  "grpc");
	assert_load_error((const char *[]){ "--sampler-arg", "1.5", NULL }, NONE,
			  "invalid --sampler-arg=1.5: not a number between 0 and 1");
	assert_load_error((const char *[]){ "--foo", NULL }, NONE, "unknown option --foo");
	assert_load_error((const char *[]){ "--foo=1", NULL }, NONE, "unknown option --foo");
	assert_load_error((const char *[]){ "-x", NULL }, NONE, "unknown option -x");
	assert_load_error((const char *[]){ "extra", NULL }, NONE, "unexpected argument 'extra'");
	assert_load_error((const char *[]){ "--fo\no", NULL }, NONE, "unknown option --fo?o");
	assert_load_error((const char *[]){ "ex\x1b]0;t\atra", NULL }, NONE,
			  "unexpected argument 'ex?]0;t?tra'");
	assert_load_error((const char *[]){ "-\x1b", NULL }, NONE, "unknown option -?");
	assert_load_error((const char *[]){ "--otlp-headers", "a\x1b[2J=1", NULL }, NONE,
			  "invalid --otlp-headers=a?[2J=1: bad key 'a?[2J'");
	{
		struct config_kv_list l = { 0 };
		char why[CONFIG_ERR_LEN];

		assert_int_equal(config_parse_kv_list(&l, "ok=1,a\x1b]0;t\a=2", why, sizeof(why)),
				 -EINVAL);
		assert_string_equal(why, "bad key 'a?]0;t?'");
		assert_int_equal(config_parse_kv_list(&l, "x\ny", why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "'x?y' is not key=value");
	}
	assert_load_error((const char *[]){ "a\xc2\x9b"
					    "31m\x7f\xc3\xa9",
					    NULL },
			  NONE, "unexpected argument 'a??31m?\xc3\xa9'");
	assert_load_error((const char *[]){ "--otlp-endpoint", NULL }, NONE,
			  "option --otlp-endpoint needs a value");
	assert_load_error((const char *[]){ "--otlp-endpoint", "--sampler", "always_on", NULL },
			  NONE, "option --otlp-endpoint needs a value");
	assert_load_error((const char *[]){ "--otlp-endpoint=", NULL }, NONE,
			  "invalid --otlp-endpoint=: no scheme: write http://… or https://…");
	/* "collector:4318" would be a guess between http and https */
	assert_load_error((const char *[]){ "--otlp-endpoint", "collector:4318", NULL }, NONE,
			  "invalid --otlp-endpoint=collector:4318: no scheme: write http://… or "
			  "https://…");
	assert_load_error((const char *[]){ "--config", "/nonexistent/sonde.yaml", NULL }, NONE,
			  "cannot read config file /nonexistent/sonde.yaml: No such file or "
			  "directory");
	assert_load_error(NONE, (const char *[]){ "SONDE_CONFIG=/nonexistent/x.yaml", NULL },
			  "cannot read config file /nonexistent/x.yaml: No such file or directory");
}

static void test_help_returns_1(void **state)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];

	(void)state;
	assert_int_equal(load(&c, (const char *[]){ "--help", NULL }, NONE, err), 1);
	assert_int_equal(
		load(&c, (const char *[]){ "--otlp-endpoint", "http://c", "-h", NULL }, NONE, err),
		1);
	/* nothing else is looked at: a bad variable does not hide the help */
	assert_int_equal(load(&c, (const char *[]){ "--help", NULL },
			      (const char *[]){ "OTEL_TRACES_SAMPLER=bad", NULL }, err),
			 1);
}

static void test_bool_forms(void **state)
{
	static const char *const yes[] = { "true", "TRUE", "1", "yes", "On" };
	static const char *const no[] = { "false", "False", "0", "no", "OFF" };
	struct sonde_config c;
	char var[64];

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(var, sizeof(var), "SONDE_CAPTURE_QUERY=%s", yes[i]);
		load_ok(&c, NONE, (const char *[]){ var, NULL });
		assert_true(c.capture_query);
		snprintf(var, sizeof(var), "SONDE_CAPTURE_QUERY=%s", no[i]);
		load_ok(&c, NONE, (const char *[]){ var, NULL });
		assert_false(c.capture_query);
	}
	load_ok(&c, (const char *[]){ "--capture-query", NULL }, NONE);
	assert_true(c.capture_query);
	load_ok(&c, (const char *[]){ "--capture-query", "--log-level", "debug", NULL }, NONE);
	assert_true(c.capture_query);
	assert_int_equal(c.log_level, 3);
	load_ok(&c, (const char *[]){ "--capture-query=false", NULL },
		(const char *[]){ "SONDE_CAPTURE_QUERY=yes", NULL });
	assert_false(c.capture_query);
	load_ok(&c, (const char *[]){ "--capture-query", "no", NULL }, NONE);
	assert_false(c.capture_query);
}

static void test_pids_flags_append(void **state)
{
	const char *args[CONFIG_MAX_PIDS + 3] = { NULL };
	char pids[CONFIG_MAX_PIDS + 1][24];
	struct sonde_config c;

	(void)state;
	load_ok(&c, NONE, (const char *[]){ "SONDE_PIDS=1, 2,3,2", NULL });
	assert_int_equal(c.npids, 3);
	assert_int_equal(c.pids[2], 3);

	/* the first --pid replaces the environment's list, the next ones add to it */
	load_ok(&c, (const char *[]){ "--pid", "7", "--pid=8,9", "--pid", "7", NULL },
		(const char *[]){ "SONDE_PIDS=1,2,3", NULL });
	assert_int_equal(c.npids, 3);
	assert_int_equal(c.pids[0], 7);
	assert_int_equal(c.pids[1], 8);
	assert_int_equal(c.pids[2], 9);

	for (int i = 0; i <= CONFIG_MAX_PIDS; i++) {
		snprintf(pids[i], sizeof(pids[i]), "--pid=%d", 100 + i);
		args[i] = pids[i];
	}
	assert_load_error(args, NONE, "invalid --pid=164: more than 64 pids");
}

static void test_exporter_auto_resolution(void **state)
{
	struct sonde_config c;

	(void)state;
	load_ok(&c, (const char *[]){ "--otlp-traces-endpoint", "http://t:4318/v1/traces", NULL },
		NONE);
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_OTLP);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_NONE);

	load_ok(&c, NONE,
		(const char *[]){ "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m:4318/v1/metrics",
				  NULL });
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_CONSOLE);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_OTLP);

	/* explicit values win over what the endpoint suggests */
	load_ok(&c, NONE,
		(const char *[]){ "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
				  "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=prometheus",
				  NULL });
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_NONE);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_NONE);

	load_ok(&c, NONE,
		(const char *[]){ "OTEL_TRACES_EXPORTER=OTLP",
				  "OTEL_METRICS_EXPORTER=prometheus,otlp", NULL });
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_OTLP);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_OTLP);
	assert_string_equal(c.traces_target.url, "http://localhost:4318/v1/traces");

	load_ok(&c, (const char *[]){ "--traces-exporter", "console", NULL },
		(const char *[]){ "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", NULL });
	assert_int_equal(c.traces_exporter, TRACES_EXPORTER_CONSOLE);
	assert_int_equal(c.metrics_exporter, METRICS_EXPORTER_OTLP);
}

static int yaml(struct sonde_config *c, const char *text, char *err)
{
	config_init(c);
	err[0] = '\0';
	return config_load_yaml_text(c, text, strlen(text), "sonde.yaml", err, CONFIG_ERR_LEN);
}

static void test_yaml_nested_file(void **state)
{
	static const char text[] = "# sonde\n"
				   "exporter:\n"
				   "  otlp:\n"
				   "    endpoint: http://collector:4318\n"
				   "    headers:\n"
				   "      authorization: Bearer a,b=c%\n"
				   "      x-empty:\n"
				   "    traces:\n"
				   "      protocol: grpc\n"
				   "      endpoint: http://collector:4317\n"
				   "    metrics:\n"
				   "      timeout: ~\n"
				   "traces.sampler: traceidratio\n"
				   "traces: {sampler_arg: 0.25, batch: {max_queue_size: 4096}}\n"
				   "resource:\n"
				   "  attributes: {service.namespace: shop}\n"
				   "select:\n"
				   "  pids: [10, 20]\n"
				   "  comm: nginx\n"
				   "capture:\n"
				   "  query: yes\n"
				   "log: {level: debug}\n";
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];

	(void)state;
	if (yaml(&c, text, err))
		fail_msg("%s", err);
	assert_int_equal(config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.traces_target.url, "http://collector:4317");
	assert_int_equal(c.traces_target.protocol, OTLP_PROTOCOL_GRPC);
	assert_string_equal(c.metrics_target.url, "http://collector:4318/v1/metrics");
	/* a null value leaves the setting alone */
	assert_false(c.otlp_metrics.has_timeout);
	assert_int_equal(c.metrics_target.timeout_ms, 10000);
	/* map values are taken literally: no %-decoding, commas stay */
	assert_int_equal(c.traces_target.headers.n, 2);
	assert_string_equal(c.traces_target.headers.items[0].key, "authorization");
	assert_string_equal(c.traces_target.headers.items[0].value, "Bearer a,b=c%");
	assert_string_equal(c.traces_target.headers.items[1].value, "");
	assert_int_equal(c.sampler, SAMPLER_TRACEIDRATIO);
	assert_true(c.sampler_arg == 0.25);
	assert_int_equal(c.bsp_max_queue_size, 4096);
	assert_int_equal(c.resource_attributes.n, 1);
	assert_string_equal(c.resource_attributes.items[0].key, "service.namespace");
	assert_string_equal(c.resource_attributes.items[0].value, "shop");
	assert_int_equal(c.npids, 2);
	assert_int_equal(c.pids[1], 20);
	assert_string_equal(c.comm, "nginx");
	assert_true(c.capture_query);
	assert_int_equal(c.log_level, 3);

	/* the string forms work in YAML too */
	if (yaml(&c, "select: {pids: '1,2'}\nexporter.otlp.headers: a=1%25\n", err))
		fail_msg("%s", err);
	assert_int_equal(c.npids, 2);
	assert_string_equal(c.otlp.headers.items[0].value, "1%");
	/* an empty document sets nothing */
	assert_int_equal(yaml(&c, "# nothing yet\n", err), 0);
}

static void test_yaml_errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "exporter:\n  otlp:\n    endpiont: http://c:4318\n",
		  "sonde.yaml:3: unknown setting 'exporter.otlp.endpiont'" },
		{ "traces:\n  sampler: always_on\n\nfoo: 1\n",
		  "sonde.yaml:4: unknown setting 'foo'" },
		{ "\n\ntraces:\n  sampler: foo\n",
		  "sonde.yaml:4: invalid traces.sampler=foo: expected one of always_on, "
		  "always_off, traceidratio, parentbased_always_on, parentbased_always_off, "
		  "parentbased_traceidratio" },
		{ "traces:\n  sampler:\n    kind: always_on\n",
		  "sonde.yaml:3: traces.sampler: expected a single value" },
		{ "traces:\n  sampler: [always_on]\n",
		  "sonde.yaml:2: traces.sampler: expected a single value" },
		{ "exporter: http://c:4318\n",
		  "sonde.yaml:1: exporter: expected a mapping of settings" },
		{ "select:\n  pids:\n    - 1\n    - x\n",
		  "sonde.yaml:4: invalid select.pids=x: 'x' is not a process id" },
		{ "select:\n  pids:\n    - [1]\n",
		  "sonde.yaml:3: select.pids: expected a list of values" },
		{ "resource:\n  attributes:\n    a: {b: c}\n",
		  "sonde.yaml:3: resource.attributes: expected key: value pairs" },
		{ "resource:\n  attributes:\n    a=b: c\n", "sonde.yaml:3: bad key 'a=b'" },
		{ "- a\n- b\n", "sonde.yaml:1: expected a mapping of settings" },
		/* a key twice: the first value would be lost without a word */
		{ "log:\n  level: info\nlog:\n  level: debug\n",
		  "sonde.yaml:3: 'log' given twice" },
		{ "log:\n  level: info\n  level: debug\n", "sonde.yaml:3: 'level' given twice" },
		{ "resource:\n  attributes:\n    a: b\n    a: c\n",
		  "sonde.yaml:4: resource.attributes: key 'a' given twice" },
		{ "traces: {sampler: always_on}\n---\ntraces: {sampler: always_off}\n",
		  "sonde.yaml:3: more than one YAML document" },
		{ "traces:\n  sampler: always_on\n   bad: indent\n",
		  "sonde.yaml:3: mapping values are not allowed in this context" },
		/* what is quoted from the file stays on one line, harmless on a
		 * terminal (a fuzz_config finding) */
		{ "\"a\\nb\\e]0;x\\a\": 1\n", "sonde.yaml:1: unknown setting 'a?b?]0;x?'" },
		{ "log:\n  level: \"de\\nbug\"\n",
		  "sonde.yaml:2: invalid log.level=de?bug: expected one of error, warn, info, "
		  "debug" },
		{ "exporter:\n  otlp:\n    headers: \"a\\x1b[2J\"\n",
		  "sonde.yaml:3: invalid exporter.otlp.headers=a?[2J: 'a?[2J' is not key=value" },
		{ "traces:\n  sampler: [always_on\n",
		  "sonde.yaml:3: did not find expected ',' or ']' while parsing a flow sequence "
		  "(line 2)" },
	};
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(yaml(&c, cases[i].text, err), -EINVAL);
		assert_string_equal(err, cases[i].want);
	}
}

/* db.query and db.query_max_bytes: sanitised and 2 KiB unless told. */
static void test_db_query_settings(void **state)
{
	struct sonde_config c;

	(void)state;
	load_ok(&c, NONE, NONE);
	assert_int_equal(c.db_query, 0);
	assert_int_equal(c.db_query_max, 2048);
	load_ok(&c, (const char *[]){ "--db-query", "raw", "--db-query-max-bytes", "100", NULL },
		NONE);
	assert_int_equal(c.db_query, 1);
	assert_int_equal(c.db_query_max, 100);
	load_ok(&c, NONE, (const char *[]){ "SONDE_DB_QUERY=none", NULL });
	assert_int_equal(c.db_query, 2);
	assert_load_error((const char *[]){ "--db-query", "literal", NULL }, NONE,
			  "invalid --db-query=literal: expected one of sanitized, raw, none");
	assert_load_error((const char *[]){ "--db-query-max-bytes", "4096", NULL }, NONE,
			  "invalid --db-query-max-bytes=4096: not an integer between 16 and 2048");
}

static void test_settings_table(void **state)
{
	size_t n;
	const struct config_setting *s = config_settings(&n);

	(void)state;
	/* 7 OTLP settings in four layers and 37 others, each documented once */
	assert_int_equal(n, 28 + 37);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(s[i].help);
		assert_non_null(s[i].default_text);
		assert_ptr_equal(config_find(s[i].key), &s[i]);
		for (size_t j = i + 1; j < n; j++) {
			assert_string_not_equal(s[i].key, s[j].key);
			if (s[i].env && s[j].env)
				assert_string_not_equal(s[i].env, s[j].env);
			if (s[i].flag && s[j].flag)
				assert_string_not_equal(s[i].flag, s[j].flag);
		}
	}
	assert_null(config_find("exporter.otlp"));
}

static void test_logs_settings(void **state)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN], buf[CONFIG_LOG_COMMS_LEN];
	const char *names[CONFIG_MAX_LOG_COMMS];
	char *const env[] = { "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318/",
			      "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=grpc",
			      "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://loki-gw:4317/",
			      "OTEL_BLRP_SCHEDULE_DELAY=250",
			      "SONDE_LOGS_COMM=python3,node",
			      NULL };
	char *none_env[] = { NULL };
	char *argv[] = { "run", "--logs-rate-limit", "50", NULL };
	char *bad[] = { "run", "--logs-comm", "a,averyveryverylongname", NULL };

	(void)state;
	/* No collector: logs stay where the application sent them. */
	assert_int_equal(config_load_all(&c, 1, argv, none_env, err, sizeof(err)), 0);
	assert_int_equal(c.logs_exporter, LOGS_EXPORTER_NONE);
	assert_true(c.logs_enabled);
	assert_int_equal(c.logs_max_line, 8192);
	assert_int_equal(c.blrp_max_queue_size, 2048);
	assert_int_equal(config_log_comms(&c, buf, names), 0);
	assert_int_equal(config_load_all(&c, 3, argv, env, err, sizeof(err)), 0);
	assert_int_equal(c.logs_exporter, LOGS_EXPORTER_OTLP);
	assert_int_equal(c.logs_rate_limit, 50);
	assert_int_equal(c.blrp_schedule_delay_ms, 250);
	assert_string_equal(c.logs_target.url, "http://loki-gw:4317");
	assert_int_equal(c.logs_target.protocol, OTLP_PROTOCOL_GRPC);
	assert_string_equal(c.traces_target.url, "http://collector:4318/v1/traces");
	assert_int_equal(config_log_comms(&c, buf, names), 2);
	assert_string_equal(names[0], "python3");
	assert_string_equal(names[1], "node");
	/* A generic HTTP endpoint gets /v1/logs. */
	char *http_env[] = { "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318",
			     "OTEL_LOGS_EXPORTER=console", NULL };
	assert_int_equal(config_load_all(&c, 1, argv, http_env, err, sizeof(err)), 0);
	assert_string_equal(c.logs_target.url, "http://collector:4318/v1/logs");
	assert_int_equal(c.logs_exporter, LOGS_EXPORTER_CONSOLE);
	assert_int_equal(config_load_all(&c, 3, bad, none_env, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid logs.comm=a,averyveryverylongname: names of at most 15 "
				 "characters, at most 64 of them");
}

static void test_k8s_settings(void **state)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];
	char *const env[] = { "SONDE_K8S=true", "SONDE_K8S_NODE_NAME=ip-10-0-1-23.ec2.internal",
			      "SONDE_K8S_METADATA_WAIT=500", NULL };
	char *argv[] = { "run", "--kubeconfig", "/root/.kube/config", NULL };

	(void)state;
	config_init(&c);
	assert_int_equal(c.k8s_mode, K8S_AUTO);
	assert_string_equal(c.k8s_service_account_dir, K8S_DEFAULT_SA_DIR);
	assert_int_equal(c.k8s_max_pods, 1024);
	assert_int_equal(c.k8s_metadata_wait_ms, 2000);
	assert_int_equal(config_load_all(&c, 3, argv, env, err, sizeof(err)), 0);
	assert_int_equal(c.k8s_mode, K8S_ON);
	assert_string_equal(c.k8s_node_name, "ip-10-0-1-23.ec2.internal");
	assert_string_equal(c.k8s_kubeconfig, "/root/.kube/config");
	assert_int_equal(c.k8s_metadata_wait_ms, 500);
	assert_int_equal(config_set(&c, "k8s.enabled", "maybe", "SONDE_K8S", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "invalid SONDE_K8S=maybe: expected one of auto, true, false");
	assert_int_equal(config_set(&c, "k8s.max_pods", "3", NULL, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid k8s.max_pods=3: not an integer between 16 and 65536");
}

/* --check-config prints config_format(); setting that text back must give the
 * same value, or the printout would lie. */
static void test_format_round_trips(void **state)
{
	size_t n;
	const struct config_setting *s = config_settings(&n);
	struct sonde_config c, again;
	char err[CONFIG_ERR_LEN], text[4096], text2[4096];
	char *const env[] = { "OTEL_EXPORTER_OTLP_HEADERS=a=1,b=2,c=%20x%2Cy%25z=%20",
			      "OTEL_TRACES_SAMPLER_ARG=0.25",
			      "SONDE_PIDS=1,2,3",
			      "OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
			      "OTEL_METRICS_EXPORTER=prometheus",
			      "SONDE_PROMETHEUS_PORT=9100",
			      "SONDE_K8S=false",
			      "SONDE_CAPTURE_QUERY=true",
			      NULL };
	char *argv[] = { "run", NULL };

	(void)state;
	assert_int_equal(config_load_all(&c, 1, argv, env, err, sizeof(err)), 0);
	for (size_t i = 0; i < n; i++) {
		/* OTLP layers not given print "(not set)" in cmd_run */
		if (s[i].has_offset && !*(const bool *)((const char *)&c + s[i].has_offset))
			continue;
		config_format(&c, &s[i], text, sizeof(text));
		if (!text[0] || !strcmp(text, "auto"))
			continue;
		config_init(&again);
		if (config_set(&again, s[i].key, text, NULL, err, sizeof(err)))
			fail_msg("%s = %s does not read back: %s", s[i].key, text, err);
		config_format(&again, &s[i], text2, sizeof(text2));
		assert_string_equal(text, text2);
	}
	config_format(&c, config_find("exporter.otlp.headers"), text, sizeof(text));
	/* a value's comma, '%' and outer spaces are written as they read back
	 * (they were written raw: a fuzz_config finding) */
	assert_string_equal(text, "a=1,b=2,c=%20x%2Cy%25z=%20");
	assert_string_equal(c.otlp.headers.items[2].value, " x,y%z= ");
	config_format(&c, config_find("select.pids"), text, sizeof(text));
	assert_string_equal(text, "1,2,3");
	config_format(&c, config_find("traces.sampler_arg"), text, sizeof(text));
	assert_string_equal(text, "0.25");
}

/* config_load_trace() with "trace" as argv[0]; *command as it sets it. */
static int trace(struct sonde_config *c, const char *const *args, int *command, char *err)
{
	char *argv[2 * CONFIG_MAX_PIDS + 8] = { "trace" };
	int argc = 1;

	while (args[argc - 1] && argc < (int)(sizeof(argv) / sizeof(argv[0]))) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	err[0] = '\0';
	return config_load_trace(c, argc, argv, command, err, CONFIG_ERR_LEN);
}

static void trace_ok(struct sonde_config *c, const char *const *args, int *command)
{
	char err[CONFIG_ERR_LEN];

	if (trace(c, args, command, err))
		fail_msg("unexpected error: %s", err);
}

static void assert_trace_error(const char *const *args, const char *want)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];
	int command;

	assert_int_equal(trace(&c, args, &command, err), -EINVAL);
	assert_string_equal(err, want);
}

static void test_trace_defaults(void **state)
{
	struct sonde_config c;
	int command;

	(void)state;
	trace_ok(&c, NONE, &command);
	assert_int_equal(command, 1); /* argc: no COMMAND */
	assert_int_equal(c.npids, 0);
	assert_string_equal(c.comm, "");
	assert_string_equal(c.cgroup, "");
	assert_string_equal(c.k8s_kubeconfig, "");
	assert_string_equal(c.trace.pod, "");
	assert_string_equal(c.trace.container, "");
	assert_int_equal(c.trace.duration_ns, 0);
	assert_int_equal(c.trace.output, TRACE_OUTPUT_TEXT);
	assert_int_equal(c.capture_bytes, 1024);
	assert_int_equal(c.max_conns, 16384);
	assert_false(c.trace.stats);
	assert_false(c.trace.no_summary);
	assert_false(c.trace.no_tls);
	assert_false(c.trace.verbose);
}

/* Every flag of `sonde trace` (README, "sonde trace"), long and short. */
static void test_trace_every_option(void **state)
{
	struct sonde_config c;
	int command;

	(void)state;
	trace_ok(&c, (const char *[]){ "--pid",
				       "42",
				       "--comm",
				       "nginx",
				       "--cgroup",
				       "/sys/fs/cgroup/app",
				       "--kubeconfig",
				       "/root/kc",
				       "--duration",
				       "1.5s",
				       "--output",
				       "json",
				       "--capture-bytes",
				       "8192",
				       "--max-conns",
				       "1048576",
				       "--stats",
				       "--no-summary",
				       "--no-tls",
				       "--verbose",
				       NULL },
		 &command);
	assert_int_equal(command, 21);
	assert_int_equal(c.npids, 1);
	assert_int_equal(c.pids[0], 42);
	assert_string_equal(c.comm, "nginx");
	assert_string_equal(c.cgroup, "/sys/fs/cgroup/app");
	assert_string_equal(c.k8s_kubeconfig, "/root/kc");
	assert_int_equal(c.trace.duration_ns, 1500000000ull);
	assert_int_equal(c.trace.output, TRACE_OUTPUT_JSON);
	assert_int_equal(c.capture_bytes, 8192);
	assert_int_equal(c.max_conns, 1048576);
	assert_true(c.trace.stats);
	assert_true(c.trace.no_summary);
	assert_true(c.trace.no_tls);
	assert_true(c.trace.verbose);

	/* the one-letter forms: apart, joined to their value, several in a word */
	trace_ok(&c,
		 (const char *[]){ "-p", "7", "-c", "curl", "-g", "/cg", "-d", "500ms", "-o",
				   "text", "-v", NULL },
		 &command);
	assert_int_equal(c.pids[0], 7);
	assert_string_equal(c.comm, "curl");
	assert_string_equal(c.cgroup, "/cg");
	assert_int_equal(c.trace.duration_ns, 500000000ull);
	assert_int_equal(c.trace.output, TRACE_OUTPUT_TEXT);
	assert_true(c.trace.verbose);
	trace_ok(&c, (const char *[]){ "-p42", "-d2m", "-ojson", "-vp", "43", NULL }, &command);
	assert_int_equal(c.npids, 2);
	assert_int_equal(c.pids[1], 43);
	assert_int_equal(c.trace.duration_ns, 120000000000ull);
	assert_int_equal(c.trace.output, TRACE_OUTPUT_JSON);
	assert_true(c.trace.verbose);
	trace_ok(&c, (const char *[]){ "--duration=1h", "--max-conns=16", NULL }, &command);
	assert_int_equal(c.trace.duration_ns, 3600000000000ull);
	assert_int_equal(c.max_conns, 16);
	/* a setting of one value said twice loses the first: refused */
	assert_trace_error((const char *[]){ "--duration=1h", "-d", "30", NULL },
			   "--duration given twice: it takes one value");
	assert_trace_error((const char *[]){ "--comm", "a", "--comm", "b", NULL },
			   "--comm given twice: it takes one value");
	/* --pod names one pod: NAMESPACE/NAME */
	assert_trace_error((const char *[]){ "--pod", "noslash", NULL },
			   "invalid --pod 'noslash': expected NAMESPACE/NAME");

	/* the pod and its container */
	trace_ok(&c,
		 (const char *[]){ "-P", "shop/checkout-1", "--container", "app", "--kubeconfig",
				   "/kc", NULL },
		 &command);
	assert_string_equal(c.trace.pod, "shop/checkout-1");
	assert_string_equal(c.trace.container, "app");
	assert_string_equal(c.k8s_kubeconfig, "/kc");
	trace_ok(&c, (const char *[]){ "--pod=shop/x", NULL }, &command);
	assert_string_equal(c.trace.pod, "shop/x");
}

static void test_trace_pids_repeat(void **state)
{
	const char *args[2 * CONFIG_MAX_PIDS + 3] = { NULL };
	char pids[CONFIG_MAX_PIDS + 1][24];
	struct sonde_config c;
	int command;

	(void)state;
	trace_ok(&c, (const char *[]){ "-p", "1", "--pid", "2", "--pid=3,4", "-p5", NULL },
		 &command);
	assert_int_equal(c.npids, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(c.pids[i], (uint32_t)i + 1);
	/* one process named twice is traced once */
	trace_ok(&c, (const char *[]){ "-p", "9", "-p", "9", NULL }, &command);
	assert_int_equal(c.npids, 1);

	for (int i = 0; i <= CONFIG_MAX_PIDS; i++) {
		snprintf(pids[i], sizeof(pids[i]), "%d", 100 + i);
		args[2 * i] = "-p";
		args[2 * i + 1] = pids[i];
	}
	assert_trace_error(args, "invalid --pid=164: more than 64 pids");
}

/* What follows "--", or the first word that is no option, is COMMAND with
 * its own options; a switch never takes it as a value. */
static void test_trace_command(void **state)
{
	struct sonde_config c;
	int command;

	(void)state;
	trace_ok(&c, (const char *[]){ "--stats", "--", "curl", "-s", "--pid", "x", NULL },
		 &command);
	assert_int_equal(command, 3);
	assert_int_equal(c.npids, 0);
	trace_ok(&c, (const char *[]){ "-o", "json", "python3", "-m", "http.server", NULL },
		 &command);
	assert_int_equal(command, 3);
	trace_ok(&c, (const char *[]){ "--no-summary", "true", NULL }, &command);
	assert_int_equal(command, 2);
	assert_true(c.trace.no_summary);
	trace_ok(&c, (const char *[]){ "-v", "--", NULL }, &command);
	assert_int_equal(command, 3); /* "--" and nothing after: no COMMAND */
}

static void test_trace_errors(void **state)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];
	int command;

	(void)state;
	assert_trace_error((const char *[]){ "--bogus", NULL }, "unknown option --bogus");
	assert_trace_error((const char *[]){ "--bogus=1", NULL }, "unknown option --bogus");
	assert_trace_error((const char *[]){ "-x", NULL }, "unknown option -x");
	assert_trace_error((const char *[]){ "-vx", NULL }, "unknown option -x");
	/* `sonde run`'s settings are not `sonde trace`'s, nor --config */
	assert_trace_error((const char *[]){ "--otlp-endpoint", "http://c", NULL },
			   "unknown option --otlp-endpoint");
	assert_trace_error((const char *[]){ "--config", "x.yaml", NULL },
			   "unknown option --config");
	assert_trace_error((const char *[]){ "--pid", NULL }, "option --pid needs a value");
	assert_trace_error((const char *[]){ "-p", NULL }, "option -p needs a value");
	assert_trace_error((const char *[]){ "--comm", "--stats", NULL },
			   "option --comm needs a value");
	assert_trace_error((const char *[]){ "--pid", "x", NULL },
			   "invalid --pid=x: 'x' is not a process id");
	assert_trace_error((const char *[]){ "-p", "0", NULL },
			   "invalid --pid=0: '0' is not a process id");
	assert_trace_error((const char *[]){ "--comm", "a-name-of-16-char", NULL },
			   "invalid --comm=a-name-of-16-char: not 1 to 15 characters");
	assert_trace_error((const char *[]){ "--duration", "soon", NULL },
			   "invalid --duration=soon: not a duration such as 30s, 500ms or 2m");
	assert_trace_error((const char *[]){ "-d", "0", NULL },
			   "invalid --duration=0: not a duration such as 30s, 500ms or 2m");
	assert_trace_error((const char *[]){ "-d", "-1s", NULL },
			   "invalid --duration=-1s: not a duration such as 30s, 500ms or 2m");
	assert_trace_error((const char *[]){ "-d", "5d", NULL },
			   "invalid --duration=5d: not a duration such as 30s, 500ms or 2m");
	assert_trace_error((const char *[]){ "-d", "1e30h", NULL },
			   "invalid --duration=1e30h: not a duration such as 30s, 500ms or 2m");
	assert_trace_error((const char *[]){ "-o", "xml", NULL },
			   "invalid --output=xml: expected one of text, json");
	assert_trace_error((const char *[]){ "--capture-bytes", "0", NULL },
			   "invalid --capture-bytes=0: not an integer between 1 and 8192");
	assert_trace_error((const char *[]){ "--capture-bytes", "8193", NULL },
			   "invalid --capture-bytes=8193: not an integer between 1 and 8192");
	assert_trace_error((const char *[]){ "--max-conns", "15", NULL },
			   "invalid --max-conns=15: not an integer between 16 and 1048576");
	assert_trace_error((const char *[]){ "--max-conns", "1048577", NULL },
			   "invalid --max-conns=1048577: not an integer between 16 and 1048576");
	assert_trace_error((const char *[]){ "--container", "app", NULL },
			   "--container needs --pod NAMESPACE/NAME");
	assert_trace_error((const char *[]){ "--pod", "a/b", "--cgroup", "/cg", NULL },
			   "--pod cannot be combined with --cgroup or a command");
	assert_trace_error((const char *[]){ "--pod", "a/b", "--", "ls", NULL },
			   "--pod cannot be combined with --cgroup or a command");

	/* --help wins over what follows, not over a mistake before it */
	assert_int_equal(
		trace(&c, (const char *[]){ "-p", "1", "--help", "--bogus", NULL }, &command, err),
		1);
	assert_int_equal(trace(&c, (const char *[]){ "-vh", NULL }, &command, err), 1);
	assert_int_equal(trace(&c, (const char *[]){ "--bogus", "-h", NULL }, &command, err),
			 -EINVAL);
	/* COMMAND's own --help is its own */
	assert_int_equal(trace(&c, (const char *[]){ "--", "curl", "--help", NULL }, &command, err),
			 0);
}

/* A setting both commands take is one definition: same key, same range,
 * same field; `sonde run` has none of `sonde trace`'s own flags. */
static void test_trace_table_shares_run_rows(void **state)
{
	size_t n, shared = 0;
	const struct config_setting *t = config_trace_settings(&n);
	char err[CONFIG_ERR_LEN];
	struct sonde_config c;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct config_setting *r = config_find(t[i].key);

		assert_non_null(t[i].flag);
		assert_non_null(t[i].help);
		assert_ptr_equal(config_find_flag(CONFIG_TRACE, t[i].flag, strlen(t[i].flag)),
				 &t[i]);
		if (t[i].short_flag)
			assert_ptr_equal(config_find_short(CONFIG_TRACE, t[i].short_flag), &t[i]);
		if (!r) {
			assert_int_equal(strncmp(t[i].key, "trace.", 6), 0);
			assert_null(config_find_flag(CONFIG_RUN, t[i].flag, strlen(t[i].flag)));
			continue;
		}
		shared++;
		assert_string_equal(r->flag, t[i].flag);
		assert_string_equal(r->env, t[i].env);
		assert_string_equal(r->help, t[i].help);
		assert_int_equal(r->type, t[i].type);
		assert_int_equal(r->min, t[i].min);
		assert_int_equal(r->max, t[i].max);
		assert_int_equal(r->offset, t[i].offset);
		assert_int_equal(r->size, t[i].size);
	}
	/* pid, comm, cgroup, kubeconfig, capture-bytes, capture-query, db-query,
	 * db-query-max-bytes, max-conns, context-nodejs, logs, logs-comm,
	 * logs-max-line-bytes, logs-rate-limit */
	assert_int_equal(shared, 14);
	assert_int_equal(n, 14 + 9);
	/* `sonde run` knows no short forms, nor trace's flags */
	assert_null(config_find_short(CONFIG_RUN, 'p'));
	assert_load_error((const char *[]){ "--duration", "1s", NULL }, NONE,
			  "unknown option --duration");
	assert_load_error((const char *[]){ "-p", "1", NULL }, NONE, "unknown option -p");
	config_init(&c);
	assert_int_equal(config_load_yaml_text(&c, "trace: {stats: true}\n", 21, "sonde.yaml", err,
					       sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "sonde.yaml:1: unknown setting 'trace'");
}

/* context.nodejs: the Node.js request-context script is injected unless told
 * off, in every layer of `sonde run` and by `sonde trace`'s flag. */
static void test_node_context_setting(void **state)
{
	struct sonde_config c;
	char err[CONFIG_ERR_LEN];
	int command;

	(void)state;
	load_ok(&c, NONE, NONE);
	assert_int_equal(c.node_context, NODE_CONTEXT_INJECT);
	load_ok(&c, (const char *[]){ "--context-nodejs", "off", NULL }, NONE);
	assert_int_equal(c.node_context, NODE_CONTEXT_OFF);
	load_ok(&c, NONE, (const char *[]){ "SONDE_CONTEXT_NODEJS=off", NULL });
	assert_int_equal(c.node_context, NODE_CONTEXT_OFF);
	/* the flag wins over the environment */
	load_ok(&c, (const char *[]){ "--context-nodejs=inject", NULL },
		(const char *[]){ "SONDE_CONTEXT_NODEJS=off", NULL });
	assert_int_equal(c.node_context, NODE_CONTEXT_INJECT);
	/* YAML 1.1 would make a bare off a boolean: here it is the setting's word */
	assert_int_equal(yaml(&c, "context:\n  nodejs: off\n", err), 0);
	assert_int_equal(c.node_context, NODE_CONTEXT_OFF);
	assert_load_error((const char *[]){ "--context-nodejs", "false", NULL }, NONE,
			  "invalid --context-nodejs=false: expected one of inject, off");
	assert_load_error(NONE, (const char *[]){ "SONDE_CONTEXT_NODEJS=on", NULL },
			  "invalid SONDE_CONTEXT_NODEJS=on: expected one of inject, off");
	assert_int_equal(yaml(&c, "context:\n  nodejs: later\n", err), -EINVAL);
	assert_string_equal(err, "sonde.yaml:2: invalid context.nodejs=later: expected one of "
				 "inject, off");

	trace_ok(&c, NONE, &command);
	assert_int_equal(c.node_context, NODE_CONTEXT_INJECT);
	trace_ok(&c, (const char *[]){ "--context-nodejs", "off", NULL }, &command);
	assert_int_equal(c.node_context, NODE_CONTEXT_OFF);
	assert_trace_error((const char *[]){ "--context-nodejs", "no", NULL },
			   "invalid --context-nodejs=no: expected one of inject, off");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_generic_endpoint_gets_signal_paths),
		cmocka_unit_test(test_signal_endpoint_used_as_is),
		cmocka_unit_test(test_grpc_default_port),
		cmocka_unit_test(test_headers_percent_decoded),
		cmocka_unit_test(test_resource_attributes_replace_and_dedupe),
		cmocka_unit_test(test_precedence_flag_env_file_default),
		cmocka_unit_test(test_signal_setting_beats_generic),
		cmocka_unit_test(test_invalid_env_messages),
		cmocka_unit_test(test_invalid_flag_messages),
		cmocka_unit_test(test_help_returns_1),
		cmocka_unit_test(test_bool_forms),
		cmocka_unit_test(test_pids_flags_append),
		cmocka_unit_test(test_exporter_auto_resolution),
		cmocka_unit_test(test_yaml_nested_file),
		cmocka_unit_test(test_yaml_errors_name_file_and_line),
		cmocka_unit_test(test_db_query_settings),
		cmocka_unit_test(test_settings_table),
		cmocka_unit_test(test_k8s_settings),
		cmocka_unit_test(test_logs_settings),
		cmocka_unit_test(test_format_round_trips),
		cmocka_unit_test(test_trace_defaults),
		cmocka_unit_test(test_trace_every_option),
		cmocka_unit_test(test_trace_pids_repeat),
		cmocka_unit_test(test_trace_command),
		cmocka_unit_test(test_trace_errors),
		cmocka_unit_test(test_trace_table_shares_run_rows),
		cmocka_unit_test(test_node_context_setting),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
