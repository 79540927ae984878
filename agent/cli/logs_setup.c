/* SPDX-License-Identifier: MIT */
#include "cli/logs_setup.h"
#include "util/log.h"

/* What the kernel copies for a process, from the record rate: 1 KiB a
 * record and 64 KiB a second at least; a quarter of a second's worth at
 * once, 64 KiB to 1 MiB. Without a record limit: 256 MiB a second. The
 * budget protects the ring buffer the connections' events share; the
 * record limit is the agent's. */
#define BYTES_PER_RECORD 1024u
#define MIN_RATE	 (64u * 1024)
#define MIN_BURST	 (64u * 1024)
#define MAX_BURST	 (1024u * 1024)
#define UNLIMITED	 (256u * 1024 * 1024)
#define COPY_PER_WRITE	 (32u * 1024) /* a buffered logger's flush of many lines */

void logs_setup_tracer(const struct sonde_config *c, struct tracer_opts *topts,
		       struct logs_setup *ls)
{
	uint64_t rate =
		c->logs_rate_limit ? (uint64_t)c->logs_rate_limit * BYTES_PER_RECORD : UNLIMITED;

	if (rate < MIN_RATE)
		rate = MIN_RATE;
	if (rate > UNLIMITED)
		rate = UNLIMITED;
	topts->logs = c->logs_enabled;
	topts->log_rate = (uint32_t)rate;
	topts->log_burst = (uint32_t)(rate / 4 < MIN_BURST   ? MIN_BURST
				      : rate / 4 > MAX_BURST ? MAX_BURST
							     : rate / 4);
	topts->log_copy_bytes = COPY_PER_WRITE;
	topts->nlog_comms = config_log_comms(c, ls->buf, ls->names);
	topts->log_comms = ls->names;
}

static enum linker_ctx_state resolve(void *ctx, const uint8_t span_id[8], struct linker_ctx *out)
{
	return linker_context_of(ctx, span_id, out);
}

struct logs *logs_setup_start(const struct sonde_config *c, struct ingest *ig, log_out_fn out,
			      void *out_ctx)
{
	struct logs_opts o = { .max_line = c->logs_max_line,
			       .rate = c->logs_rate_limit,
			       .resolve = resolve,
			       .resolve_ctx = &ig->linker,
			       .out = out,
			       .out_ctx = out_ctx };
	struct logs *lg = logs_new(&o);

	if (!lg) {
		log_error("out of memory");
		return NULL;
	}
	ig->logs = (struct ingest_logs){
		.write = logs_write, .span_end = logs_span_end, .exit = logs_exit, .ctx = lg
	};
	return lg;
}
