/* SPDX-License-Identifier: MIT */
/* `sonde run`: trace every selected process and export OTLP and Prometheus. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "cli/cmd_run.h"
#include "cli/logs_setup.h"
#include "cli/preflight.h"
#include "config/config_load.h"
#include "k8s/k8s_meta.h"
#include "host/kernel_features.h"
#include "util/log.h"
#include "host/mounts.h"
#include "export/otlp_transport.h"
#include "pipeline/pipeline.h"
#include "host/proc.h"
#include "export/prom_server.h"
#include "core/tracer.h"

/*
 * The kernel side wakes the loop past a backlog (bpf/maps.bpf.h); this bounds
 * how long events wait when traffic is light. Polling on a timer every few
 * milliseconds instead, to keep batches short, cut the saturation p99 but each
 * extra wake-up cost the agent ~70 us here (cold caches): +0.4 us per request
 * at 10,000 req/s with metrics only (`make bench`).
 */
#define POLL_MS 100
/* Agent counters, health, series expiry: at most this often (a busy server
 * wakes the loop every few milliseconds). */
#define HOUSEKEEPING_NS 100000000ull

extern char **environ;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int on_event(void *ctx, const void *data, size_t size)
{
	ingest_event(ctx, data, size);
	return 0;
}

static void usage(void)
{
	size_t n;
	const struct config_setting *s = config_settings(&n);

	printf("usage: sonde run [--config FILE] [--check-config] [options]\n"
	       "\n"
	       "Traces the HTTP traffic of every process on this host (or those selected)\n"
	       "and exports spans and RED metrics over OTLP and on a Prometheus endpoint.\n"
	       "Without an OTLP endpoint, spans are printed here.\n"
	       "\n"
	       "Each setting is a flag, an environment variable, and a key in the YAML file\n"
	       "given with --config (or SONDE_CONFIG); flag > environment > file > default.\n"
	       "--check-config prints the settings that would be used and exits.\n"
	       "\n");
	for (size_t i = 0; i < n; i++) {
		char flag[64];

		snprintf(flag, sizeof(flag), "--%s", s[i].flag ? s[i].flag : "");
		printf("  %-32s %s\n", s[i].flag ? flag : "", s[i].help);
		printf("  %-32s   env %s, key %s, default %s\n", "", s[i].env ? s[i].env : "-",
		       s[i].key, s[i].default_text ? s[i].default_text : "-");
	}
}

/* Removes --check-config from argv (the settings parser knows only settings). */
static bool take_check_config(int *argc, char **argv)
{
	bool found = false;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--check-config"))
			found = true;
		else
			argv[out++] = argv[i];
	}
	*argc = out;
	return found;
}

/* Logs are collected when they go somewhere. */
static bool logs_on(const struct sonde_config *c)
{
	return c->logs_enabled && c->logs_exporter != LOGS_EXPORTER_NONE;
}

/* `--check-config`: one "key = value" line per setting. Header values may be
 * credentials, so only their names are shown. */
static void print_config(const struct sonde_config *c)
{
	size_t n;
	const struct config_setting *s = config_settings(&n);
	char value[CONFIG_MAX_KV * (CONFIG_KEY_LEN + CONFIG_VALUE_LEN)];

	for (size_t i = 0; i < n; i++) {
		config_format(c, &s[i], value, sizeof(value));
		if (s[i].has_offset && !*(const bool *)((const char *)c + s[i].has_offset))
			snprintf(value, sizeof(value), "(not set)");
		else if (strstr(s[i].key, "headers") && value[0]) {
			const struct config_kv_list *l =
				(const void *)((const char *)c + s[i].offset);
			size_t used = 0;

			for (int k = 0; k < l->n && used < sizeof(value); k++)
				used += (size_t)snprintf(value + used, sizeof(value) - used,
							 "%s%s=(hidden)", k ? "," : "",
							 l->items[k].key);
		}
		printf("%s = %s\n", s[i].key, value);
	}
	printf("# traces: %s\n# metrics: %s\n# logs: %s\n",
	       c->traces_exporter == TRACES_EXPORTER_OTLP      ? c->traces_target.url
	       : c->traces_exporter == TRACES_EXPORTER_CONSOLE ? "console"
							       : "none",
	       c->metrics_exporter == METRICS_EXPORTER_OTLP ? c->metrics_target.url : "none",
	       !logs_on(c)				? "none"
	       : c->logs_exporter == LOGS_EXPORTER_OTLP ? c->logs_target.url
							: "console");
}

