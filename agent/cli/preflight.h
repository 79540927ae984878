/* SPDX-License-Identifier: MIT */
/* What both commands check before touching BPF: what a user can get wrong. */
#ifndef SONDE_PREFLIGHT_H
#define SONDE_PREFLIGHT_H

#include <stdint.h>

#include "config/config.h"

/* The kernel features sonde needs, the processes and the cgroup selected
 * (*cgroup_id: the cgroup's id when one is). Says what is wrong in one line
 * and returns -errno. pid_origin names where --pid came from in messages
 * ("" or " (select.pids)"). */
int preflight(const struct sonde_config *c, uint64_t *cgroup_id, const char *pid_origin);

#endif /* SONDE_PREFLIGHT_H */
