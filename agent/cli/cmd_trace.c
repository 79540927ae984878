/* SPDX-License-Identifier: MIT */
/* `sonde trace`: live HTTP spans of chosen processes, and a summary on exit. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "cli/cmd_trace.h"
#include "cli/logs_setup.h"
#include "cli/preflight.h"
#include "config/config.h"
#include "k8s/trace_pod.h"
#include "host/kernel_features.h"
#include "core/ingest.h"
#include "util/log.h"
#include "host/mounts.h"
#include "cli/output.h"
#include "host/proc.h"
#include "cli/summary.h"
#include "tls/tls_report.h"
#include "nodejs/node_inject.h"
#include "nodejs/node_report.h"
#include "core/tracer.h"

#define POLL_MS		      100
#define SUMMARY_MAX_ENDPOINTS 1000
#define HELP_FLAG_WIDTH	      "22"
#define HELP_COLUMNS	      80

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Generated from the table: the flags `sonde run` shares read the same. */
static void usage(void)
{
	size_t n;
	const struct config_setting *s = config_trace_settings(&n);

	printf("usage: sonde trace [options] [--pid N]... [--comm NAME] [--cgroup PATH]\n"
	       "                   [--pod NAMESPACE/NAME [--container C]] [-- COMMAND [ARG]...]\n"
	       "\n"
	       "Prints every HTTP request (HTTP/1.x, HTTP/2, gRPC) the selected processes serve\n"
	       "or send, one line per request, and a per-endpoint summary on exit (Ctrl-C,\n"
	       "--duration, or when COMMAND or every --pid process exits).\n"
	       "Without a selection, every process on the host is traced.\n"
	       "\n");
	for (size_t i = 0; i < n; i++) {
		char flag[64], extra[160] = "";
		int used;

		snprintf(flag, sizeof(flag), "%c%c%s --%s %s", s[i].short_flag ? '-' : ' ',
			 s[i].short_flag ? s[i].short_flag : ' ', s[i].short_flag ? "," : " ",
			 s[i].flag, s[i].arg ? s[i].arg : "");
		if (s[i].type == CONFIG_T_UINT)
			snprintf(extra, sizeof(extra), "(%lld-%lld, default %s)", s[i].min,
				 s[i].max, s[i].default_text);
		else if (s[i].default_text)
			snprintf(extra, sizeof(extra), "(default %s)", s[i].default_text);
		used = printf("  %-" HELP_FLAG_WIDTH "s %s", flag, s[i].help);
		/* what does not fit in the line goes under the help */
		if (extra[0] && used + 1 + (int)strlen(extra) > HELP_COLUMNS)
			printf("\n  %-" HELP_FLAG_WIDTH "s %s\n", "", extra);
		else
			printf("%s%s\n", extra[0] ? " " : "", extra);
	}
	printf("  %-" HELP_FLAG_WIDTH "s %s\n  %-" HELP_FLAG_WIDTH "s %s\n", "-- COMMAND...",
	       "run COMMAND and trace it and every process it forks", "-h, --help",
	       "show this help");
}

