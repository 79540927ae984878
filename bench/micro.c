// SPDX-License-Identifier: MIT
/*
 * Hot paths of the agent in isolation, for `make bench`: each case runs many
 * times in batches and prints the median nanoseconds per operation over the
 * batches, so one preempted batch on a noisy machine does not move the figure.
 * Links the pure code only: no BPF, no I/O.
 *
 * usage: micro [--quick]; one line per case: "name ns_per_op what".
 *        micro --count CASE N: runs CASE once with N iterations and no timing,
 *        for instruction counts (valgrind --tool=callgrind; the difference of
 *        two counts divided by the difference of N is the cost of one).
 *        micro --quick --only CASE: that case alone, timed (bench/run.py's
 *        host-speed probe: http1_parse, ~5 ms).
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sonde_event.h"
#include "protocols/http1/http1.h"
#include "core/ingest.h"
#include "export/otlp_encode.h"
#include "export/otlp_transport.h"
#include "logs/logs.h"
#include "pipeline/pipeline.h"
#include "host/resource.h"
#include "spans/trace_context.h"
#include "../tests/fake_transport.h"

#define BATCHES 31

/* What wrk and a browser-like client send, and nginx's answer to the bench. */
static const char request[] =
	"GET /api/items/12345?limit=10 HTTP/1.1\r\n"
	"Host: 127.0.0.1:18080\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\n"
	"Accept: */*\r\n"
	"Accept-Encoding: gzip, deflate\r\n"
	"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
	"\r\n";
static const char response[] = "HTTP/1.1 200 OK\r\n"
			       "Server: nginx/1.22.1\r\n"
			       "Date: Thu, 26 Nov 2026 16:00:00 GMT\r\n"
			       "Content-Type: text/plain\r\n"
			       "Content-Length: 13\r\n"
			       "Connection: keep-alive\r\n"
			       "\r\n"
			       "hello, bench\n";

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *ctx, size_t iters);

/* Median over BATCHES of ns per operation; ops_per_iter operations per
 * iteration. clk: CLOCK_MONOTONIC, or CLOCK_PROCESS_CPUTIME_ID for cases whose
 * work is shared with another thread (the CPU of both is what the agent pays). */
static double run_case(clockid_t clk, bench_fn fn, void *ctx, size_t iters, size_t ops_per_iter)
{
	double per_op[BATCHES];

	fn(ctx, iters / 10 + 1); /* warm caches and the allocator */
	for (int b = 0; b < BATCHES; b++) {
		uint64_t t0 = clock_ns(clk);

		fn(ctx, iters);
		per_op[b] = (double)(clock_ns(clk) - t0) / (double)(iters * ops_per_iter);
	}
	qsort(per_op, BATCHES, sizeof(per_op[0]), cmp_double);
	return per_op[BATCHES / 2];
}

/* --- HTTP/1: one request head through the incremental parser --- */

struct parse_ctx {
	struct http1_parser p;
	uint64_t heads;
};

static int on_head(void *ctx, const struct http1_head *h)
{
	struct parse_ctx *pc = ctx;

	pc->heads += h->method.len;
	return 0;
}

static void on_end(void *ctx, const struct http1_end *e)
{
	(void)ctx;
	(void)e;
}

static void bench_http1_parse(void *ctx, size_t iters)
{
	static const struct http1_callbacks cb = { .on_head = on_head, .on_end = on_end };
	struct parse_ctx *pc = ctx;

	for (size_t i = 0; i < iters; i++)
		http1_parser_feed(&pc->p, (const uint8_t *)request, sizeof(request) - 1,
				  sizeof(request) - 1, i, &cb, pc);
}

/* --- ingest: the request and response events of one exchange → one span --- */

struct ingest_ctx {
	struct ingest ig;
	uint8_t req_ev[sizeof(struct sonde_data) + sizeof(request)];
	uint8_t resp_ev[sizeof(struct sonde_data) + sizeof(response)];
	uint64_t spans;
	uint64_t ts;
};

