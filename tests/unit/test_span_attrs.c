/* SPDX-License-Identifier: MIT */
/* A span's semantic-convention attributes: valid UTF-8, server.address and port. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "spans/span_attrs.h"

#define FFFD "\xef\xbf\xbd"

/* A strict UTF-8 check written apart from the code under test (RFC 3629 §4). */
static bool valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s;
		size_t n;
		uint32_t lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (s[1] < lo || s[1] > hi)
			return false;
		for (size_t i = 2; i <= n; i++)
			if (s[i] < 0x80 || s[i] > 0xbf)
				return false;
		s += n + 1;
	}
	return true;
}

static void assert_sanitized(const char *src, size_t n, const char *want)
{
	char out[64];
	size_t len = utf8_sanitize(out, sizeof(out), src, n);

	if (strcmp(out, want) != 0)
		fail_msg("sanitized %zu bytes: got '%s', want '%s'", n, out, want);
	assert_int_equal(len, strlen(want));
	assert_true(valid_utf8(out));
}

#define SANITIZED(lit, want) assert_sanitized(lit, sizeof(lit) - 1, want)

static void test_utf8_valid_text_unchanged(void **state)
{
	(void)state;
	SANITIZED("/items/42", "/items/42");
	SANITIZED("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		  "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* the highest code point, U+10FFFF, and the last before the surrogates */
	SANITIZED("\xf4\x8f\xbf\xbf\xed\x9f\xbf", "\xf4\x8f\xbf\xbf\xed\x9f\xbf");
	SANITIZED("", "");
}

static void test_utf8_invalid_bytes_replaced(void **state)
{
	(void)state;
	/* Latin-1 é in a path */
	SANITIZED("/caf\xe9", "/caf" FFFD);
	SANITIZED("\x80x", FFFD "x");
	SANITIZED("\xff\xfe", FFFD FFFD);
	/* overlong forms of '/' (a classic path-traversal disguise) */
	SANITIZED("\xc0\xaf", FFFD FFFD);
	SANITIZED("\xe0\x80\xaf", FFFD FFFD FFFD);
	SANITIZED("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
	/* UTF-16 surrogates U+D800 and U+DFFF */
	SANITIZED("a\xed\xa0\x80z", "a" FFFD FFFD FFFD "z");
	SANITIZED("\xed\xbf\xbf", FFFD FFFD FFFD);
	/* past U+10FFFF */
	SANITIZED("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	SANITIZED("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
}

static void test_utf8_truncated_sequences(void **state)
{
	static const char *const cut[] = { "a\xe2\x82", "a\xe2\x82(", "a\xf0\x9f\x98", "a\xc3" };
	char out[32];

	(void)state;
	/* how many U+FFFD a cut sequence becomes is a matter of taste; that the
	 * result is valid, keeps what came before and after, and drops no
	 * character silently is not */
	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		size_t n = strlen(cut[i]);

		utf8_sanitize(out, sizeof(out), cut[i], n);
		assert_true(valid_utf8(out));
		assert_int_equal(out[0], 'a');
		assert_non_null(strstr(out, FFFD));
		if (cut[i][n - 1] == '(')
			assert_int_equal(out[strlen(out) - 1], '(');
	}
	/* the length given is the end: a valid sequence cut by it is not read on */
	SANITIZED("a\xc3\xa9", "a\xc3\xa9");
	assert_int_equal(utf8_sanitize(out, sizeof(out), "a\xc3\xa9", 2), 4);
	assert_string_equal(out, "a" FFFD);
	/* NUL ends the string */
	assert_int_equal(utf8_sanitize(out, sizeof(out), "ab\0cd", 5), 2);
	assert_string_equal(out, "ab");
}

static void test_utf8_output_truncated_at_characters(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'X', sizeof(out));
	assert_int_equal(utf8_sanitize(out, 4, "a\xc3\xa9\xe2\x82\xac", 6), 3);
	assert_string_equal(out, "a\xc3\xa9");
	assert_int_equal(utf8_sanitize(out, 3, "a\xc3\xa9", 3), 1);
	assert_string_equal(out, "a");
	/* a replacement character is not split either */
	assert_int_equal(utf8_sanitize(out, 4, "a\xff", 2), 1);
	assert_string_equal(out, "a");
	assert_int_equal(utf8_sanitize(out, 5, "a\xff", 2), 4);
	assert_string_equal(out, "a" FFFD);
	assert_int_equal(utf8_sanitize(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
	memset(out, 'X', sizeof(out));
	assert_int_equal(utf8_sanitize(out, 0, "abc", 3), 0);
	assert_int_equal(out[0], 'X');
}

/* The byte-at-a-time sanitizer utf8_sanitize replaced (it copies ASCII runs
 * eight bytes at a time now): the same output for any input and room. */
static size_t ref_seq_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static size_t ref_sanitize(char *dst, size_t dstlen, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	if (dstlen == 0)
		return 0;
	while (i < n && s[i]) {
		size_t k = ref_seq_len(s + i, n - i);
		const char *piece = (const char *)s + i;
		size_t plen = k;

		if (k == 0) {
			piece = FFFD;
			plen = 3;
			k = 1;
		}
		if (o + plen > dstlen - 1)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		i += k;
	}
	dst[o] = '\0';
	return o;
}

static void test_utf8_same_as_byte_at_a_time(void **state)
{
	static const char *const pieces[] = { "a",	  "/items/",	  "0123456789abcdef",
					      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					      "\xff",	  "\xc0\xaf",	  "\xed\xa0\x80",
					      "\xe2\x82", "\x7f",	  "\x01",
					      "" };
	uint64_t x = 88172645463325252ull;
	char src[96], got[256], want[256];

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = 0, len, room;

		while (n < 80) {
			const char *p;
			size_t l;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p = pieces[x % (sizeof(pieces) / sizeof(pieces[0]))];
			l = strlen(p);
			if (!l) /* a NUL inside the given length ends the string */
				src[n++] = (x >> 20) % 8 ? 'z' : '\0';
			else if (n + l <= 80) {
				memcpy(src + n, p, l);
				n += l;
			} else
				break;
		}
		len = (x >> 32) % (n + 1); /* any length, cutting sequences too */
		room = (x >> 40) % (3 * n + 4);
		memset(got, 'X', sizeof(got));
		memset(want, 'X', sizeof(want));
		assert_int_equal(utf8_sanitize(got, room, src, len),
				 ref_sanitize(want, room, src, len));
		assert_memory_equal(got, want, sizeof(got));
	}
}

static struct span base(enum span_kind kind, const char *host)
{
	struct span s = { 0 };

	s.kind = kind;
	strcpy(s.method, "GET");
	strcpy(s.target, "/");
	s.status = 200;
	snprintf(s.host, sizeof(s.host), "%s", host);
	return s;
}

static void endpoint(struct span_endpoint *e, int family, const char *addr, uint16_t port)
{
	e->family = (uint16_t)family;
	e->port = port;
	inet_pton(family, addr, e->addr);
}

static void assert_server(const struct span *sp, const char *addr, uint16_t port)
{
	char got[SPAN_HOST_LEN];
	uint16_t got_port = 12345;

	span_server_endpoint(sp, got, sizeof(got), &got_port);
	assert_string_equal(got, addr);
	assert_int_equal(got_port, port);
}

static void test_server_from_host_header(void **state)
{
	struct span s;

	(void)state;
	s = base(SPAN_SERVER, "shop.example:8443");
	endpoint(&s.local, AF_INET, "10.0.0.1", 8080);
	assert_server(&s, "shop.example", 8443);
	/* no port in Host: the port the server listens on, else HTTP's default */
	s = base(SPAN_SERVER, "shop.example");
	endpoint(&s.local, AF_INET, "10.0.0.1", 8080);
	assert_server(&s, "shop.example", 8080);
	s = base(SPAN_SERVER, "shop.example");
	assert_server(&s, "shop.example", 80);
	/* IPv6 literals, RFC 3986 §3.2.2 */
	s = base(SPAN_SERVER, "[::1]:8080");
	assert_server(&s, "::1", 8080);
	s = base(SPAN_SERVER, "[2001:db8::1]");
	endpoint(&s.local, AF_INET6, "2001:db8::1", 9000);
	assert_server(&s, "2001:db8::1", 9000);
	/* a client reports the port it really connected to (a proxy, a tunnel) */
	s = base(SPAN_CLIENT, "api.example.com:8443");
	endpoint(&s.peer, AF_INET, "192.0.2.7", 3128);
	assert_server(&s, "api.example.com", 3128);
	s = base(SPAN_CLIENT, "api.example.com:8443");
	assert_server(&s, "api.example.com", 8443);
}

static void test_server_from_socket(void **state)
{
	struct span s;
	char small[8];
	uint16_t port;

	(void)state;
	s = base(SPAN_SERVER, "");
	endpoint(&s.local, AF_INET, "127.0.0.1", 8080);
	endpoint(&s.peer, AF_INET, "10.9.9.9", 50000);
	assert_server(&s, "127.0.0.1", 8080);
	s = base(SPAN_CLIENT, "");
	endpoint(&s.local, AF_INET, "127.0.0.1", 50000);
	endpoint(&s.peer, AF_INET6, "::ffff:10.0.0.9", 5432);
	assert_server(&s, "10.0.0.9", 5432);
	s = base(SPAN_CLIENT, "");
	endpoint(&s.peer, AF_INET6, "fd00::5", 443);
	assert_server(&s, "fd00::5", 443);
	/* IPv4 is written without inet_ntop: every octet width, and zero */
	s = base(SPAN_CLIENT, "");
	endpoint(&s.peer, AF_INET, "0.9.10.255", 1);
	assert_server(&s, "0.9.10.255", 1);
	s = base(SPAN_CLIENT, "");
	endpoint(&s.peer, AF_INET6, "::ffff:255.100.0.7", 2);
	assert_server(&s, "255.100.0.7", 2);
	/* not IPv4-mapped: IPv6 text */
	s = base(SPAN_CLIENT, "");
	endpoint(&s.peer, AF_INET6, "::fffe:1.2.3.4", 3);
	assert_server(&s, "::fffe:102:304", 3);

	/* a long Host in a short buffer: cut, terminated */
	s = base(SPAN_SERVER, "very-long-host.example.com:81");
	span_server_endpoint(&s, small, sizeof(small), &port);
	assert_string_equal(small, "very-lo");
	assert_int_equal(port, 81);
}

static void test_copy_cut_says_when_it_cut(void **state)
{
	char buf[4] = "xyz";

	(void)state;
	assert_false(copy_cut(buf, sizeof(buf), "abc", 3));
	assert_string_equal(buf, "abc");
	assert_true(copy_cut(buf, sizeof(buf), "abcd", 4));
	assert_string_equal(buf, "abc");
	assert_false(copy_cut(buf, sizeof(buf), "", 0));
	assert_string_equal(buf, "");
	/* no room at all: nothing written, cut unless there was nothing */
	buf[0] = 'q';
	assert_true(copy_cut(buf, 0, "a", 1));
	assert_false(copy_cut(buf, 0, "", 0));
	assert_int_equal(buf[0], 'q');
}

static void test_error_type(void **state)
{
	struct span s;
	char buf[16];

	(void)state;
	s = base(SPAN_SERVER, "");
	s.status = 503;
	span_error_type(&s, buf, sizeof(buf));
	assert_string_equal(buf, "503");
	s.status = 404;
	span_error_type(&s, buf, sizeof(buf));
	assert_string_equal(buf, "");
	s.kind = SPAN_CLIENT;
	span_error_type(&s, buf, sizeof(buf));
	assert_string_equal(buf, "404");
	s.status = 0;
	span_error_type(&s, buf, sizeof(buf));
	assert_string_equal(buf, "no_response");
}

static const struct attr *find_attr(const struct span_attrs *a, const char *key)
{
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->items[i].key, key) == 0)
			return &a->items[i];
	return NULL;
}

