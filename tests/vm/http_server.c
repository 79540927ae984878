/* SPDX-License-Identifier: MIT */
/*
 * A tiny HTTP/1.1 server for the kernel matrix (tests/vm/traffic.sh). The VMs
 * have busybox and nothing else, and busybox httpd reads a request on fd 0 and
 * answers on fd 1, which sonde sees as two connections; this server reads and
 * writes one socket fd, as nginx and most servers do. Built statically so the
 * same binary runs in the initramfs and on the host.
 *
 * Listens on 127.0.0.1 on a port chosen by the kernel and prints that port on
 * stdout. Connections are served one after another, with keep-alive and
 * pipelining. Routes, with fixed bodies so the test knows every size:
 *   GET  /hello -> 200 "hello\n"
 *   GET  /big   -> 200, BIG_BODY bytes written in BIG_CHUNK pieces
 *   POST /items -> 201 "created\n" (the request body is read and dropped)
 *   GET  /fail  -> 500 "boom\n"
 *   other       -> 404 "not found\n"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BIG_BODY  100000
#define BIG_CHUNK 16384
#define BUF_SIZE  16384

struct request {
	char method[16];
	char path[256];
	size_t body_len;
	bool close; /* Connection: close, or HTTP/1.0 */
};

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Case-insensitive header lookup in a head that ends with "\r\n\r\n". */
static const char *header(const char *head, const char *name)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n"))
		if (!strncasecmp(l + 2, name, nlen) && l[2 + nlen] == ':')
			return l + 3 + nlen + strspn(l + 3 + nlen, " \t");
	return NULL;
}

static int parse_head(const char *head, struct request *r)
{
	char version[16];
	const char *v;

	if (sscanf(head, "%15s %255s %15s", r->method, r->path, version) != 3)
		return -1;
	v = header(head, "Content-Length");
	r->body_len = v ? strtoul(v, NULL, 10) : 0;
	v = header(head, "Connection");
	r->close = !strcmp(version, "HTTP/1.0") || (v && !strncasecmp(v, "close", 5));
	return 0;
}

static int respond(int fd, const struct request *r)
{
	static char big[BIG_CHUNK];
	const char *reason = "Not Found", *body = "not found\n";
	size_t len, body_len;
	char head[512];
	int status = 404;

	if (!strcmp(r->method, "GET") && !strcmp(r->path, "/hello")) {
		status = 200, reason = "OK", body = "hello\n";
	} else if (!strcmp(r->method, "GET") && !strcmp(r->path, "/big")) {
		status = 200, reason = "OK", body = NULL;
	} else if (!strcmp(r->method, "POST") && !strcmp(r->path, "/items")) {
		status = 201, reason = "Created", body = "created\n";
	} else if (!strcmp(r->method, "GET") && !strcmp(r->path, "/fail")) {
		status = 500, reason = "Internal Server Error", body = "boom\n";
	}
	body_len = body ? strlen(body) : BIG_BODY;
	len = (size_t)snprintf(head, sizeof(head),
			       "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			       "Content-Length: %zu\r\n%s\r\n%s",
			       status, reason, body_len, r->close ? "Connection: close\r\n" : "",
			       body ? body : "");
	/* A small response goes in one write: busybox wget stops reading after
	 * the head of a 4xx/5xx, so a body sent apart may or may not be read,
	 * and the client span's body size with it. */
	if (write_all(fd, head, len))
		return -1;
	if (body)
		return 0;
	/* Several writes for one body: sizes must add up across syscalls. */
	memset(big, 'x', sizeof(big));
	for (size_t left = BIG_BODY; left; left -= len) {
		len = left < sizeof(big) ? left : sizeof(big);
		if (write_all(fd, big, len))
			return -1;
	}
	return 0;
}

static void serve(int fd)
{
	static char buf[BUF_SIZE + 1];
	size_t have = 0;
	struct request r;

	for (;;) {
		char *end;
		size_t head_len;
		ssize_t n;

		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end) {
			if (have == BUF_SIZE)
				return;
			n = read(fd, buf + have, BUF_SIZE - have);
			if (n <= 0)
				return;
			have += (size_t)n;
			continue;
		}
		head_len = (size_t)(end - buf) + 4;
		if (parse_head(buf, &r))
			return;
		/* Drop the body: what is buffered, then the rest from the socket. */
		if (r.body_len <= have - head_len) {
			head_len += r.body_len;
		} else {
			size_t left = r.body_len - (have - head_len);

			head_len = have;
			while (left) {
				n = read(fd, buf, left < BUF_SIZE ? left : BUF_SIZE);
				if (n <= 0)
					return;
				left -= (size_t)n;
			}
			have = head_len = 0;
		}
		memmove(buf, buf + head_len, have - head_len);
		have -= head_len;
		if (respond(fd, &r) || r.close)
			return;
	}
}

int main(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	int lfd, one = 1;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen)) {
		perror("http_server");
		return 1;
	}
	printf("%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("http_server: accept");
			return 1;
		}
		serve(fd);
		close(fd);
	}
}