static void count_span(void *ctx, const struct span *sp)
{
	struct ingest_ctx *ic = ctx;

	ic->spans += sp->status;
}

static void data_event(uint8_t *buf, const char *payload, size_t len, uint8_t dir)
{
	struct sonde_data d = {
		.hdr = { .type = SONDE_EV_DATA, .tgid = 4242, .tid = 4242, .fd = 7, .conn_gen = 1 },
		.total = (int64_t)len,
		.captured = (uint32_t)len,
		.dir = dir,
		.syscall = dir == SONDE_DIR_INGRESS ? SONDE_SYS_RECVFROM : SONDE_SYS_WRITEV,
		.role = SONDE_ROLE_SERVER,
		.proto = SONDE_PROTO_HTTP1,
	};

	memcpy(buf, &d, sizeof(d));
	memcpy(buf + sizeof(d), payload, len);
}

static int ingest_setup(struct ingest_ctx *ic, span_out_fn out, void *out_ctx)
{
	struct sonde_conn_open open = {
		.hdr = { .type = SONDE_EV_CONN_OPEN,
			 .tgid = 4242,
			 .tid = 4242,
			 .fd = 7,
			 .conn_gen = 1 },
		.local_port = 18080,
		.remote_port = 51234,
		.family = AF_INET,
		.role = SONDE_ROLE_SERVER,
		.proto = SONDE_PROTO_HTTP1,
		.comm = "nginx",
	};

	if (ingest_init(&ic->ig, 16384, NULL, out ? out : count_span, out ? out_ctx : ic))
		return -1;
	memcpy(open.local_addr, "\x7f\0\0\x01", 4);
	memcpy(open.remote_addr, "\x7f\0\0\x01", 4);
	data_event(ic->req_ev, request, sizeof(request) - 1, SONDE_DIR_INGRESS);
	data_event(ic->resp_ev, response, sizeof(response) - 1, SONDE_DIR_EGRESS);
	return ingest_event(&ic->ig, &open, sizeof(open));
}

static void bench_ingest(void *ctx, size_t iters)
{
	struct ingest_ctx *ic = ctx;
	struct sonde_data *req = (struct sonde_data *)ic->req_ev;
	struct sonde_data *resp = (struct sonde_data *)ic->resp_ev;

	for (size_t i = 0; i < iters; i++) {
		req->hdr.ts_ns = ++ic->ts * 1000;
		ingest_event(&ic->ig, ic->req_ev, sizeof(*req) + sizeof(request) - 1);
		resp->hdr.ts_ns = ++ic->ts * 1000;
		ingest_event(&ic->ig, ic->resp_ev, sizeof(*resp) + sizeof(response) - 1);
	}
}

/* --- OTLP: a batch of spans of one process → ExportTraceServiceRequest --- */

#define OTLP_BATCH 512

struct otlp_ctx {
	struct export_span spans[OTLP_BATCH];
	size_t bytes;
};

