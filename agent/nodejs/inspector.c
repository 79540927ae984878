/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nodejs/cdp.h"
#include "nodejs/inspector.h"
#include "nodejs/websocket.h"

/* The target list is a few hundred bytes per target; answers to our one
 * request are short. Anything larger is not what we asked for. */
#define HTTP_MAX    (64 * 1024)
#define WS_IN_MAX   (64 * 1024)
#define WS_MSG_MAX  (64 * 1024)
#define EVALUATE_ID 1

struct netns_job {
	uint32_t pid;
	int family;
	int fd; /* result: the socket, or -errno */
};

static void *netns_socket_thread(void *arg)
{
	struct netns_job *job = arg;
	char path[64];
	int ns;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", job->pid);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		job->fd = -errno;
		return NULL;
	}
	/* Only this thread moves; the socket keeps the namespace it was made in. */
	if (setns(ns, CLONE_NEWNET)) {
		job->fd = -errno;
		close(ns);
		return NULL;
	}
	close(ns);
	job->fd = socket(job->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (job->fd < 0)
		job->fd = -errno;
	return NULL;
}

int inspector_netns_socket(uint32_t pid, int family)
{
	struct netns_job job = { .pid = pid, .family = family, .fd = -EIO };
	struct stat self, target;
	char path[64];
	pthread_t th;
	int err, fd;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	if (stat(path, &target))
		return -errno;
	if (!stat("/proc/self/ns/net", &self) && self.st_ino == target.st_ino &&
	    self.st_dev == target.st_dev) {
		fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		return fd < 0 ? -errno : fd;
	}
	err = pthread_create(&th, NULL, netns_socket_thread, &job);
	if (err)
		return -err;
	pthread_join(th, NULL);
	return job.fd;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline. 0 when ready, -ETIMEDOUT. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		uint64_t now = now_ms();
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const void *buf, size_t len, uint64_t deadline)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int err = wait_fd(fd, POLLOUT, deadline);

			if (err)
				return err;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what is there (waiting for something). Returns the byte count, 0
 * at end of stream, -errno. */
static ssize_t recv_some(int fd, void *buf, size_t cap, uint64_t deadline)
{
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		int err;

		if (n >= 0)
			return n;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = wait_fd(fd, POLLIN, deadline);
		if (err)
			return err;
	}
}

/* The address to reach the listener at: its own, or loopback for a wildcard. */
static void target_addr(const struct tcp_listener *l, struct sockaddr_storage *ss, socklen_t *len,
			char *host, size_t host_len)
{
	static const uint8_t any[16];
	char ip[INET6_ADDRSTRLEN];

	memset(ss, 0, sizeof(*ss));
	if (l->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(l->port);
		if (memcmp(l->addr, any, 16))
			memcpy(&s6->sin6_addr, l->addr, 16);
		else
			s6->sin6_addr = in6addr_loopback;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(host, host_len, "[%s]:%u", ip, l->port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(l->port);
		if (memcmp(l->addr, any, 4))
			memcpy(&s4->sin_addr, l->addr, 4);
		else
			s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(host, host_len, "%s:%u", ip, l->port);
		*len = sizeof(*s4);
	}
}

struct session {
	uint32_t pid;
	const struct tcp_listener *l;
	char host[INET6_ADDRSTRLEN + 16];
	uint64_t deadline;
	char *why;
	size_t why_len;
};

__attribute__((format(printf, 3, 4))) static int fail(struct session *s, int err, const char *fmt,
						      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, s->why_len, fmt, ap);
	va_end(ap);
	return err;
}

static int dial(struct session *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	target_addr(s->l, &ss, &len, s->host, sizeof(s->host));
	fd = inspector_netns_socket(s->pid, s->l->family);
	if (fd < 0)
		return fail(s, fd, "no socket in the process's network namespace: %s",
			    strerror(-fd));
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		err = -errno;
	} else if (!(err = wait_fd(fd, POLLOUT, s->deadline)) &&
		   !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen)) {
		err = -err;
	}
	if (err) {
		close(fd);
		return fail(s, err, "cannot connect to the inspector at %s: %s", s->host,
			    strerror(-err));
	}
	return fd;
}

/* GET /json/list: the path of the target's WebSocket. */
static int ws_path(struct session *s, char *path, size_t cap)
{
	char req[256], *buf = malloc(HTTP_MAX);
	const char *body;
	size_t len = 0, body_len;
	int fd, n, rc = 0;

	if (!buf)
		return fail(s, -ENOMEM, "out of memory");
	fd = dial(s);
	if (fd < 0) {
		free(buf);
		return fd;
	}
	n = cdp_list_request(req, sizeof(req), s->host);
	rc = n < 0 ? n : send_all(fd, req, (size_t)n, s->deadline);
	while (!rc) {
		ssize_t got = recv_some(fd, buf + len, HTTP_MAX - len, s->deadline);

		if (got < 0) {
			rc = (int)got;
			break;
		}
		len += (size_t)got;
		rc = cdp_http_body(buf, len, got == 0 || len == HTTP_MAX, &body, &body_len);
	}
	close(fd);
	if (rc < 0) {
		free(buf);
		return fail(s, rc, "GET /json/list from %s: %s", s->host,
			    rc == -EPROTO ? "not an inspector's answer" : strerror(-rc));
	}
	rc = cdp_ws_path(body, body_len, path, cap);
	free(buf);
	if (rc)
		return fail(s, rc, "no WebSocket in the inspector's target list (%s)",
			    strerror(-rc));
	return 0;
}