static int setup_tracer(const struct sonde_config *c, struct ingest *ig, struct tracer **out)
{
	struct tracer_opts topts = { 0 };
	struct logs_setup ls;
	uint64_t cgroup_id = 0;
	char tracefs[256], why[256];
	struct tracer *t;
	int err;

	err = preflight(c, &cgroup_id, " (select.pids)");
	if (err)
		return err;
	err = mounts_ensure_tracefs(tracefs, sizeof(tracefs));
	if (err) {
		log_error("%s", mounts_tracefs_problem(tracefs, err, why, sizeof(why)));
		return err;
	}
	mounts_ensure_bpffs();

	topts.capture_bytes = c->capture_bytes;
	topts.kernel_conns = c->max_conns * 4 > 65536 ? c->max_conns * 4 : 65536;
	topts.filter_pid = c->npids > 0;
	topts.filter_cgroup = c->cgroup[0] != '\0';
	topts.comm = c->comm[0] ? c->comm : NULL;
	topts.verbose = c->log_level >= LOG_LEVEL_DEBUG;
	topts.tls = true;
	topts.node_context = c->node_context == NODE_CONTEXT_INJECT;
	logs_setup_tracer(c, &topts, &ls);
	topts.logs = logs_on(c);
	t = tracer_open(&topts, on_event, ig);
	if (!t)
		return -errno;
	for (int i = 0; i < c->npids; i++)
		tracer_add_pid(t, c->pids[i]);
	if (c->cgroup[0] && tracer_add_cgroup(t, cgroup_id)) {
		log_error("cannot add cgroup filter: %s", strerror(errno));
		tracer_close(t);
		return -EINVAL;
	}
	tracer_start_tls(t);
	tracer_start_node(t);
	*out = t;
	return 0;
}

static void describe(const struct sonde_config *c, const struct prom_server *ps)
{
	char traces[CONFIG_URL_LEN + 32], metrics[CONFIG_URL_LEN + 32], logs[CONFIG_URL_LEN + 32];

	if (c->traces_exporter == TRACES_EXPORTER_OTLP)
		snprintf(traces, sizeof(traces), "%s (%s)", c->traces_target.url,
			 c->traces_target.protocol == OTLP_PROTOCOL_GRPC ? "grpc"
									 : "http/protobuf");
	else
		snprintf(traces, sizeof(traces), "%s",
			 c->traces_exporter == TRACES_EXPORTER_CONSOLE ? "console" : "none");
	if (c->metrics_exporter == METRICS_EXPORTER_OTLP)
		snprintf(metrics, sizeof(metrics), "%s (%s)", c->metrics_target.url,
			 c->metrics_target.protocol == OTLP_PROTOCOL_GRPC ? "grpc"
									  : "http/protobuf");
	else
		snprintf(metrics, sizeof(metrics), "none");
	if (logs_on(c) && c->logs_exporter == LOGS_EXPORTER_OTLP)
		snprintf(logs, sizeof(logs), "%s (%s)", c->logs_target.url,
			 c->logs_target.protocol == OTLP_PROTOCOL_GRPC ? "grpc" : "http/protobuf");
	else
		snprintf(logs, sizeof(logs), "%s", logs_on(c) ? "console" : "none");
	fprintf(stderr, "sonde: running; traces → %s; metrics → %s; logs → %s; prometheus → ",
		traces, metrics, logs);
	if (ps)
		fprintf(stderr, "http://%s:%u/metrics\n", c->prometheus_address,
			prom_server_port(ps));
	else
		fprintf(stderr, "off\n");
}

/* Stops the exporter (sending what is queued, 5 s at most) and says what
 * happened, on stderr. */
static void finish(struct pipeline *p, const struct ingest *ig, const uint64_t *k)
{
	struct exporter_stats es = { 0 };

	if (p->exporter) {
		exporter_stop(p->exporter, 5000, &es);
		p->exporter = NULL;
	}
	fprintf(stderr,
		"sonde: %llu spans (%llu not sampled, %llu exported, %llu dropped); %llu events, "
		"%llu lost (ring buffer full); %llu parse errors\n",
		(unsigned long long)p->spans, (unsigned long long)p->unsampled,
		(unsigned long long)es.spans_exported,
		(unsigned long long)(es.spans_dropped_full + es.spans_dropped_failed),
		(unsigned long long)ig->stats.events, (unsigned long long)k[SONDE_CNT_RB_FULL],
		(unsigned long long)protocols_parse_errors(&ig->protocols));
	if (p->logs)
		fprintf(stderr,
			"sonde: %llu log records (%llu exported, %llu dropped, %llu "
			"rate-limited)\n",
			(unsigned long long)p->health.logs.records,
			(unsigned long long)es.logs_exported,
			(unsigned long long)(es.logs_dropped_full + es.logs_dropped_failed),
			(unsigned long long)p->health.logs.rate_limited);
	if (es.last_error[0])
		fprintf(stderr, "sonde: last export error: %s\n", es.last_error);
}