static void assert_str_attr(const struct span_attrs *a, const char *key, const char *want)
{
	const struct attr *at = find_attr(a, key);

	if (!at)
		fail_msg("no attribute %s", key);
	assert_int_equal(at->type, ATTR_STR);
	if (at->str_len != strlen(want) || memcmp(at->str, want, at->str_len))
		fail_msg("%s is \"%.*s\", not \"%s\"", key, (int)at->str_len, at->str, want);
}

static void assert_int_attr(const struct span_attrs *a, const char *key, int64_t want)
{
	const struct attr *at = find_attr(a, key);

	if (!at)
		fail_msg("no attribute %s", key);
	assert_int_equal(at->type, ATTR_INT);
	assert_int_equal(at->num, want);
}

static void test_attrs_of_server_span(void **state)
{
	struct span s = base(SPAN_SERVER, "shop.example:8443");
	struct span_attrs a;

	(void)state;
	strcpy(s.method, "POST");
	strcpy(s.target, "/caf\xe9/42?q=\xff&x=1#frag");
	s.status = 502;
	s.request_body_bytes = 12;
	s.response_body_bytes = 0;
	strcpy(s.user_agent, "curl/8.5.0");
	endpoint(&s.local, AF_INET, "10.0.0.1", 8443);
	endpoint(&s.peer, AF_INET6, "::ffff:10.0.0.9", 51000);

	span_attrs_build(&a, &s, "/caf\xe9/{id}", 0);
	assert_str_attr(&a, "http.request.method", "POST");
	assert_str_attr(&a, "url.path", "/caf" FFFD "/42");
	assert_null(find_attr(&a, "url.query"));
	assert_str_attr(&a, "url.scheme", "http");
	assert_str_attr(&a, "http.route", "/caf" FFFD "/{id}");
	assert_int_attr(&a, "http.response.status_code", 502);
	assert_str_attr(&a, "network.protocol.name", "http");
	assert_str_attr(&a, "network.protocol.version", "1.0");
	assert_str_attr(&a, "server.address", "shop.example");
	assert_int_attr(&a, "server.port", 8443);
	assert_str_attr(&a, "client.address", "10.0.0.9");
	assert_int_attr(&a, "client.port", 51000);
	assert_str_attr(&a, "network.peer.address", "10.0.0.9");
	assert_int_attr(&a, "http.request.body.size", 12);
	assert_int_attr(&a, "http.response.body.size", 0);
	assert_str_attr(&a, "user_agent.original", "curl/8.5.0");
	assert_str_attr(&a, "error.type", "502");

	span_attrs_build(&a, &s, NULL, SPAN_ATTRS_QUERY);
	assert_str_attr(&a, "url.query", "q=" FFFD "&x=1#frag");
	assert_null(find_attr(&a, "http.route"));
}

