/* SPDX-License-Identifier: MIT */
/* The pseudo-filesystems sonde needs, mounted when they are missing. */
#ifndef SONDE_MOUNTS_H
#define SONDE_MOUNTS_H

#include <stddef.h>

/* Finds tracefs (mounting it at /sys/kernel/tracing if needed); path gets where.
 * -errno when it cannot be used: path is then where it is mounted when it is
 * (but this process cannot read it), else "". */
int mounts_ensure_tracefs(char *path, size_t len);
/* The one-line reason for mounts_ensure_tracefs()'s failure err, in buf. */
const char *mounts_tracefs_problem(const char *path, int err, char *buf, size_t len);
/* Mounts bpffs at /sys/fs/bpf if nothing is mounted there. */
int mounts_ensure_bpffs(void);
/* The cgroup v2 mount point; -ENOENT if there is none. */
int mounts_cgroup2_path(char *path, size_t len);

#endif /* SONDE_MOUNTS_H */
