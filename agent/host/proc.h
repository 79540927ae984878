/* SPDX-License-Identifier: MIT */
/* Facts about processes and cgroups from /proc and cgroupfs. */
#ifndef SONDE_PROC_H
#define SONDE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

bool proc_exists(uint32_t pid);
/* /proc/PID/comm without the newline; -errno on failure. */
int proc_comm(uint32_t pid, char *buf, size_t len);
/* The process group of pid (/proc/PID/stat), or -errno. */
int proc_pgid(uint32_t pid);
/* The text of /proc/PID/cgroup, up to size bytes (not NUL-terminated): its
 * length, or -errno (-ENOENT: no such process). */
ssize_t proc_read_cgroup(uint32_t pid, char *buf, size_t size);
/* The cgroup v2 id of a cgroup directory (what bpf_get_current_cgroup_id returns). */
int proc_cgroup_id(const char *path, uint64_t *id);

#endif /* SONDE_PROC_H */