static int otlp_setup(struct otlp_ctx *oc)
{
	static const struct config_kv_list none;
	static const char env[] = "OTEL_SERVICE_NAME=bench-api";
	struct resource *res =
		resource_new(4242, "nginx", "bench-host", env, sizeof(env), &none, "bench");
	struct sampler smp = { .kind = SAMPLER_ALWAYS_ON, .ratio = 1.0 };
	struct id_rng rng;

	if (!res)
		return -1;
	id_rng_seed(&rng, 42);
	for (size_t i = 0; i < OTLP_BATCH; i++) {
		struct export_span *es = &oc->spans[i];
		struct span *s = &es->span;

		memset(es, 0, sizeof(*es));
		s->kind = SPAN_SERVER;
		s->pid = 4242;
		snprintf(s->comm, sizeof(s->comm), "nginx");
		s->start_ns = 1795635721123456789ull + i * 1000000;
		s->end_ns = s->start_ns + 812000;
		snprintf(s->method, sizeof(s->method), "GET");
		snprintf(s->target, sizeof(s->target), "/api/items/%zu?limit=10", i);
		s->status = i % 10 ? 200 : 500;
		s->version_minor = 1;
		s->response_body_bytes = 13;
		s->local = (struct span_endpoint){ .family = AF_INET, .port = 18080 };
		s->peer = (struct span_endpoint){ .family = AF_INET, .port = 51234 };
		memcpy(s->local.addr, "\x7f\0\0\x01", 4);
		memcpy(s->peer.addr, "\x7f\0\0\x01", 4);
		snprintf(s->host, sizeof(s->host), "127.0.0.1:18080");
		snprintf(s->user_agent, sizeof(s->user_agent), "Mozilla/5.0 bench/1.0");
		es->res = res;
		/* Ids as the linker gives them (random, non-zero), then the
		 * sampler's decision. */
		for (size_t k = 0; k < sizeof(s->trace_id); k += 8) {
			uint64_t v = id_rng_next(&rng) | 1;

			memcpy(s->trace_id + k, &v, 8);
		}
		{
			uint64_t v = id_rng_next(&rng) | 1;

			memcpy(s->span_id, &v, 8);
		}
		trace_ids_for(&es->ids, s, &smp);
		snprintf(es->route, sizeof(es->route), "/api/items/{id}");
	}
	return 0;
}

static void bench_otlp(void *ctx, size_t iters)
{
	struct otlp_ctx *oc = ctx;

	for (size_t i = 0; i < iters; i++) {
		uint8_t *out = NULL;
		size_t len = 0;

		if (otlp_encode_traces(oc->spans, OTLP_BATCH, false, &out, &len) == 0)
			oc->bytes = len;
		free(out);
	}
}

/*
 * --- The whole userspace path of one exchange: its two ring buffer events →
 * ingest → pipeline_span (resource, route, RED metrics, sampling) and, when
 * spans are exported, the exporter's queue and thread → OTLP encoding. The
 * real pipeline.c and exporter.c; only the network is replaced (the life
 * cycle in tests/fake_transport.h, the send below), so what is left out is
 * the send itself.
 */

/* Export requests "sent", for the bench to wait on. */
static pthread_mutex_t sent_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sent_cond = PTHREAD_COND_INITIALIZER;
static uint64_t sent_requests, sent_bytes;

void otlp_transport_send(struct otlp_transport *t, const uint8_t *body, size_t len,
			 struct export_outcome *out)
{
	(void)t;
	(void)body;
	memset(out, 0, sizeof(*out));
	out->result = EXPORT_OK;
	pthread_mutex_lock(&sent_lock);
	sent_requests++;
	sent_bytes += len;
	pthread_cond_signal(&sent_cond);
	pthread_mutex_unlock(&sent_lock);
}

struct path_ctx {
	struct sonde_config cfg;
	struct pipeline p;
	struct ingest_ctx ic;
	bool export;
};

static int path_setup(struct path_ctx *pc, bool export)
{
	config_init(&pc->cfg);
	pc->export = export;
	pc->cfg.traces_exporter = export ? TRACES_EXPORTER_OTLP : TRACES_EXPORTER_NONE;
	pc->cfg.metrics_exporter = METRICS_EXPORTER_NONE;
	pc->cfg.sampler = SAMPLER_ALWAYS_ON;
	if (pipeline_init(&pc->p, &pc->cfg, NULL, NULL, NULL))
		return -1;
	/* The request's pid: its resource is read from /proc once, then cached. */
	return ingest_setup(&pc->ic, pipeline_span, &pc->p);
}

static void path_destroy(struct path_ctx *pc)
{
	ingest_destroy(&pc->ic.ig);
	pipeline_destroy(&pc->p);
}

