/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus endpoint on a loopback port, scraped by two clients at once
 * while a writer thread records requests into the metrics it renders (as the
 * event loop does, under the lock the render takes). Every scrape is a whole,
 * consistent page: its request count equals its span counter, and neither
 * ever goes back. One scraper asks for OpenMetrics (with exemplars of the
 * sampled half of the requests), the other for the text format. Also built with ThreadSanitizer (make test-tsan).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "export/prom_server.h"
#include "export/prom_text.h"
#include "pipeline/metrics.h"

#define RECORDS	     3000
#define SCRAPERS     2
#define SCRAPES	     40

#define COUNT_PREFIX "http_server_request_duration_seconds_count{"

/* What the page is rendered from, as struct pipeline holds it. */
struct shared {
	pthread_mutex_t lock; /* the metrics and the span counter */
	struct metrics *m;
	uint64_t spans;
	struct resource *res;
	bool writer_done; /* atomic: scrapes go on at least until then */
};

static void render(void *ctx, struct strbuf *sb, bool openmetrics)
{
	struct shared *sh = ctx;
	struct health_metric health = { .name = "sonde.spans",
					.description = "Spans built from traffic.",
					.unit = "{span}" };

	pthread_mutex_lock(&sh->lock);
	health.value = sh->spans;
	if (openmetrics)
		prom_render_openmetrics(sb, sh->m, &health, 1);
	else
		prom_render(sb, sh->m, &health, 1);
	pthread_mutex_unlock(&sh->lock);
}

static int healthy(void *ctx, char *why, size_t len)
{
	(void)ctx;
	(void)why;
	(void)len;
	return 0;
}

