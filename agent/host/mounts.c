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
#include "host/path_access.h"

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

	if (len)
		path[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		char events[64];
		int err;

		snprintf(events, sizeof(events), "%s/events", candidates[i]);
		err = path_lookup(events);
		if (!err) {
			snprintf(path, len, "%s", candidates[i]);
			return 0;
		}
		/* Mounted but closed to this process: mounting it again would
		 * not help, the reason is the answer. */
		if (err != -ENOENT && has_magic(candidates[i], TRACEFS_MAGIC)) {
			snprintf(path, len, "%s", candidates[i]);
			return err;
		}
	}
	if (path_lookup("/sys/kernel/debug/tracing") == 0 &&
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

const char *mounts_tracefs_problem(const char *path, int err, char *buf, size_t len)
{
	if (path[0])
		snprintf(buf, len,
			 "cannot read tracefs at %s: %s (sonde needs root or CAP_DAC_READ_SEARCH "
			 "to read it)",
			 path, strerror(-err));
	else
		snprintf(
			buf, len,
			"tracefs is not mounted and could not be mounted: %s (mount it with `mount "
			"-t tracefs tracefs /sys/kernel/tracing`)",
			strerror(-err));
	return buf;
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