/* iters batches of bsp_max_export_batch_size exchanges; with export, waits
 * (without spinning) for the exporter thread to have sent each batch, so the
 * queue never overflows and the CPU of both threads is counted. */
static void bench_path(void *ctx, size_t iters)
{
	struct path_ctx *pc = ctx;
	uint32_t batch = pc->cfg.bsp_max_export_batch_size;

	for (size_t i = 0; i < iters; i++) {
		uint64_t want;

		pthread_mutex_lock(&sent_lock);
		want = sent_requests + 1;
		pthread_mutex_unlock(&sent_lock);
		bench_ingest(&pc->ic, batch);
		if (!pc->export)
			continue;
		pthread_mutex_lock(&sent_lock);
		while (sent_requests < want)
			pthread_cond_wait(&sent_cond, &sent_lock);
		pthread_mutex_unlock(&sent_lock);
	}
}

/* bench/micro_hpack.c: ns per header block. */
double bench_hpack_ns(int quick);

struct bench_case {
	const char *name;
	void *ctx;
	int (*setup)(void *ctx);
	void (*teardown)(void *ctx);
	bench_fn fn;
	clockid_t clk;
	size_t iters; /* per batch, before --quick's scale */
	size_t ops_per_iter;
	const char *what;
};

/* --- Logs: a write of one line → record (severity, UTF-8) → OTLP LogRecord --- */

static const char log_line[] = "{\"level\":\"warn\",\"msg\":\"slow query\",\"table\":\"orders\","
			       "\"duration_ms\":34,\"customer\":7}\n";

struct log_ctx {
	struct ingest ig;
	struct logs *logs;
	struct resource *res;
	struct encoded_span slot;
	uint8_t ev[sizeof(struct sonde_data) + sizeof(log_line)];
	uint64_t ts, pos, bytes;
};

static void encode_record(void *ctx, const struct log_record *r)
{
	struct log_ctx *lc = ctx;

	if (!encoded_log_encode(&lc->slot, lc->res, r, r->time_ns))
		lc->bytes += lc->slot.len;
	encoded_span_free(&lc->slot);
}

static int log_setup(void *ctx)
{
	struct log_ctx *lc = ctx;
	struct logs_opts o = { .out = encode_record, .out_ctx = lc };
	struct sonde_data d = {
		.hdr = { .type = SONDE_EV_LOG, .tgid = 4242, .tid = 4242, .fd = 2 },
		.total = sizeof(log_line) - 1,
		.captured = sizeof(log_line) - 1,
		.dir = SONDE_DIR_EGRESS,
		.syscall = SONDE_SYS_WRITE,
	};

	if (ingest_init(&lc->ig, 64, NULL, count_span, NULL))
		return -1;
	lc->logs = logs_new(&o);
	lc->res = resource_new(4242, "python3", "node-1", NULL, 0, NULL, "bench");
	if (!lc->logs || !lc->res)
		return -1;
	lc->ig.logs = (struct ingest_logs){ .write = logs_write, .ctx = lc->logs };
	memcpy(lc->ev, &d, sizeof(d));
	memcpy(lc->ev + sizeof(d), log_line, sizeof(log_line) - 1);
	lc->pos = 1;
	return 0;
}

static void bench_log(void *ctx, size_t iters)
{
	struct log_ctx *lc = ctx;
	struct sonde_data *ev = (struct sonde_data *)lc->ev;

	for (size_t i = 0; i < iters; i++) {
		ev->hdr.ts_ns = ++lc->ts * 20000; /* 50,000 lines a second */
		ev->stream_pos = lc->pos;
		lc->pos += sizeof(log_line) - 1;
		ingest_event(&lc->ig, lc->ev, sizeof(*ev) + sizeof(log_line) - 1);
	}
}

static void log_teardown(void *ctx)
{
	struct log_ctx *lc = ctx;

	logs_free(lc->logs);
	ingest_destroy(&lc->ig);
	resource_put(lc->res);
}

