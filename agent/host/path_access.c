/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/path_access.h"

int path_lookup(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -errno : 0;
}

int path_readable(const char *path)
{
	/* O_NONBLOCK: a FIFO or a device must not hold the check. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}
