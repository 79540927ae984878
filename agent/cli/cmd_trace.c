/* SPDX-License-Identifier: MIT */
/* `sonde trace`: live HTTP spans of chosen processes, and a summary on exit. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "cli/cmd_trace.h"
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

#define MAX_PIDS	      64
#define POLL_MS		      100
#define SUMMARY_MAX_ENDPOINTS 1000

struct trace_args {
	uint32_t pids[MAX_PIDS];
	int npids;
	const char *comm;
	const char *cgroup;
	const char *pod;       /* NAMESPACE/NAME */
	const char *container; /* with pod: only this container */
	const char *kubeconfig;
	char **command; /* after "--" */
	uint64_t duration_ns;
	enum output_format format;
	uint32_t capture_bytes;
	uint32_t max_conns;
	bool stats;
	bool summary;
	bool verbose;
	bool tls;
	bool node_context;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sonde trace [options] [--pid N]... [--comm NAME] [--cgroup PATH]\n"
		"                   [--pod NAMESPACE/NAME [--container C]] [-- COMMAND [ARG]...]\n"
		"\n"
		"Prints every HTTP/1.x request the selected processes serve or send, one line\n"
		"per request, and a per-endpoint summary on exit (Ctrl-C or --duration).\n"
		"Without a selection, every process on the host is traced.\n"
		"\n"
		"  -p, --pid N            trace process N (repeatable)\n"
		"  -c, --comm NAME        trace threads named NAME (as in /proc/PID/comm)\n"
		"  -g, --cgroup PATH      trace processes in this cgroup v2 directory\n"
		"  -P, --pod NS/NAME      trace this Kubernetes pod (on this node)\n"
		"      --container C      with --pod: only this container of the pod\n"
		"      --kubeconfig FILE  credentials for --pod (default: $KUBECONFIG, the\n"
		"                         pod's service account, ~/.kube/config)\n"
		"  -- COMMAND...          run COMMAND and trace it and its children\n"
		"  -d, --duration TIME    stop after TIME (e.g. 30s, 500ms, 2m)\n"
		"  -o, --output FORMAT    text (default) or json: one object per span per line\n"
		"      --capture-bytes N  payload prefix copied per syscall (1-%d, default %d)\n"
		"      --max-conns N      connections tracked at once (default 16384)\n"
		"      --stats            print agent counters on exit\n"
		"      --no-summary       do not print the summary on exit\n"
		"      --no-tls           do not hook TLS libraries (HTTPS is then not seen)\n"
		"      --no-node-context  do not inject the request-context script into\n"
		"                         Node.js processes (see README, \"Node.js\")\n"
		"  -v, --verbose          show libbpf messages and debug logs\n"
		"  -h, --help             show this help\n",
		SONDE_MAX_CAPTURE, SONDE_DEFAULT_CAPTURE);
}