static struct log_ctx lc;
static struct parse_ctx pc;
static struct ingest_ctx ic;
static struct otlp_ctx oc;
static struct path_ctx path_metrics, path_export;

static int parse_setup(void *ctx)
{
	http1_parser_init(&((struct parse_ctx *)ctx)->p, HTTP1_REQUEST);
	return 0;
}

static void parse_teardown(void *ctx)
{
	http1_parser_free(&((struct parse_ctx *)ctx)->p);
}

static int ingest_case_setup(void *ctx)
{
	return ingest_setup(ctx, NULL, NULL);
}

static void ingest_teardown(void *ctx)
{
	ingest_destroy(&((struct ingest_ctx *)ctx)->ig);
}

static int otlp_case_setup(void *ctx)
{
	return otlp_setup(ctx);
}

static void otlp_teardown(void *ctx)
{
	resource_put(((struct otlp_ctx *)ctx)->spans[0].res);
}

static int path_metrics_setup(void *ctx)
{
	return path_setup(ctx, false);
}

static int path_export_setup(void *ctx)
{
	return path_setup(ctx, true);
}

static void path_teardown(void *ctx)
{
	path_destroy(ctx);
}

static const struct bench_case cases[] = {
	{ "http1_parse", &pc, parse_setup, parse_teardown, bench_http1_parse, CLOCK_MONOTONIC, 2000,
	  1, "ns per request head parsed (235 bytes)" },
	{ "ingest_exchange", &ic, ingest_case_setup, ingest_teardown, bench_ingest, CLOCK_MONOTONIC,
	  1000, 1, "ns per request+response events to span" },
	{ "hpack_decode", NULL, NULL, NULL, NULL, CLOCK_MONOTONIC, 0, 1,
	  "ns per header block decoded" },
	{ "otlp_encode", &oc, otlp_case_setup, otlp_teardown, bench_otlp, CLOCK_MONOTONIC, 2,
	  OTLP_BATCH, "ns per span encoded (batches of 512)" },
	{ "span_path_metrics", &path_metrics, path_metrics_setup, path_teardown, bench_path,
	  CLOCK_MONOTONIC, 2, 512,
	  "ns per exchange: events -> span -> resource, route, RED metrics (traces off)" },
	{ "span_path_export", &path_export, path_export_setup, path_teardown, bench_path,
	  CLOCK_PROCESS_CPUTIME_ID, 2, 512,
	  "ns CPU per exchange: the same -> exporter queue and thread -> OTLP (no send)" },
	{ "log_line", &lc, log_setup, log_teardown, bench_log, CLOCK_MONOTONIC, 2000, 1,
	  "ns per log line: write event -> record (severity, UTF-8) -> OTLP LogRecord" },
};

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	size_t scale = quick ? 1 : 5;
	const char *only = NULL;
	bool untimed = false;
	size_t count = 0;

	if (argc == 4 && !strcmp(argv[1], "--count")) {
		only = argv[2];
		untimed = true;
		count = strtoul(argv[3], NULL, 10);
	} else if (argc == 4 && quick && !strcmp(argv[2], "--only")) {
		only = argv[3];
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bench_case *c = &cases[i];
		void *ctx;

		if (only && strcmp(only, c->name))
			continue;
		if (!c->fn) {
			printf("hpack_decode %.1f %s\n", bench_hpack_ns(quick), c->what);
			continue;
		}
		ctx = c->ctx;
		if (c->setup(ctx)) {
			fprintf(stderr, "micro: %s: setup failed\n", c->name);
			return 1;
		}
		if (untimed)
			c->fn(ctx, count);
		else
			printf("%s %.1f %s\n", c->name,
			       run_case(c->clk, c->fn, ctx, c->iters * scale, c->ops_per_iter),
			       c->what);
		fflush(stdout);
		c->teardown(ctx);
	}
	return 0;
}
