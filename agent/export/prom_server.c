/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"
#include "export/prom_server.h"

#define REQUEST_MAX	  4096
#define CLIENT_TIMEOUT_MS 2000

struct prom_server {
	int listen_fd;
	int stop_fd; /* eventfd: wakes the thread to exit */
	uint16_t port;
	pthread_t thread;
	prom_render_fn render;
	prom_health_fn health;
	void *ctx;
};

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, timeout_ms);

	return n > 0 ? 0 : -ETIMEDOUT;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, CLIENT_TIMEOUT_MS))
			return;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int status, const char *reason, const char *type, const char *body,
		    size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, reason, type, len);

	write_all(fd, head, (size_t)n);
	write_all(fd, body, len);
}

/* Reads up to the end of the request head; returns its length or -1. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	while (got + 1 < cap) {
		ssize_t n;

		if (wait_fd(fd, POLLIN, CLIENT_TIMEOUT_MS))
			return -1;
		n = recv(fd, buf + got, cap - 1 - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return (ssize_t)got;
	}
	return -1;
}

/* Whether the request's Accept header names OpenMetrics (any q > 0). */
static bool accepts_openmetrics(const char *req)
{
	const char *h = req;

	while ((h = strchr(h, '\n'))) {
		h++;
		if (strncasecmp(h, "accept:", 7))
			continue;
		for (const char *v = h + 7; *v && *v != '\r' && *v != '\n'; v++) {
			if (!strncasecmp(v, "application/openmetrics-text", 28)) {
				const char *q = v + 28;

				/* "…;q=0" refuses it */
				while (*q && *q != ',' && *q != '\r' && *q != '\n') {
					if (!strncmp(q, "q=0", 3) && (q[3] < '1' || q[3] > '9') &&
					    !(q[3] == '.' && q[4] >= '1' && q[4] <= '9'))
						return false;
					q++;
				}
				return true;
			}
		}
	}
	return false;
}

static void serve(struct prom_server *s, int fd)
{
	char req[REQUEST_MAX], why[256];
	char method[8], path[256];
	struct strbuf sb = { 0 };

	if (read_head(fd, req, sizeof(req)) < 0)
		return;
	if (sscanf(req, "%7s %255s", method, path) != 2) {
		respond(fd, 400, "Bad Request", "text/plain", "bad request\n", 12);
		return;
	}
	path[strcspn(path, "?")] = '\0';
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		respond(fd, 405, "Method Not Allowed", "text/plain", "use GET\n", 8);
	} else if (strcmp(path, "/metrics") == 0) {
		/* Content negotiation: a scraper that takes OpenMetrics (Prometheus
		 * does) gets it, with exemplars; anything else the text format. */
		bool om = accepts_openmetrics(req);

		s->render(s->ctx, &sb, om);
		if (sb.failed)
			respond(fd, 500, "Internal Server Error", "text/plain", "out of memory\n",
				14);
		else
			respond(fd, 200, "OK",
				om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				   : "text/plain; version=0.0.4; charset=utf-8",
				sb.buf ? sb.buf : "", sb.len);
		strbuf_free(&sb);
	} else if (strcmp(path, "/healthz") == 0) {
		if (s->health(s->ctx, why, sizeof(why)) == 0) {
			respond(fd, 200, "OK", "text/plain", "ok\n", 3);
		} else {
			strncat(why, "\n", sizeof(why) - strlen(why) - 1);
			respond(fd, 503, "Service Unavailable", "text/plain", why, strlen(why));
		}
	} else {
		respond(fd, 404, "Not Found", "text/plain", "not found: try /metrics\n", 24);
	}
}

static void *server_main(void *arg)
{
	struct prom_server *s = arg;
	struct pollfd fds[2] = {
		{ .fd = s->listen_fd, .events = POLLIN },
		{ .fd = s->stop_fd, .events = POLLIN },
	};

	for (;;) {
		int fd;

		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(s, fd);
		close(fd);
	}
	return NULL;
}

static int bind_listen(const char *address, uint16_t port, uint16_t *bound)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, err;

	if (inet_pton(AF_INET, address, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, address, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		len = sizeof(*in6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*bound = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
	return fd;
}

struct prom_server *prom_server_start(const char *address, uint16_t port, prom_render_fn render,
				      prom_health_fn health, void *ctx)
{
	struct prom_server *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->render = render;
	s->health = health;
	s->ctx = ctx;
	s->stop_fd = -1;
	s->listen_fd = bind_listen(address, port, &s->port);
	if (s->listen_fd < 0) {
		err = s->listen_fd;
		log_error("cannot listen on %s:%u for Prometheus: %s", address, port,
			  strerror(-err));
		goto fail;
	}
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = -pthread_create(&s->thread, NULL, server_main, s);
	if (err) {
		log_error("cannot start the Prometheus thread: %s", strerror(-err));
		goto fail;
	}
	return s;
fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
	errno = -err;
	return NULL;
}

void prom_server_stop(struct prom_server *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (write(s->stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	close(s->listen_fd);
	close(s->stop_fd);
	free(s);
}

uint16_t prom_server_port(const struct prom_server *s)
{
	return s->port;
}
