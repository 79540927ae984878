/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

static ssize_t read_fd(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n < size) {
		ssize_t r = read(fd, buf + n, size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

ssize_t file_read_upto(const char *path, void *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read_fd(fd, buf, size);
	close(fd);
	return n;
}

int file_read_all(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	char *b;
	int fd, err;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	b = malloc(max + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	/* One byte more than allowed tells a file of exactly max bytes from a
	 * larger one. */
	n = read_fd(fd, b, max + 1);
	close(fd);
	if (n < 0 || (size_t)n > max) {
		free(b);
		return n < 0 ? (int)n : -EFBIG;
	}
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return 0;
}
