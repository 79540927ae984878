/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "nodejs/node_inject.h"
#include "nodejs/node_report.h"

void node_report_text(FILE *f, const char *indent, const struct node_inject_stats *s,
		      uint64_t links)
{
	fprintf(f,
		"%snodejs: injected %" PRIu64 " (already there %" PRIu64 "), left alone: own "
		"SIGUSR1 handler %" PRIu64 ", inspector in use %" PRIu64 ", inspector port "
		"taken %" PRIu64 ", not Node.js %" PRIu64 ", no handler yet %" PRIu64
		"; failed %" PRIu64 ", inspectors left open %" PRIu64 ", dropped %" PRIu64
		"; links %" PRIu64 "\n",
		indent, s->injected, s->already, s->own_handler, s->inspector_active, s->port_busy,
		s->not_node, s->not_ready, s->failed, s->left_open, s->dropped, links);
}
