/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "host/mounts.h"

#define TRACEFS_MAGIC 0x74726163
#define BPF_FS_MAGIC  0xcafe4a11

static bool has_magic(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (long)st.f_type == magic;
}

int mounts_ensure_tracefs(char *path, size_t len)
{
	/* libbpf reads tracepoint ids from /sys/kernel/debug/tracing when that
	 * exists (an automount of tracefs once debugfs is up), else from
	 * /sys/kernel/tracing: check them in that order. */
	static const char *const candidates[] = { "/sys/kernel/debug/tracing",
						  "/sys/kernel/tracing" };

	for (size_t i = 0; i < 2; i++) {
		char events[64];

		snprintf(events, sizeof(events), "%s/events", candidates[i]);
		if (access(events, F_OK) == 0) {
			snprintf(path, len, "%s", candidates[i]);
			return 0;
		}
	}
	if (access("/sys/kernel/debug/tracing", F_OK) == 0 &&
	    !has_magic("/sys/kernel/debug/tracing", TRACEFS_MAGIC)) {
		/* the directory exists but is empty: libbpf would look there */
		if (mount("tracefs", "/sys/kernel/debug/tracing", "tracefs", 0, NULL) == 0) {
			snprintf(path, len, "/sys/kernel/debug/tracing");
			return 0;
		}
	}
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	snprintf(path, len, "/sys/kernel/tracing");
	return 0;
}

int mounts_ensure_bpffs(void)
{
	if (has_magic("/sys/fs/bpf", BPF_FS_MAGIC))
		return 0;
	if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST)
		return -errno;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

int mounts_cgroup2_path(char *path, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	/* mountinfo: id parent major:minor root mount-point options ... - fstype ... */
	while (fgets(line, sizeof(line), f)) {
		char mnt[1024], *sep = strstr(line, " - ");
		char fstype[64];

		if (!sep || sscanf(sep, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %1023s", mnt) == 1) {
			snprintf(path, len, "%s", mnt);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}