static int send_frame(struct session *s, int fd, enum ws_opcode op, const void *data, size_t len)
{
	size_t cap = len + WS_MAX_HEADER;
	uint8_t mask[4], *frame = malloc(cap);
	int n, err;

	if (!frame)
		return -ENOMEM;
	if (getrandom(mask, sizeof(mask), 0) != sizeof(mask))
		memset(mask, 0x5a, sizeof(mask)); /* masking is for proxies, not secrecy */
	n = ws_frame_encode(frame, cap, op, data, len, mask);
	err = n < 0 ? n : send_all(fd, frame, (size_t)n, s->deadline);
	free(frame);
	return err;
}

/* Reads messages until the answer to our request; then until the inspector
 * closes the connection, or the deadline. */
static int await_answer(struct session *s, int fd, struct ws_reader *r, char *value, size_t cap)
{
	struct ws_message m;
	int answer = 0; /* 1: answered, <0: failed */

	for (;;) {
		int rc = ws_reader_next(r, &m);
		ssize_t got;

		if (rc < 0)
			return fail(s, rc, "bad WebSocket frame from the inspector");
		if (rc > 0) {
			if (m.op == WS_OP_TEXT && !answer) {
				answer = cdp_evaluate_result((const char *)m.data, m.len,
							     EVALUATE_ID, value, cap);
				if (answer < 0)
					return fail(s, answer, "the script failed: %s", value);
			} else if (m.op == WS_OP_PING) {
				send_frame(s, fd, WS_OP_PONG, m.data, m.len);
			} else if (m.op == WS_OP_CLOSE) {
				break;
			}
			continue;
		}
		got = recv_some(fd, r->in + r->in_len, r->in_cap - r->in_len, s->deadline);
		if (got == 0)
			break;
		if (got < 0) {
			if (answer)
				return 0; /* answered; it just has not closed yet */
			return fail(s, (int)got, "no answer from the inspector: %s",
				    strerror((int)-got));
		}
		r->in_len += (size_t)got;
	}
	return answer ? 0 : fail(s, -ECONNRESET, "the inspector closed without answering");
}

int inspector_evaluate(uint32_t pid, const struct tcp_listener *l, const char *expr, size_t len,
		       int timeout_ms, char *value, size_t cap, char *why, size_t why_len)
{
	struct session s = { .pid = pid, .l = l, .why = why, .why_len = why_len };
	char path[CDP_PATH_MAX], key[WS_KEY_LEN + 1], req[CDP_PATH_MAX + 256];
	uint8_t nonce[16], *in = NULL, *msg = NULL;
	size_t msg_cap = len * 6 + 512;
	struct ws_reader r;
	char *cdp = NULL;
	int fd = -1, n, rc;

	s.deadline = now_ms() + (uint64_t)timeout_ms;
	value[0] = '\0';
	rc = ws_path(&s, path, sizeof(path));
	if (rc)
		return rc;
	in = malloc(WS_IN_MAX);
	msg = malloc(WS_MSG_MAX);
	cdp = malloc(msg_cap);
	if (!in || !msg || !cdp) {
		rc = fail(&s, -ENOMEM, "out of memory");
		goto out;
	}
	fd = dial(&s);
	if (fd < 0) {
		rc = fd;
		goto out;
	}
	if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce)) {
		rc = fail(&s, -EIO, "no random bytes for the WebSocket key");
		goto out;
	}
	ws_key(nonce, key);
	n = ws_handshake_request(req, sizeof(req), s.host, path, key);
	rc = n < 0 ? n : send_all(fd, req, (size_t)n, s.deadline);
	ws_reader_init(&r, in, WS_IN_MAX, msg, WS_MSG_MAX);
	while (!rc) {
		ssize_t got =
			recv_some(fd, r.in + r.in_len, WS_MAX_HANDSHAKE_IN - r.in_len, s.deadline);

		if (got <= 0) {
			rc = got ? (int)got : -ECONNRESET;
			break;
		}
		r.in_len += (size_t)got;
		n = ws_handshake_response((const char *)r.in, r.in_len, key);
		if (n < 0) {
			rc = n;
		} else if (n > 0) {
			/* Frames may have come with the head. */
			memmove(r.in, r.in + n, r.in_len - (size_t)n);
			r.in_len -= (size_t)n;
			break;
		}
	}
	if (rc) {
		rc = fail(&s, rc, "WebSocket handshake with %s%s: %s", s.host, path,
			  rc == -EPROTO ? "refused" : strerror(-rc));
		goto out;
	}
	n = cdp_evaluate_request(cdp, msg_cap, EVALUATE_ID, expr, len);
	rc = n < 0 ? n : send_frame(&s, fd, WS_OP_TEXT, cdp, (size_t)n);
	if (rc) {
		rc = fail(&s, rc, "sending the script: %s", strerror(-rc));
		goto out;
	}
	rc = await_answer(&s, fd, &r, value, cap);
out:
	if (fd >= 0)
		close(fd);
	free(in);
	free(msg);
	free(cdp);
	return rc;
}