/* Forks COMMAND stopped on a pipe, so its pid is in the filter before it runs. */
static pid_t spawn_held(char **command, int *release_fd)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		char go;

		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(127); /* sonde gave up before starting us */
		execvp(command[0], command);
		fprintf(stderr, "sonde: cannot run '%s': %s\n", command[0], strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*release_fd = fds[1];
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 20; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static bool any_pid_alive(const struct sonde_config *c)
{
	for (int i = 0; i < c->npids; i++)
		if (proc_exists(c->pids[i]))
			return true;
	return false;
}

static void print_link_stats(const struct linker_stats *ls)
{
	fprintf(stderr, "  links:");
	for (int i = SPAN_LINK_ROOT; i < SPAN_LINK__COUNT; i++)
		fprintf(stderr, "%s %s %" PRIu64, i ? "," : "", span_link_name((uint8_t)i),
			ls->links[i]);
	fprintf(stderr,
		"; roots where a parent was expected %" PRIu64 " (a server waited in vain %" PRIu64
		"), calls a hook said serve no request %" PRIu64 ", event-loop threads %" PRIu64
		" (calls not linked %" PRIu64 "), hook hints %" PRIu64 " (unused %" PRIu64
		"), spawns %" PRIu64 ", spans held %" PRIu64 " (hold full %" PRIu64
		"), contexts evicted %" PRIu64 "\n",
		ls->roots_expected, ls->roots_waited, ls->roots_no_request, ls->event_loop_units,
		ls->unlinked_event_loop, ls->hints, ls->hints_unused, ls->spawns, ls->held,
		ls->held_full, ls->evicted);
}

static void print_log_stats(const struct logs *lg, uint64_t kernel_limited)
{
	struct logs_stats s;

	logs_get_stats(lg, &s);
	fprintf(stderr,
		"  logs: writes %" PRIu64 " (%" PRIu64 " bytes, %" PRIu64
		" not copied: budget), records %" PRIu64 " (in a request %" PRIu64
		"; in one but without its ids %" PRIu64 "), lines %" PRIu64 " (joined %" PRIu64
		", ended by another writer %" PRIu64 "), buffered streams %" PRIu64 ", cut %" PRIu64
		", binary bytes %" PRIu64 ", bytes lost %" PRIu64 ", rate-limited %" PRIu64
		", waited for their trace %" PRIu64 ", streams evicted %" PRIu64 "\n",
		s.writes, s.bytes, kernel_limited, s.records, s.in_request, s.lines.unlinked,
		s.lines.lines, s.lines.joined, s.lines.interleaved, s.lines.buffered, s.lines.cut,
		s.lines.binary, s.lines.lost, s.rate_limited, s.held, s.streams_evicted);
}

/* A line per protocol: its own counters, as it names them. */
static void print_protocol_stats(const struct protocols *all)
{
	struct protocol_counter c[PROTOCOL_COUNTERS_MAX];

	for (size_t i = 0; i < PROTOCOLS_MAX; i++) {
		const struct protocol *p = protocol_at(i);
		size_t n = p ? protocol_counters(all, p, c) : 0;

		if (!n)
			continue;
		fprintf(stderr, "  %s:", p->name);
		for (size_t j = 0; j < n; j++)
			fprintf(stderr, "%s %s %" PRIu64, j ? "," : "", c[j].text, c[j].value);
		fprintf(stderr, "\n");
	}
}

static void print_stats(const struct ingest *ig, const struct output *o,
			const uint64_t k[SONDE_CNT__MAX], bool detailed, const struct tracer *t,
			const struct logs *lg)
{
	const struct ingest_stats *s = &ig->stats;
	struct node_inject_stats ns;
	uint64_t links;

	fprintf(stderr,
		"sonde: %" PRIu64 " spans; %" PRIu64 " events lost (ring buffer full); %" PRIu64
		" connections evicted; %" PRIu64 " parse errors\n",
		o->spans, k[SONDE_CNT_RB_FULL], s->conns_evicted,
		protocols_parse_errors(&ig->protocols));
	if (!detailed)
		return;
	fprintf(stderr,
		"  kernel: ring buffer full %" PRIu64 ", capture failures %" PRIu64
		", non-HTTP sockets ignored %" PRIu64 ", connection map full %" PRIu64
		", child filter full %" PRIu64 "\n",
		k[SONDE_CNT_RB_FULL], k[SONDE_CNT_CAPTURE_FAIL], k[SONDE_CNT_CLASSIFY_GIVEUP],
		k[SONDE_CNT_CONN_MAP_FULL], k[SONDE_CNT_FILTER_ADD_FAIL]);
	fprintf(stderr,
		"  agent: events %" PRIu64 " (malformed %" PRIu64 "), connections opened %" PRIu64
		", closed %" PRIu64 ", evicted %" PRIu64 " (requests lost %" PRIu64
		"), replaced without close %" PRIu64 ", data without open %" PRIu64
		", protocol sessions without memory %" PRIu64 "\n",
		s->events, s->malformed, s->conn_opens, s->conn_closes, s->conns_evicted,
		s->spans_lost_evicted, s->conns_replaced, s->data_without_open,
		s->session_alloc_failed);
	fprintf(stderr, "  bytes: %" PRIu64 " moved, %" PRIu64 " captured\n", s->bytes_total,
		s->bytes_captured);
	print_protocol_stats(&ig->protocols);
	print_link_stats(&ig->linker.stats);
	if (o->tree)
		fprintf(stderr,
			"  tree: %" PRIu64 " traces printed, %" PRIu64 " without their root\n",
			o->tree->stats.traces, o->tree->stats.rootless);
	if (lg)
		print_log_stats(lg, k[SONDE_CNT_LOG_LIMITED]);
	if (o->write_errors)
		fprintf(stderr, "  output: %" PRIu64 " spans could not be written\n",
			o->write_errors);
	tls_report_text(stderr, "  ", tracer_tls(t), k[SONDE_CNT_TLS_NO_FD]);
	if (tracer_node_stats(t, &ns, &links))
		node_report_text(stderr, "  ", &ns, links);
}

static int on_event(void *ctx, const void *data, size_t size)
{
	ingest_event(ctx, data, size);
	return 0;
}

/* What a user wrote wrong on the command line: one line, and where to look. */
static int bad_usage(const char *why)
{
	fprintf(stderr, "sonde trace: %s (see sonde trace --help)\n", why);
	return 2;
}

int cmd_trace(int argc, char **argv)
{
	static struct sonde_config cfg; /* large: keep it off the stack */
	const struct sonde_config *c = &cfg;
	char **command = NULL; /* after "--" */
	const char *pod_name, *container;
	char why[CONFIG_ERR_LEN];
	struct tracer_opts topts = { 0 };
	struct output out = { .stream = stdout };
	struct ingest ig;
	struct protocol_settings settings;
	struct tracer *t = NULL;
	/* SA_RESTART: a stop signal must not cut a span line short in write();
	 * the event wait (epoll) still returns early, as epoll never restarts. */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	uint64_t counters[SONDE_CNT__MAX] = { 0 };
	uint64_t cgroup_id = 0, deadline = 0, next_rescan = 0;
	static struct trace_pod pod; /* large */
	static struct tree tree;
	struct logs_setup ls;
	struct logs *lg = NULL;
	char tracefs[256];
	pid_t child = 0;
	int release_fd = -1, child_status = 0, err, idle_polls = 0, at;
	bool child_done = false;

	err = config_load_trace(&cfg, argc, argv, &at, why, sizeof(why));
	if (err == 1) {
		usage();
		return 0;
	}
	if (err)
		return bad_usage(why);
	if (at < argc)
		command = &argv[at];
	pod_name = c->trace.pod[0] ? c->trace.pod : NULL;
	container = c->trace.container[0] ? c->trace.container : NULL;
	if (c->trace.verbose)
		log_current_level = LOG_LEVEL_DEBUG;
	if (preflight(c, &cgroup_id, ""))
		return 1;
	if (pod_name && trace_pod_resolve(&pod, pod_name, container,
					  c->k8s_kubeconfig[0] ? c->k8s_kubeconfig : NULL))
		return 1;
	err = mounts_ensure_tracefs(tracefs, sizeof(tracefs));
	if (err) {
		log_error("tracefs is not mounted and mounting it failed: %s (mount it with `mount "
			  "-t tracefs tracefs /sys/kernel/tracing`)",
			  strerror(-err));
		return 1;
	}
	if (mounts_ensure_bpffs())
		log_debug("bpffs is not mounted and could not be mounted (not needed for tracing)");

	out.format = c->trace.output == TRACE_OUTPUT_JSON ? OUTPUT_JSON : OUTPUT_TEXT;
	/* One privacy rule for every output: query strings only when asked. */
	out.with_query = c->capture_query;
	if (c->trace.tree) {
		if (out.format == OUTPUT_JSON) {
			log_error("--tree prints text: JSON spans carry trace_id and "
				  "parent_span_id instead");
			return 2;
		}
		if (tree_init(&tree, c->capture_query)) {
			log_error("out of memory");
			return 1;
		}
		out.tree = &tree;
	}
	if (!c->trace.no_summary)
		out.summary = summary_new(SUMMARY_MAX_ENDPOINTS);
	settings = (struct protocol_settings){ .db_query = (uint8_t)c->db_query,
					       .db_query_max = (uint16_t)c->db_query_max };
	if (ingest_init(&ig, c->max_conns, &settings, output_span, &out)) {
		log_error("out of memory");
		summary_free(out.summary);
		tree_free(&tree);
		return 1;
	}

	topts.capture_bytes = c->capture_bytes;
	topts.kernel_conns = c->max_conns * 4 > 65536 ? c->max_conns * 4 : 65536;
	topts.filter_pid = c->npids > 0 || command;
	topts.filter_cgroup = c->cgroup[0] || pod_name;
	topts.comm = c->comm[0] ? c->comm : NULL;
	topts.follow_children = command != NULL;
	topts.verbose = c->trace.verbose;
	topts.tls = !c->trace.no_tls;
	topts.node_context = c->node_context == NODE_CONTEXT_INJECT;
	logs_setup_tracer(c, &topts, &ls);
	/* What reads our output (`| jq`, `| less`) reads our stdout's pipe. */
	out.out_pipe = proc_fd_pipe((uint32_t)getpid(), 1);
	if (c->logs_enabled && !(lg = logs_setup_start(c, &ig, output_log, &out))) {
		err = 1;
		goto out;
	}
	t = tracer_open(&topts, on_event, &ig);
	if (!t) {
		err = 1;
		goto out;
	}
	for (int i = 0; i < c->npids; i++)
		tracer_add_pid(t, c->pids[i]);
	if (c->cgroup[0] && tracer_add_cgroup(t, cgroup_id)) {
		log_error("cannot add cgroup filter: %s", strerror(errno));
		err = 1;
		goto out;
	}
	for (size_t i = 0; pod_name && i < pod.nids; i++) {
		if (tracer_add_cgroup(t, pod.ids[i])) {
			log_error("cannot add cgroup filter: %s", strerror(errno));
			err = 1;
			goto out;
		}
	}
	tracer_start_tls(t);
	tracer_start_node(t);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* `sonde trace | head`: a closed pipe ends tracing cleanly instead of killing us. */
	signal(SIGPIPE, SIG_IGN);
	if (command) {
		child = spawn_held(command, &release_fd);
		if (child < 0 || tracer_add_pid(t, (uint32_t)child)) {
			log_error("cannot start '%s': %s", command[0], strerror(errno));
			err = 1;
			goto out;
		}
		if (write(release_fd, "x", 1) != 1)
			log_warn("cannot release '%s': %s", command[0], strerror(errno));
		close(release_fd);
	}
	/* On stderr in every format: scripts wait for this line before sending traffic. */
	if (pod_name)
		fprintf(stderr, "sonde: tracing pod %s/%s%s%s (%zu cgroups); Ctrl-C to stop\n",
			pod.ns, pod.name, container ? " container " : "",
			container ? container : "", pod.nids);
	else
		fprintf(stderr, "sonde: tracing %s; Ctrl-C to stop\n",
			command					 ? command[0]
			: c->npids || c->comm[0] || c->cgroup[0] ? "selected processes"
								 : "all processes");
	if (c->trace.duration_ns)
		deadline = clock_mono_now() + c->trace.duration_ns;

	err = 0;
	while (!stop_requested && !out.closed) {
		int n = tracer_poll(t, POLL_MS);

		if (n < 0) {
			log_error("reading events failed: %s", strerror(-n));
			err = 1;
			break;
		}
		ingest_tick(&ig, clock_mono_now());
		if (lg)
			logs_tick(lg, clock_mono_now(), false);
		output_flush(&out);
		clock_offset_refresh(&ig.clock, clock_mono_now());
		if (deadline && clock_mono_now() >= deadline)
			break;
		/* A restarted or added container gets a new cgroup: follow it. */
		if (pod_name && clock_mono_now() >= next_rescan) {
			uint64_t fresh[16];
			size_t nf = trace_pod_rescan(&pod, fresh, 16);

			for (size_t i = 0; i < nf; i++)
				tracer_add_cgroup(t, fresh[i]);
			next_rescan = clock_mono_now() + 1000000000ull;
		}
		if (child && !child_done && waitpid(child, &child_status, WNOHANG) == child)
			child_done = true;
		/* Once what we trace is gone, drain what is left and stop. */
		if (child_done || (c->npids && !command && !any_pid_alive(c))) {
			if (n == 0 && ++idle_polls >= 2)
				break;
		}
	}
	if (child && !child_done)
		stop_child(child);
	else if (child_done && WIFEXITED(child_status))
		err = WEXITSTATUS(child_status);
	else if (child_done && WIFSIGNALED(child_status))
		err = 128 + WTERMSIG(child_status); /* as a shell reports it */
	while (tracer_poll(t, 0) > 0)
		;
	ingest_flush(&ig);
	if (lg)
		logs_tick(lg, clock_mono_now(), true);
	output_finish(&out);
	tracer_counters(t, counters);
	if (out.summary && !out.closed) {
		if (out.format == OUTPUT_JSON)
			summary_print_json(out.summary, stdout);
		else
			summary_print(out.summary, stdout);
		fflush(stdout);
	}
	print_stats(&ig, &out, counters, c->trace.stats, t, lg);
out:
	tracer_close(t);
	ingest_destroy(&ig);
	logs_free(lg);
	summary_free(out.summary);
	tree_free(&tree);
	return err;
}
