/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "util/log.h"

enum log_level log_current_level = LOG_LEVEL_WARN;

void log_write(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };
	va_list ap;

	/* The exporter, Prometheus and pod watch threads log too: each stdio
	 * call alone is atomic, a line of three is not without the lock. */
	flockfile(stderr);
	fprintf(stderr, "sonde: %s", prefix[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}
