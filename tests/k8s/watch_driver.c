/* SPDX-License-Identifier: MIT */
/*
 * k8s-watch-driver: runs pod_watch against a Kubernetes API server (or the
 * stand-in tests/integration/kube_api.py) and prints what the pod store holds
 * and the watcher's counters as JSON lines, for tests/integration/test_k8s_api.py.
 *
 *   k8s-watch-driver (--kubeconfig FILE [--context NAME] | --in-cluster [--sa-dir DIR]
 *                     | --auto) --node NAME [--max-pods N] [--duration-ms N]
 *                     [--interval-ms N] [--watch-timeout S] [--idle-timeout S]
 *                     [--backoff-min-ms N] [--backoff-max-ms N] [--list-limit N]
 *                     [--tombstone-ms N] [-v]
 *   k8s-watch-driver (--kubeconfig FILE | --in-cluster …) --get NS/NAME
 *
 * Lines: {"event":"config",…} once, {"event":"state",…} whenever the counters
 * or the store changed (checked every --interval-ms), {"event":"pods",…} when
 * the store changed, {"event":"stopped","stop_ms":…} at the end (SIGTERM,
 * SIGINT or --duration-ms). --get prints {"event":"pod",…} or {"event":"error",…}.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/clock.h"
#include "k8s/kube_config_load.h"
#include "k8s/kube_owners.h"
#include "k8s/pod_watch.h"
#include "util/log.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void emit(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

static struct json_object *pod_object(const struct k8s_pod_meta *m, bool deleted)
{
	struct json_object *o = json_object_new_object();
	struct json_object *cs = json_object_new_array();
	struct json_object *extra = json_object_new_object();

	add_str(o, "uid", m->uid);
	add_str(o, "namespace", m->namespace_);
	add_str(o, "name", m->name);
	add_str(o, "node", m->node);
	json_object_object_add(o, "deleted", json_object_new_boolean(deleted));
	add_str(o, "service_annotation", m->service_annotation);
	add_str(o, "app_name_label", m->app_name_label);
	add_str(o, "replicaset", m->replicaset);
	add_str(o, "deployment", m->deployment);
	add_str(o, "statefulset", m->statefulset);
	add_str(o, "daemonset", m->daemonset);
	add_str(o, "job", m->job);
	add_str(o, "cronjob", m->cronjob);
	for (int i = 0; i < m->ncontainers; i++) {
		struct json_object *c = json_object_new_object();

		add_str(c, "name", m->containers[i].name);
		add_str(c, "id", m->containers[i].id);
		json_object_array_add(cs, c);
	}
	json_object_object_add(o, "containers", cs);
	for (int i = 0; i < m->nextra; i++)
		add_str(extra, m->extra[i].key, m->extra[i].value);
	json_object_object_add(o, "extra", extra);
	return o;
}

static long rss_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;
	size_t n = strlen(field);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, n) && line[n] == ':') {
			kb = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static void emit_state(struct pod_store *store, uint64_t gen)
{
	struct json_object *o = json_object_new_object();
	struct json_object *so = json_object_new_object();
	struct json_object *wo = json_object_new_object();
	struct pod_store_stats ss;
	struct pod_watch_stats ws;

	pod_store_stats(store, &ss);
	pod_watch_stats(&ws);
	add_str(o, "event", "state");
	json_object_object_add(o, "synced", json_object_new_boolean(pod_watch_synced()));
	add_u64(o, "generation", gen);
	add_u64(so, "pods", ss.pods);
	add_u64(so, "deleted", ss.deleted);
	add_u64(so, "evicted", ss.evicted);
	add_u64(so, "expired", ss.expired);
	json_object_object_add(o, "store", so);
	add_u64(wo, "lists", ws.lists);
	add_u64(wo, "list_pages", ws.list_pages);
	add_u64(wo, "relists_410", ws.relists_410);
	add_u64(wo, "watches", ws.watches);
	add_u64(wo, "watch_drops", ws.watch_drops);
	add_u64(wo, "reconnects", ws.reconnects);
	add_u64(wo, "errors", ws.errors);
	add_u64(wo, "events", ws.events);
	add_u64(wo, "bookmarks", ws.bookmarks);
	add_u64(wo, "bad_events", ws.bad_events);
	add_u64(wo, "owner_lookups", ws.owner_lookups);
	add_u64(wo, "owner_failures", ws.owner_failures);
	add_u64(wo, "owner_fallbacks", ws.owner_fallbacks);
	add_u64(wo, "last_backoff_ms", ws.last_backoff_ms);
	add_str(wo, "resource_version", ws.resource_version);
	add_str(wo, "last_error", ws.last_error);
	json_object_object_add(o, "watch", wo);
	json_object_object_add(o, "rss_kb", json_object_new_int64(rss_kb("VmRSS")));
	json_object_object_add(o, "hwm_kb", json_object_new_int64(rss_kb("VmHWM")));
	emit(o);
}

static void emit_pods(struct pod_store *store, unsigned max)
{
	struct pod_store_entry *e = calloc(max, sizeof(*e));
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	size_t n;

	if (!e) {
		json_object_put(o);
		json_object_put(arr);
		return;
	}
	n = pod_store_snapshot(store, e, max);
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, pod_object(&e[i].meta, e[i].deleted));
	free(e);
	add_str(o, "event", "pods");
	json_object_object_add(o, "pods", arr);
	emit(o);
}

static void emit_error(const char *stage, int ret, const char *msg)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "event", "error");
	add_str(o, "stage", stage);
	json_object_object_add(o, "errno", json_object_new_int(-ret));
	add_str(o, "message", msg);
	emit(o);
}

static unsigned num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end) {
		fprintf(stderr, "k8s-watch-driver: %s is not a number\n", s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kubeconfig", required_argument, NULL, 'k' },
		{ "context", required_argument, NULL, 'c' },
		{ "in-cluster", no_argument, NULL, 'i' },
		{ "auto", no_argument, NULL, 'a' },
		{ "sa-dir", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "max-pods", required_argument, NULL, 'm' },
		{ "duration-ms", required_argument, NULL, 'd' },
		{ "interval-ms", required_argument, NULL, 'I' },
		{ "watch-timeout", required_argument, NULL, 'W' },
		{ "idle-timeout", required_argument, NULL, 'T' },
		{ "backoff-min-ms", required_argument, NULL, 'b' },
		{ "backoff-max-ms", required_argument, NULL, 'B' },
		{ "list-limit", required_argument, NULL, 'l' },
		{ "tombstone-ms", required_argument, NULL, 't' },
		{ "get", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	const char *kubeconfig = NULL, *context = NULL, *sa_dir = NULL, *node = NULL, *get = NULL;
	bool in_cluster = false, use_auto = false;
	struct pod_watch_opts wopts = { 0 };
	struct pod_store_opts sopts = { 0 };
	unsigned duration_ms = 0, interval_ms = 200;
	struct kube_config cfg;
	struct pod_store *store;
	struct json_object *o;
	char err[512];
	uint64_t start, gen = (uint64_t)-1, t0;
	char last_stats[4096] = "";
	int opt, ret;

	log_current_level = LOG_LEVEL_INFO;
	while ((opt = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			kubeconfig = optarg;
			break;
		case 'c':
			context = optarg;
			break;
		case 'i':
			in_cluster = true;
			break;
		case 'a':
			use_auto = true;
			break;
		case 's':
			sa_dir = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'm':
			sopts.max_pods = num(optarg);
			break;
		case 'd':
			duration_ms = num(optarg);
			break;
		case 'I':
			interval_ms = num(optarg);
			break;
		case 'W':
			wopts.watch_timeout_s = num(optarg);
			break;
		case 'T':
			wopts.idle_timeout_s = num(optarg);
			break;
		case 'b':
			wopts.backoff_min_ms = num(optarg);
			break;
		case 'B':
			wopts.backoff_max_ms = num(optarg);
			break;
		case 'l':
			wopts.list_limit = num(optarg);
			break;
		case 't':
			sopts.tombstone_ms = num(optarg);
			break;
		case 'g':
			get = optarg;
			break;
		case 'v':
			log_current_level = LOG_LEVEL_DEBUG;
			break;
		default:
			return 2;
		}
	}

	if (in_cluster)
		ret = kube_config_in_cluster(&cfg, sa_dir, err, sizeof(err));
	else if (use_auto)
		ret = kube_config_auto(&cfg, NULL, sa_dir, err, sizeof(err));
	else if (kubeconfig)
		ret = kube_config_load_kubeconfig(&cfg, kubeconfig, context, err, sizeof(err));
	else
		ret = kube_config_auto(&cfg, NULL, sa_dir, err, sizeof(err));
	if (ret) {
		emit_error("config", ret, err);
		return 1;
	}
	o = json_object_new_object();
	add_str(o, "event", "config");
	add_str(o, "server", cfg.server);
	add_str(o, "source", cfg.source);
	add_str(o, "namespace", cfg.namespace_);
	emit(o);

	if (get) {
		char ns[K8S_NAME_LEN];
		const char *slash = strchr(get, '/');
		struct k8s_pod_meta m;

		snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - get) : 0, get);
		ret = kube_get_pod(&cfg, ns, slash ? slash + 1 : get, &m, err, sizeof(err));
		if (ret) {
			emit_error("get", ret, err);
		} else {
			o = json_object_new_object();
			add_str(o, "event", "pod");
			json_object_object_add(o, "pod", pod_object(&m, false));
			emit(o);
		}
		kube_config_free(&cfg);
		return ret ? 1 : 0;
	}
	if (!node) {
		fprintf(stderr, "k8s-watch-driver: --node is required\n");
		return 2;
	}
	store = pod_store_new(&sopts);
	if (!store)
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ret = pod_watch_start_opts(&cfg, node, store, &wopts);
	if (ret) {
		emit_error("start", ret, strerror(-ret));
		return 1;
	}
	start = clock_mono_ms();
	while (!stop_signal && (!duration_ms || clock_mono_ms() - start < duration_ms)) {
		struct pod_watch_stats ws;
		struct pod_store_stats ss;
		char now[sizeof(last_stats)];
		uint64_t g = pod_store_generation(store);

		usleep(interval_ms * 1000u);
		pod_watch_stats(&ws);
		pod_store_stats(store, &ss);
		/* Print only on change: the test reads every line. */
		snprintf(now, sizeof(now),
			 "%d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %s %s",
			 pod_watch_synced(), (unsigned long long)ws.lists,
			 (unsigned long long)ws.relists_410, (unsigned long long)ws.watches,
			 (unsigned long long)ws.watch_drops, (unsigned long long)ws.reconnects,
			 (unsigned long long)ws.errors, (unsigned long long)ws.events,
			 (unsigned long long)ws.bookmarks, (unsigned long long)ws.owner_lookups,
			 (unsigned long long)ws.owner_fallbacks, (unsigned long long)ss.evicted,
			 (unsigned long long)ss.pods, ws.resource_version, ws.last_error);
		if (g != gen)
			emit_pods(store, sopts.max_pods ? sopts.max_pods : POD_STORE_DEFAULT_MAX);
		if (g != gen || strcmp(now, last_stats)) {
			emit_state(store, g);
			snprintf(last_stats, sizeof(last_stats), "%s", now);
		}
		gen = g;
	}
	t0 = clock_mono_ms();
	pod_watch_stop();
	o = json_object_new_object();
	add_str(o, "event", "stopped");
	add_u64(o, "stop_ms", clock_mono_ms() - t0);
	emit(o);
	emit_pods(store, sopts.max_pods ? sopts.max_pods : POD_STORE_DEFAULT_MAX);
	emit_state(store, pod_store_generation(store));
	pod_store_free(store);
	kube_config_free(&cfg);
	return 0;
}
