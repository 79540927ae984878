/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "cli/preflight.h"
#include "host/kernel_features.h"
#include "host/proc.h"
#include "util/log.h"

int preflight(const struct sonde_config *c, uint64_t *cgroup_id, const char *pid_origin)
{
	struct sonde_features f;
	char why[256];
	int err;

	features_probe(&f);
	if (features_missing(&f, why, sizeof(why))) {
		log_error("%s", why);
		return -EPERM;
	}
	for (int i = 0; i < c->npids; i++) {
		if (!proc_exists(c->pids[i])) {
			log_error("no process with pid %u%s", c->pids[i], pid_origin);
			return -ESRCH;
		}
	}
	if (c->cgroup[0] && (err = proc_cgroup_id(c->cgroup, cgroup_id))) {
		log_error("cannot use cgroup '%s': %s (expected a cgroup v2 directory, e.g. under "
			  "%s)",
			  c->cgroup,
			  err == -EMEDIUMTYPE ? "not on a cgroup v2 file system" : strerror(-err),
			  f.cgroup2_path[0] ? f.cgroup2_path : "/sys/fs/cgroup");
		return err;
	}
	return 0;
}