/* "30s", "500ms", "2m", "1h", or plain seconds. */
static int parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	double v = strtod(s, &end);
	double mult;

	if (end == s || v < 0)
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		mult = 1e9;
	else if (!strcmp(end, "ms"))
		mult = 1e6;
	else if (!strcmp(end, "m"))
		mult = 60e9;
	else if (!strcmp(end, "h"))
		mult = 3600e9;
	else
		return -EINVAL;
	*ns = (uint64_t)(v * mult);
	return *ns ? 0 : -EINVAL;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct trace_args *a)
{
	enum {
		OPT_CAPTURE = 256,
		OPT_MAX_CONNS,
		OPT_STATS,
		OPT_NO_SUMMARY,
		OPT_NO_TLS,
		OPT_CONTAINER,
		OPT_KUBECONFIG,
		OPT_NO_NODE_CONTEXT
	};
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "cgroup", required_argument, NULL, 'g' },
		{ "pod", required_argument, NULL, 'P' },
		{ "container", required_argument, NULL, OPT_CONTAINER },
		{ "kubeconfig", required_argument, NULL, OPT_KUBECONFIG },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "capture-bytes", required_argument, NULL, OPT_CAPTURE },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "no-summary", no_argument, NULL, OPT_NO_SUMMARY },
		{ "no-tls", no_argument, NULL, OPT_NO_TLS },
		{ "no-node-context", no_argument, NULL, OPT_NO_NODE_CONTEXT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*a = (struct trace_args){ .capture_bytes = SONDE_DEFAULT_CAPTURE,
				  .max_conns = 16384,
				  .summary = true,
				  .tls = true,
				  .node_context = true };
	optind = 1;
	/* '+': stop at the first non-option, so COMMAND keeps its own options. */
	while ((c = getopt_long(argc, argv, "+p:c:g:P:d:o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (a->npids == MAX_PIDS) {
				log_error("too many --pid (at most %d)", MAX_PIDS);
				return -EINVAL;
			}
			if (parse_u32(optarg, 1, UINT32_MAX, &a->pids[a->npids])) {
				log_error("invalid --pid '%s': expected a process id", optarg);
				return -EINVAL;
			}
			a->npids++;
			break;
		case 'c':
			if (strlen(optarg) >= SONDE_COMM_LEN) {
				log_error("invalid --comm '%s': process names are at most %d "
					  "characters",
					  optarg, SONDE_COMM_LEN - 1);
				return -EINVAL;
			}
			a->comm = optarg;
			break;
		case 'g':
			a->cgroup = optarg;
			break;
		case 'P':
			a->pod = optarg;
			break;
		case OPT_CONTAINER:
			a->container = optarg;
			break;
		case OPT_KUBECONFIG:
			a->kubeconfig = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &a->duration_ns)) {
				log_error("invalid --duration '%s': expected e.g. 30s, 500ms, 2m",
					  optarg);
				return -EINVAL;
			}
			break;
		case 'o':
			if (!strcmp(optarg, "json")) {
				a->format = OUTPUT_JSON;
			} else if (!strcmp(optarg, "text")) {
				a->format = OUTPUT_TEXT;
			} else {
				log_error("invalid --output '%s': expected text or json", optarg);
				return -EINVAL;
			}
			break;
		case OPT_CAPTURE:
			if (parse_u32(optarg, 1, SONDE_MAX_CAPTURE, &a->capture_bytes)) {
				log_error("invalid --capture-bytes '%s': expected 1 to %d", optarg,
					  SONDE_MAX_CAPTURE);
				return -EINVAL;
			}
			break;
		case OPT_MAX_CONNS:
			if (parse_u32(optarg, 16, 1u << 22, &a->max_conns)) {
				log_error("invalid --max-conns '%s': expected 16 to %u", optarg,
					  1u << 22);
				return -EINVAL;
			}
			break;
		case OPT_STATS:
			a->stats = true;
			break;
		case OPT_NO_SUMMARY:
			a->summary = false;
			break;
		case OPT_NO_TLS:
			a->tls = false;
			break;
		case OPT_NO_NODE_CONTEXT:
			a->node_context = false;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		a->command = &argv[optind];
	if (a->container && !a->pod) {
		log_error("--container needs --pod NAMESPACE/NAME");
		return -EINVAL;
	}
	if (a->pod && (a->cgroup || a->command)) {
		log_error("--pod cannot be combined with --cgroup or a command");
		return -EINVAL;
	}
	return 0;
}