static void *writer(void *arg)
{
	struct shared *sh = arg;
	struct span s = { 0 };

	s.kind = SPAN_SERVER;
	strcpy(s.method, "GET");
	s.status = 200;
	s.start_ns = 1764000000000000000ull;
	s.end_ns = s.start_ns + 1000000;
	for (int i = 0; i < RECORDS; i++) {
		snprintf(s.target, sizeof(s.target), "/items/%d", i % 3);
		pthread_mutex_lock(&sh->lock);
		s.trace_id[0] = s.span_id[0] = (uint8_t)(i + 1);
		metrics_record_sampled(sh->m, sh->res, &s, i % 3 ? "/items/{id}" : "/items/0",
				       i % 2);
		sh->spans++;
		pthread_mutex_unlock(&sh->lock);
		if (i % 100 == 0)
			usleep(1000); /* let scrapes fall between the updates */
	}
	__atomic_store_n(&sh->writer_done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* One HTTP/1.1 request; the whole answer (the server closes) as a malloc'ed
 * string, or NULL. No cmocka asserts: scraper threads call it. */
static char *fetch(uint16_t port, const char *request)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *nb;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!buf || fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, request, strlen(request), MSG_NOSIGNAL) != (ssize_t)strlen(request))
		goto fail;
	while ((n = recv(fd, buf + len, cap - 1 - len, 0)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			nb = realloc(buf, cap *= 2);
			if (!nb)
				goto fail;
			buf = nb;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* The body of a whole 200 answer (as many bytes as Content-Length says), or
 * NULL. */
static const char *body_of(const char *page)
{
	const char *body = page ? strstr(page, "\r\n\r\n") : NULL;
	const char *clen = page ? strstr(page, "Content-Length: ") : NULL;

	if (!body || !clen || strncmp(page, "HTTP/1.1 200 OK\r\n", 17) ||
	    strtoul(clen + 16, NULL, 10) != strlen(body + 4))
		return NULL;
	return body + 4;
}

/* Sum of the values (the line's last field) of every line starting with prefix. */
static uint64_t sum_of(const char *body, const char *prefix)
{
	uint64_t sum = 0;

	for (const char *line = body; *line;) {
		const char *end = strchr(line, '\n'), *value = line;

		if (!end)
			break;
		for (const char *c = line; c < end; c++)
			if (*c == ' ')
				value = c + 1;
		if (!strncmp(line, prefix, strlen(prefix)))
			sum += strtoull(value, NULL, 10);
		line = end + 1;
	}
	return sum;
}

#define TEXT_REQUEST "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
#define OPENMETRICS_REQUEST                                                         \
	"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;" \
	"version=1.0.0\r\n\r\n"

struct scraper {
	struct shared *sh;
	uint16_t port;
	bool openmetrics; /* asks for OpenMetrics (exemplars, # EOF) */
	int bad_pages;
	int went_back;
	int scrapes;
};

static void *scrape(void *arg)
{
	struct scraper *sc = arg;
	uint64_t last = 0;

	while (sc->scrapes + sc->bad_pages < SCRAPES ||
	       !__atomic_load_n(&sc->sh->writer_done, __ATOMIC_ACQUIRE)) {
		char *page = fetch(sc->port, sc->openmetrics ? OPENMETRICS_REQUEST : TEXT_REQUEST);
		const char *body = body_of(page);
		uint64_t spans;

		if (body && sc->openmetrics &&
		    (strlen(body) < 6 || strcmp(body + strlen(body) - 6, "# EOF\n")))
			body = NULL;
		if (!body) {
			sc->bad_pages++;
			free(page);
			continue;
		}
		spans = sum_of(body, "sonde_spans_total ");
		if (sum_of(body, COUNT_PREFIX) != spans)
			sc->bad_pages++;
		if (spans < last)
			sc->went_back++;
		last = spans;
		sc->scrapes++;
		free(page);
	}
	return NULL;
}

static void test_concurrent_scrapes_while_writing(void **state)
{
	static const char env[] = "OTEL_SERVICE_NAME=shop";
	struct shared sh = { .m = metrics_new(100) };
	struct scraper sc[SCRAPERS];
	pthread_t w, t[SCRAPERS];
	struct prom_server *ps;
	char *page;

	(void)state;
	pthread_mutex_init(&sh.lock, NULL);
	sh.res = resource_new(1234, "app", "node-1", env, sizeof(env), NULL, "test");
	assert_non_null(sh.m);
	ps = prom_server_start("127.0.0.1", 0, render, healthy, &sh);
	assert_non_null(ps);
	assert_true(prom_server_port(ps) > 0);

	assert_int_equal(pthread_create(&w, NULL, writer, &sh), 0);
	for (int i = 0; i < SCRAPERS; i++) {
		sc[i] = (struct scraper){ .sh = &sh,
					  .port = prom_server_port(ps),
					  .openmetrics = i & 1 };
		assert_int_equal(pthread_create(&t[i], NULL, scrape, &sc[i]), 0);
	}
	pthread_join(w, NULL);
	for (int i = 0; i < SCRAPERS; i++) {
		pthread_join(t[i], NULL);
		assert_true(sc[i].scrapes >= SCRAPES);
		assert_int_equal(sc[i].bad_pages, 0);
		assert_int_equal(sc[i].went_back, 0);
	}

	/* Once the writer is done, a scrape shows every request. */
	page = fetch(prom_server_port(ps), "GET /metrics HTTP/1.1\r\n\r\n");
	assert_non_null(body_of(page));
	assert_int_equal(sum_of(body_of(page), COUNT_PREFIX), RECORDS);
	free(page);
	page = fetch(prom_server_port(ps), OPENMETRICS_REQUEST);
	assert_non_null(body_of(page));
	assert_int_equal(sum_of(body_of(page), COUNT_PREFIX), RECORDS);
	assert_non_null(strstr(body_of(page), "\"} 0.001 1764000000.001000000\n"));
	free(page);
	page = fetch(prom_server_port(ps), "GET /healthz HTTP/1.1\r\n\r\n");
	assert_non_null(body_of(page));
	assert_string_equal(body_of(page), "ok\n");
	free(page);
	page = fetch(prom_server_port(ps), "POST /metrics HTTP/1.1\r\n\r\n");
	assert_non_null(page);
	assert_true(!strncmp(page, "HTTP/1.1 405 ", 13));
	free(page);

	prom_server_stop(ps);
	metrics_free(sh.m);
	resource_put(sh.res);
	pthread_mutex_destroy(&sh.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_scrapes_while_writing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
