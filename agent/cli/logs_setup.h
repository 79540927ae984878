/* SPDX-License-Identifier: MIT */
/* What `sonde run` and `sonde trace` both do to collect logs: the kernel's
 * side (tracer options) and the logs module hooked into ingest. */
#ifndef SONDE_LOGS_SETUP_H
#define SONDE_LOGS_SETUP_H

#include "config/config.h"
#include "core/ingest.h"
#include "core/tracer.h"
#include "logs/logs.h"

struct logs_setup {
	char buf[CONFIG_LOG_COMMS_LEN];
	const char *names[CONFIG_MAX_LOG_COMMS];
};

/* Sets topts' log fields from the settings (names point into ls). */
void logs_setup_tracer(const struct sonde_config *c, struct tracer_opts *topts,
		       struct logs_setup *ls);

/* The logs module for c, its records going to out, hooked into ig (writes,
 * span ends, and the linker for traces still settling). NULL with a log
 * line when out of memory. */
struct logs *logs_setup_start(const struct sonde_config *c, struct ingest *ig, log_out_fn out,
			      void *out_ctx);

#endif /* SONDE_LOGS_SETUP_H */