int cmd_run(int argc, char **argv)
{
	static struct sonde_config cfg; /* large: keep it off the stack */
	static struct pipeline pl;
	/* SA_RESTART: a stop signal must not cut a span line short in write();
	 * the event wait (epoll) still returns early, as epoll never restarts. */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct prom_server *ps = NULL;
	struct tracer *t = NULL;
	struct k8s_meta *km = NULL;
	struct ingest ig;
	struct protocol_settings settings;
	uint64_t counters[SONDE_CNT__MAX] = { 0 };
	uint64_t next_push, next_housekeeping = 0;
	char err_msg[CONFIG_ERR_LEN];
	bool check_only = take_check_config(&argc, argv);
	int err;

	err = config_load_all(&cfg, argc, argv, environ, err_msg, sizeof(err_msg));
	if (err == 1) {
		usage();
		return 0;
	}
	if (err) {
		log_error("%s", err_msg);
		return 2;
	}
	if (check_only) {
		print_config(&cfg);
		return 0;
	}
	log_current_level = (enum log_level)cfg.log_level;
	if (otlp_transport_global_init()) {
		log_error("cannot initialise libcurl");
		return 1;
	}
	settings = (struct protocol_settings){ .db_query = (uint8_t)cfg.db_query,
					       .db_query_max = (uint16_t)cfg.db_query_max };
	if (ingest_init(&ig, cfg.max_conns, &settings, pipeline_span, &pl)) {
		log_error("out of memory");
		return 1;
	}
	ig.exit_out = pipeline_exit;
	err = 1;
	if (setup_tracer(&cfg, &ig, &t))
		goto out_ingest;
	if (k8s_meta_start(&cfg, &km))
		goto out_tracer;
	if (pipeline_init(&pl, &cfg, km, tracer_ring_has_room, t))
		goto out_tracer;
	if (logs_on(&cfg) && !(pl.logs = logs_setup_start(&cfg, &ig, pipeline_log, &pl)))
		goto out_pipeline;
	if (cfg.prometheus_port) {
		ps = prom_server_start(cfg.prometheus_address, cfg.prometheus_port,
				       pipeline_render_prom, pipeline_healthy, &pl);
		if (!ps)
			goto out_pipeline;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	describe(&cfg, ps);

	next_push = clock_mono_now() + cfg.metric_export_interval_ms * 1000000ull;
	err = 0;
	while (!stop_requested) {
		int n = tracer_poll(t, POLL_MS);
		uint64_t now = clock_mono_now();

		if (n < 0) {
			log_error("reading events failed: %s", strerror(-n));
			err = 1;
			break;
		}
		ingest_tick(&ig, now);
		if (pl.logs)
			logs_tick(pl.logs, now, false);
		output_flush(&pl.console);
		pipeline_release_held(&pl, now, false);
		if (now < next_housekeeping)
			continue;
		next_housekeeping = now + HOUSEKEEPING_NS;
		clock_offset_refresh(&ig.clock, now);
		tracer_counters(t, counters);
		pipeline_publish(&pl, &ig, counters);
		if (now >= next_push) {
			pipeline_push_metrics(&pl);
			next_push = now + cfg.metric_export_interval_ms * 1000000ull;
		}
	}
	/* Drain, then one last snapshot so short runs still report their metrics. */
	while (tracer_poll(t, 0) > 0)
		;
	ingest_flush(&ig);
	if (pl.logs)
		logs_tick(pl.logs, clock_mono_now(), true);
	pipeline_release_held(&pl, clock_mono_now(), true);
	output_flush(&pl.console);
	tracer_counters(t, counters);
	pipeline_publish(&pl, &ig, counters);
	pipeline_push_metrics(&pl);
	prom_server_stop(ps);
	finish(&pl, &ig, counters);
out_pipeline:
	ig.logs = (struct ingest_logs){ 0 };
	logs_free(pl.logs); /* nothing pending: ticked with force above */
	pl.logs = NULL;
	pipeline_destroy(&pl);
out_tracer:
	k8s_meta_stop(km);
	tracer_close(t);
out_ingest:
	ingest_destroy(&ig);
	return err;
}
