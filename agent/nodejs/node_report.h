/* SPDX-License-Identifier: MIT */
/* The Node.js injector's counters, as `sonde trace --stats` shows them. */
#ifndef SONDE_NODE_REPORT_H
#define SONDE_NODE_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct node_inject_stats;

/* One line starting with indent: what was injected, what was left alone and
 * why, and the links the injected processes' sentinels gave. */
void node_report_text(FILE *f, const char *indent, const struct node_inject_stats *s,
		      uint64_t links);

#endif /* SONDE_NODE_REPORT_H */