static void test_attrs_of_client_span_without_response(void **state)
{
	struct span s = base(SPAN_CLIENT, "");
	struct span_attrs a;

	(void)state;
	s.status = 0;
	s.flags = SPAN_F_NO_RESPONSE;
	s.version_minor = 1;
	strcpy(s.target, "/api/v1?page=2");
	endpoint(&s.peer, AF_INET, "192.0.2.1", 80);
	span_attrs_build(&a, &s, "/", SPAN_ATTRS_QUERY);
	/* plain ASCII is referred to in the span, cut where the path ends */
	assert_str_attr(&a, "url.path", "/api/v1");
	assert_str_attr(&a, "url.query", "page=2");
	assert_null(find_attr(&a, "http.response.status_code"));
	assert_null(find_attr(&a, "http.response.body.size"));
	assert_null(find_attr(&a, "client.address"));
	assert_null(find_attr(&a, "user_agent.original"));
	assert_str_attr(&a, "server.address", "192.0.2.1");
	assert_int_attr(&a, "server.port", 80);
	assert_str_attr(&a, "network.protocol.version", "1.1");
	assert_str_attr(&a, "error.type", "no_response");
}

static void test_attrs_fit_with_longest_fields(void **state)
{
	struct span s = base(SPAN_SERVER, "");
	struct span_attrs a;

	(void)state;
	/* every string field full of bytes that each become 3 */
	memset(s.target, '\xff', sizeof(s.target) - 1);
	s.target[0] = '/';
	memset(s.host, '\xfe', sizeof(s.host) - 1);
	memset(s.user_agent, '\xfd', sizeof(s.user_agent) - 1);
	endpoint(&s.peer, AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	span_attrs_build(&a, &s, "/\xff\xff/{id}", SPAN_ATTRS_QUERY);
	assert_true(a.used <= sizeof(a.scratch));
	/* nothing cut or left out */
	assert_int_equal(find_attr(&a, "url.path")->str_len, 3 * (sizeof(s.target) - 2) + 1);
	assert_int_equal(find_attr(&a, "server.address")->str_len, 3 * (sizeof(s.host) - 1));
	assert_int_equal(find_attr(&a, "user_agent.original")->str_len,
			 3 * (sizeof(s.user_agent) - 1));
	assert_str_attr(&a, "network.peer.address", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_attr(&a, "server.port", 80);
	for (int i = 0; i < a.n; i++) {
		char str[sizeof(a.scratch)];

		if (a.items[i].type != ATTR_STR)
			continue;
		assert_true(a.items[i].str_len < sizeof(str));
		memcpy(str, a.items[i].str, a.items[i].str_len);
		str[a.items[i].str_len] = '\0';
		assert_true(valid_utf8(str));
	}
	assert_int_attr(&a, "http.response.status_code", 200);
}

/* The keys only `sonde trace` prints come with SPAN_ATTRS_CONSOLE, in the
 * same list as every other attribute. */
static void test_attrs_console_keys(void **state)
{
	struct span s = base(SPAN_SERVER, "");
	struct span_attrs a;

	(void)state;
	endpoint(&s.local, AF_INET6, "::1", 8443);
	endpoint(&s.peer, AF_INET, "10.0.0.9", 51000);
	strcpy(s.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	s.version_major = 2;
	s.stream_id = 7;
	s.flags = SPAN_F_RESET | SPAN_F_LOST_SYNC;
	span_attrs_build(&a, &s, NULL, 0);
	assert_null(find_attr(&a, "network.local.address"));
	assert_null(find_attr(&a, "sonde.traceparent"));
	assert_null(find_attr(&a, "sonde.http2.stream_id"));
	assert_null(find_attr(&a, "sonde.http2.reset"));
	assert_null(find_attr(&a, "sonde.truncated"));

	span_attrs_build(&a, &s, NULL, SPAN_ATTRS_CONSOLE);
	assert_str_attr(&a, "network.local.address", "::1");
	assert_int_attr(&a, "network.local.port", 8443);
	assert_str_attr(&a, "sonde.traceparent",
			"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
	assert_int_attr(&a, "sonde.http2.stream_id", 7);
	assert_int_equal(find_attr(&a, "sonde.http2.reset")->type, ATTR_BOOL);
	assert_int_equal(find_attr(&a, "sonde.http2.reset")->num, 1);
	assert_int_equal(find_attr(&a, "sonde.truncated")->num, 1);
	assert_str_attr(&a, "network.protocol.version", "2");

	/* gRPC calls: body sizes on the console only, never http.* otherwise */
	strcpy(s.target, "/pkg.Svc/Get");
	s.flags = SPAN_F_GRPC | SPAN_F_GRPC_STATUS;
	s.request_body_bytes = 10;
	s.response_body_bytes = 20;
	span_attrs_build(&a, &s, NULL, SPAN_ATTRS_QUERY);
	assert_str_attr(&a, "rpc.service", "pkg.Svc");
	assert_null(find_attr(&a, "http.request.body.size"));
	assert_null(find_attr(&a, "http.response.body.size"));
	span_attrs_build(&a, &s, NULL, SPAN_ATTRS_CONSOLE);
	assert_int_attr(&a, "http.request.body.size", 10);
	assert_int_attr(&a, "http.response.body.size", 20);
	assert_null(find_attr(&a, "http.request.method"));
	assert_null(find_attr(&a, "sonde.truncated"));
}

/* A span with every field set gives every attribute, none dropped for want
 * of room (SPAN_ATTRS_MAX), and its strings fit the scratch area even when
 * every byte is invalid. */
static void test_attrs_fullest_span(void **state)
{
	static const char *const keys[] = {
		"http.request.method",
		"url.path",
		"url.query",
		"url.scheme",
		"http.route",
		"http.response.status_code",
		"network.protocol.name",
		"network.protocol.version",
		"server.address",
		"server.port",
		"client.address",
		"client.port",
		"network.peer.address",
		"network.peer.port",
		"network.local.address",
		"network.local.port",
		"http.request.body.size",
		"http.response.body.size",
		"user_agent.original",
		"sonde.traceparent",
		"error.type",
		"sonde.http2.stream_id",
		"sonde.http2.reset",
		"sonde.truncated",
	};
	struct span s = base(SPAN_SERVER, "");
	struct span_attrs a;

	(void)state;
	memset(s.method, '\xfc', sizeof(s.method) - 1);
	memset(s.target, '\xff', sizeof(s.target) - 1);
	s.target[0] = '/';
	s.target[200] = '?';
	memset(s.host, '\xfe', sizeof(s.host) - 1);
	memset(s.user_agent, '\xfd', sizeof(s.user_agent) - 1);
	memset(s.traceparent, '\xfb', sizeof(s.traceparent) - 1);
	endpoint(&s.local, AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe", 65534);
	endpoint(&s.peer, AF_INET6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	s.status = 503;
	s.stream_id = 1;
	s.flags = SPAN_F_RESET | SPAN_F_TARGET_TRUNCATED;
	span_attrs_build(&a, &s, "/\xff\xff/{id}", SPAN_ATTRS_QUERY | SPAN_ATTRS_CONSOLE);
	assert_int_equal(a.n, (int)(sizeof(keys) / sizeof(keys[0])));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_string_equal(a.items[i].key, keys[i]);
	assert_true(a.used <= sizeof(a.scratch));
	assert_int_equal(find_attr(&a, "sonde.traceparent")->str_len,
			 3 * (sizeof(s.traceparent) - 1));
	assert_int_equal(find_attr(&a, "user_agent.original")->str_len,
			 3 * (sizeof(s.user_agent) - 1));
	assert_str_attr(&a, "network.local.address", "2001:db8:ffff:ffff:ffff:ffff:ffff:fffe");
}

static void test_split_host(void **state)
{
	const char *h;
	uint16_t port;

	(void)state;
	assert_int_equal(span_split_host("[::1]:8080", &h, &port), 3);
	assert_memory_equal(h, "::1", 3);
	assert_int_equal(port, 8080);
	assert_int_equal(span_split_host("a.example", &h, &port), 9);
	assert_int_equal(port, 0);
	assert_int_equal(span_split_host("a.example:81", &h, &port), 9);
	assert_int_equal(port, 81);
	assert_int_equal(span_split_host("a.example:65535", &h, &port), 9);
	assert_int_equal(port, 65535);
	/* Out of range or not a number: no port, rather than one wrapped. */
	assert_int_equal(span_split_host("a.example:65536", &h, &port), 9);
	assert_int_equal(port, 0);
	assert_int_equal(span_split_host("a.example:x1", &h, &port), 9);
	assert_int_equal(port, 0);
}

/* A database span: the database conventions' keys from the one mapping, the
 * server from the socket, the SQLSTATE as error.type; nothing of HTTP. */
static void test_attrs_of_db_span(void **state)
{
	struct span s = { 0 };
	struct span_attrs a;

	(void)state;
	s.kind = SPAN_CLIENT;
	s.flags = SPAN_F_DB | SPAN_F_DB_ERROR | SPAN_F_QUERY_TRUNCATED;
	s.db.system = SPAN_DB_POSTGRESQL;
	strcpy(s.db.operation, "SELECT");
	strcpy(s.db.collection, "orders");
	strcpy(s.db.name_space, "shop");
	strcpy(s.db.status_code, "42601");
	strcpy(s.db.query, "SELECT * FROM orders WHERE customer = ? AND total > ?");
	s.db.returned_rows = -1;
	endpoint(&s.peer, AF_INET, "10.0.0.5", 5432);
	endpoint(&s.local, AF_INET, "10.0.0.9", 40000);
	span_attrs_build(&a, &s, NULL, SPAN_ATTRS_QUERY);
	assert_str_attr(&a, "db.system.name", "postgresql");
	assert_str_attr(&a, "db.namespace", "shop");
	assert_str_attr(&a, "db.operation.name", "SELECT");
	assert_str_attr(&a, "db.collection.name", "orders");
	assert_str_attr(&a, "db.query.text",
			"SELECT * FROM orders WHERE customer = ? AND total > ?");
	assert_str_attr(&a, "db.response.status_code", "42601");
	assert_str_attr(&a, "error.type", "42601");
	assert_str_attr(&a, "server.address", "10.0.0.5");
	assert_int_attr(&a, "server.port", 5432);
	assert_str_attr(&a, "network.peer.address", "10.0.0.5");
	assert_null(find_attr(&a, "db.response.returned_rows"));
	assert_null(find_attr(&a, "http.request.method"));
	assert_null(find_attr(&a, "url.path"));
	/* the query was cut at the cap: said in every output */
	assert_true(find_attr(&a, "sonde.truncated") != NULL);
	/* rows when the protocol told them; no error without an error */
	s.flags = SPAN_F_DB;
	s.db.status_code[0] = '\0';
	s.db.returned_rows = 3;
	span_attrs_build(&a, &s, NULL, 0);
	assert_int_attr(&a, "db.response.returned_rows", 3);
	assert_null(find_attr(&a, "error.type"));
	assert_false(span_is_error(&s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_valid_text_unchanged),
		cmocka_unit_test(test_utf8_invalid_bytes_replaced),
		cmocka_unit_test(test_utf8_truncated_sequences),
		cmocka_unit_test(test_utf8_output_truncated_at_characters),
		cmocka_unit_test(test_utf8_same_as_byte_at_a_time),
		cmocka_unit_test(test_server_from_host_header),
		cmocka_unit_test(test_server_from_socket),
		cmocka_unit_test(test_copy_cut_says_when_it_cut),
		cmocka_unit_test(test_error_type),
		cmocka_unit_test(test_attrs_of_server_span),
		cmocka_unit_test(test_attrs_of_db_span),
		cmocka_unit_test(test_attrs_of_client_span_without_response),
		cmocka_unit_test(test_attrs_fit_with_longest_fields),
		cmocka_unit_test(test_attrs_console_keys),
		cmocka_unit_test(test_attrs_fullest_span),
		cmocka_unit_test(test_split_host),
	};

	return cmocka_run_group_tests_name("span_attrs", tests, NULL, NULL);
}