/* Checks everything a user can get wrong before touching BPF. */
static int preflight(const struct trace_args *a, uint64_t *cgroup_id)
{
	struct sonde_features f;
	char why[256];

	features_probe(&f);
	if (features_missing(&f, why, sizeof(why))) {
		log_error("%s", why);
		return -EPERM;
	}
	for (int i = 0; i < a->npids; i++) {
		if (!proc_exists(a->pids[i])) {
			log_error("no process with pid %u", a->pids[i]);
			return -ESRCH;
		}
	}
	if (a->cgroup) {
		int err = proc_cgroup_id(a->cgroup, cgroup_id);

		if (err) {
			log_error("cannot use cgroup '%s': %s (expected a cgroup v2 directory, "
				  "e.g. under %s)",
				  a->cgroup, strerror(-err),
				  f.cgroup2_path[0] ? f.cgroup2_path : "/sys/fs/cgroup");
			return err;
		}
	}
	return 0;
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

static bool any_pid_alive(const struct trace_args *a)
{
	for (int i = 0; i < a->npids; i++)
		if (proc_exists(a->pids[i]))
			return true;
	return false;
}

static void print_stats(const struct ingest *ig, const struct output *o,
			const uint64_t k[SONDE_CNT__MAX], bool detailed, const struct tracer *t)
{
	const struct ingest_stats *s = &ig->stats;
	const struct http1_stats *h1 = &ig->protocols.http1.stats;
	const struct http2_stats *h2 = &ig->protocols.http2.stats;
	struct node_inject_stats ns;
	uint64_t links;

	fprintf(stderr,
		"sonde: %" PRIu64 " spans; %" PRIu64 " events lost (ring buffer full); %" PRIu64
		" connections evicted; %" PRIu64 " parse errors\n",
		o->spans, k[SONDE_CNT_RB_FULL], s->conns_evicted,
		h1->parse_errors + h2->hpack_desyncs + h2->frame_sync_lost);
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
		"), replaced without close %" PRIu64 ", data without open %" PRIu64 "\n",
		s->events, s->malformed, s->conn_opens, s->conn_closes, s->conns_evicted,
		s->spans_lost_evicted, s->conns_replaced, s->data_without_open);
	fprintf(stderr,
		"  bytes: %" PRIu64 " moved, %" PRIu64 " captured\n"
		"  http1: spans %" PRIu64 ", parse errors %" PRIu64
		", responses without request %" PRIu64 ", requests dropped (queue full) %" PRIu64
		", framing lost %" PRIu64 "\n",
		s->bytes_total, s->bytes_captured, h1->spans, h1->parse_errors,
		h1->orphan_responses, h1->pending_dropped, h1->lost_sync);
	fprintf(stderr,
		"  http2: spans %" PRIu64 ", header blocks %" PRIu64 " (not fully captured %" PRIu64
		"), header tables out of sync %" PRIu64 " (back in sync %" PRIu64
		"), fields not decodable %" PRIu64 ", frame boundaries lost %" PRIu64
		", degraded connections %" PRIu64 ", streams dropped (too many open) %" PRIu64
		", responses without request %" PRIu64 ", bytes not captured %" PRIu64 "\n",
		h2->spans, h2->blocks, h2->blocks_lost, h2->hpack_desyncs, h2->hpack_resyncs,
		h2->fields_unknown, h2->frame_sync_lost, h2->conns_degraded, h2->streams_dropped,
		h2->orphan_responses, h2->bytes_unseen);
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

int cmd_trace(int argc, char **argv)
{
	struct trace_args a;
	struct tracer_opts topts = { 0 };
	struct output out = { .stream = stdout };
	struct ingest ig;
	struct tracer *t = NULL;
	/* SA_RESTART: a stop signal must not cut a span line short in write();
	 * the event wait (epoll) still returns early, as epoll never restarts. */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	uint64_t counters[SONDE_CNT__MAX] = { 0 };
	uint64_t cgroup_id = 0, deadline = 0, next_rescan = 0;
	static struct trace_pod pod; /* large */
	char tracefs[256];
	pid_t child = 0;
	int release_fd = -1, child_status = 0, err, idle_polls = 0;
	bool child_done = false;

	if (parse_args(argc, argv, &a))
		return 2;
	if (a.verbose)
		log_current_level = LOG_LEVEL_DEBUG;
	if (preflight(&a, &cgroup_id))
		return 1;
	if (a.pod && trace_pod_resolve(&pod, a.pod, a.container, a.kubeconfig))
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

	out.format = a.format;
	if (a.summary)
		out.summary = summary_new(SUMMARY_MAX_ENDPOINTS);
	if (ingest_init(&ig, a.max_conns, NULL, output_span, &out)) {
		log_error("out of memory");
		summary_free(out.summary);
		return 1;
	}

	topts.capture_bytes = a.capture_bytes;
	topts.kernel_conns = a.max_conns * 4 > 65536 ? a.max_conns * 4 : 65536;
	topts.filter_pid = a.npids > 0 || a.command;
	topts.filter_cgroup = a.cgroup || a.pod;
	topts.comm = a.comm;
	topts.follow_children = a.command != NULL;
	topts.verbose = a.verbose;
	topts.tls = a.tls;
	topts.node_context = a.node_context;
	t = tracer_open(&topts, on_event, &ig);
	if (!t) {
		err = 1;
		goto out;
	}
	for (int i = 0; i < a.npids; i++)
		tracer_add_pid(t, a.pids[i]);
	if (a.cgroup && tracer_add_cgroup(t, cgroup_id)) {
		log_error("cannot add cgroup filter: %s", strerror(errno));
		err = 1;
		goto out;
	}
	for (size_t i = 0; a.pod && i < pod.nids; i++) {
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
	if (a.command) {
		child = spawn_held(a.command, &release_fd);
		if (child < 0 || tracer_add_pid(t, (uint32_t)child)) {
			log_error("cannot start '%s': %s", a.command[0], strerror(errno));
			err = 1;
			goto out;
		}
		if (write(release_fd, "x", 1) != 1)
			log_warn("cannot release '%s': %s", a.command[0], strerror(errno));
		close(release_fd);
	}
	/* On stderr in every format: scripts wait for this line before sending traffic. */
	if (a.pod)
		fprintf(stderr, "sonde: tracing pod %s/%s%s%s (%zu cgroups); Ctrl-C to stop\n",
			pod.ns, pod.name, a.container ? " container " : "",
			a.container ? a.container : "", pod.nids);
	else
		fprintf(stderr, "sonde: tracing %s; Ctrl-C to stop\n",
			a.command			? a.command[0]
			: a.npids || a.comm || a.cgroup ? "selected processes"
							: "all processes");
	if (a.duration_ns)
		deadline = clock_mono_now() + a.duration_ns;

	err = 0;
	while (!stop_requested && !out.closed) {
		int n = tracer_poll(t, POLL_MS);

		if (n < 0) {
			log_error("reading events failed: %s", strerror(-n));
			err = 1;
			break;
		}
		output_flush(&out);
		clock_offset_refresh(&ig.clock, clock_mono_now());
		if (deadline && clock_mono_now() >= deadline)
			break;
		/* A restarted or added container gets a new cgroup: follow it. */
		if (a.pod && clock_mono_now() >= next_rescan) {
			uint64_t fresh[16];
			size_t nf = trace_pod_rescan(&pod, fresh, 16);

			for (size_t i = 0; i < nf; i++)
				tracer_add_cgroup(t, fresh[i]);
			next_rescan = clock_mono_now() + 1000000000ull;
		}
		if (child && !child_done && waitpid(child, &child_status, WNOHANG) == child)
			child_done = true;
		/* Once what we trace is gone, drain what is left and stop. */
		if (child_done || (a.npids && !a.command && !any_pid_alive(&a))) {
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
	output_flush(&out);
	tracer_counters(t, counters);
	if (out.summary && !out.closed) {
		if (a.format == OUTPUT_JSON)
			summary_print_json(out.summary, stdout);
		else
			summary_print(out.summary, stdout);
		fflush(stdout);
	}
	print_stats(&ig, &out, counters, a.stats, t);
out:
	tracer_close(t);
	ingest_destroy(&ig);
	summary_free(out.summary);
	return err;
}
