/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/path_access.h"
#include "host/proc.h"
#include "util/file.h"

bool proc_exists(uint32_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%u", pid);
	return path_lookup(path) == 0;
}

int proc_comm(uint32_t pid, char *buf, size_t len)
{
	char path[40];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

uint64_t proc_fd_pipe(uint32_t pid, int fd)
{
	char path[48], link[64];
	unsigned long long ino;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return 0;
	link[n] = '\0';
	return sscanf(link, "pipe:[%llu]", &ino) == 1 ? ino : 0;
}

ssize_t proc_read_cgroup(uint32_t pid, char *buf, size_t size)
{
	char path[40];

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	return file_read_upto(path, buf, size);
}

int proc_cgroup_id(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h = { .fh.handle_bytes = sizeof(uint64_t) };
	struct statfs fs;
	int mount_id;

	/* Any directory has a file handle: only on cgroup v2 is it the cgroup
	 * id. A cgroup v1 hierarchy or another file system would filter in
	 * nothing at all, silently. */
	if (statfs(path, &fs))
		return -errno;
	if (fs.f_type != CGROUP2_SUPER_MAGIC)
		return -EMEDIUMTYPE;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0))
		return -errno;
	memcpy(id, h.fh.f_handle, sizeof(*id));
	return 0;
}
