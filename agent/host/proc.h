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
/* The inode of the pipe pid's fd reads or writes ("pipe:[N]" in
 * /proc/PID/fd/FD), or 0 when that fd is no pipe (or unknown). */
uint64_t proc_fd_pipe(uint32_t pid, int fd);
/* The text of /proc/PID/cgroup, up to size bytes (not NUL-terminated): its
 * length, or -errno (-ENOENT: no such process). */
ssize_t proc_read_cgroup(uint32_t pid, char *buf, size_t size);
/* The cgroup v2 id of a cgroup directory (what bpf_get_current_cgroup_id returns). */
int proc_cgroup_id(const char *path, uint64_t *id);

#endif /* SONDE_PROC_H */
