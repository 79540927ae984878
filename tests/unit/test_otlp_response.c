/* SPDX-License-Identifier: MIT */
/* What the exporter makes of a collector's answer: done, retry (and when) or give up. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "export/otlp_response.h"

/* Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110. */
#define DATE_T 784111777
#define MAX_MS OTLP_RETRY_AFTER_MAX_MS

static struct export_outcome http(long status, const char *retry_after)
{
	struct otlp_response r = { .http_status = status,
				   .content_type = "",
				   .retry_after = retry_after,
				   .grpc_status = -1,
				   .grpc_message = "" };
	struct export_outcome out;

	memset(&out, 0x55, sizeof(out));
	otlp_response_classify(&r, false, DATE_T, &out);
	return out;
}

static struct export_outcome grpc(long status, int code, const char *message,
				  const char *retry_after)
{
	struct otlp_response r = { .http_status = status,
				   .content_type = "application/grpc",
				   .retry_after = retry_after,
				   .grpc_status = code,
				   .grpc_message = message };
	struct export_outcome out;

	memset(&out, 0x55, sizeof(out));
	otlp_response_classify(&r, true, DATE_T, &out);
	return out;
}

static struct export_outcome http_body(long status, const char *type, const void *body, size_t len)
{
	struct otlp_response r = { .http_status = status,
				   .content_type = type,
				   .retry_after = "",
				   .grpc_status = -1,
				   .grpc_message = "",
				   .body = body,
				   .body_len = len };
	struct export_outcome out;

	otlp_response_classify(&r, false, DATE_T, &out);
	return out;
}

static void test_http_status_classes(void **state)
{
	static const long ok[] = { 200, 202, 204, 299 };
	static const long retry[] = { 429, 502, 503, 504 };
	static const long fail[] = { 0,	  100, 199, 301, 304, 400, 401,
				     403, 404, 408, 413, 500, 501, 505 };
	struct export_outcome out;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		out = http(ok[i], "");
		assert_int_equal(out.result, EXPORT_OK);
		assert_int_equal(out.retry_after_ms, 0);
	}
	out = http(200, "");
	assert_string_equal(out.detail, "HTTP 200");
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
		assert_true(otlp_http_retryable(retry[i]));
		assert_int_equal(http(retry[i], "").result, EXPORT_RETRY);
	}
	out = http(503, "");
	assert_string_equal(out.detail, "HTTP 503");
	assert_int_equal(out.retry_after_ms, 0);
	for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++) {
		assert_false(otlp_http_retryable(fail[i]));
		assert_int_equal(http(fail[i], "").result, EXPORT_FAIL);
	}
	assert_string_equal(http(400, "").detail, "HTTP 400");
}

static void test_retry_after_only_when_retrying(void **state)
{
	(void)state;
	assert_int_equal(http(503, "7").retry_after_ms, 7000);
	assert_int_equal(http(429, "7").retry_after_ms, 7000);
	/* a delay on an answer that is not retried means nothing */
	assert_int_equal(http(400, "7").retry_after_ms, 0);
	assert_int_equal(http(200, "7").retry_after_ms, 0);
}

static void test_http_error_bodies(void **state)
{
	/* google.rpc.Status { code: 3 (field 1), message: "bad span" (field 2) } */
	static const uint8_t status[] = { 0x08, 0x03, 0x12, 0x08, 'b', 'a',
					  'd',	' ',  's',  'p',  'a', 'n' };
	static const uint8_t truncated[] = { 0x08, 0x03, 0x12, 0x08, 'b', 'a' };
	const char *text = "quota\r\nexceeded";

	(void)state;
	assert_string_equal(http_body(400, "application/x-protobuf", status, sizeof(status)).detail,
			    "HTTP 400: bad span");
	assert_string_equal(http_body(400, "application/protobuf", status, sizeof(status)).detail,
			    "HTTP 400: bad span");
	assert_string_equal(
		http_body(400, "application/x-protobuf", truncated, sizeof(truncated)).detail,
		"HTTP 400");
	/* text is kept as it came, with what would break the log line replaced */
	assert_string_equal(http_body(503, "text/plain", text, strlen(text)).detail,
			    "HTTP 503: quota??exceeded");
	assert_string_equal(http_body(400, "application/json", "{\"code\":3}", 10).detail,
			    "HTTP 400: {\"code\":3}");
	/* a body of any other type says nothing we could show */
	assert_string_equal(http_body(400, "text/html", "", 0).detail, "HTTP 400");
	assert_string_equal(
		http_body(400, "application/octet-stream", status, sizeof(status)).detail,
		"HTTP 400");
}

static void test_grpc_status_codes(void **state)
{
	static const int retryable[] = { 1, 4, 8, 10, 11, 14, 15 };
	struct export_outcome out;

	(void)state;
	out = grpc(200, 0, "", "");
	assert_int_equal(out.result, EXPORT_OK);
	assert_string_equal(out.detail, "grpc-status 0");
	for (int code = 1; code <= 16; code++) {
		bool want = false;

		for (size_t i = 0; i < sizeof(retryable) / sizeof(retryable[0]); i++)
			want |= retryable[i] == code;
		assert_int_equal(otlp_grpc_retryable(code), want);
		out = grpc(200, code, "", "30");
		assert_int_equal(out.result, want ? EXPORT_RETRY : EXPORT_FAIL);
		/* gRPC's delay would be in RetryInfo, which is not read */
		assert_int_equal(out.retry_after_ms, 0);
	}
	assert_string_equal(grpc(200, 3, "", "").detail, "grpc-status 3 INVALID_ARGUMENT");
	/* grpc-message is percent-encoded */
	assert_string_equal(grpc(200, 14, "try%20again%2C later", "").detail,
			    "grpc-status 14 UNAVAILABLE: try again, later");
	assert_string_equal(grpc(200, 8, "100%", "").detail,
			    "grpc-status 8 RESOURCE_EXHAUSTED: 100%");
	assert_string_equal(grpc(200, 16, "bad%0Aline", "").detail,
			    "grpc-status 16 UNAUTHENTICATED: bad?line");
	out = grpc(200, 99, "", "");
	assert_int_equal(out.result, EXPORT_FAIL);
	assert_string_equal(out.detail, "grpc-status 99 UNKNOWN_CODE");
}

static void test_grpc_without_status(void **state)
{
	struct export_outcome out;

	(void)state;
	/* a proxy's "try later" still means try later, with its delay */
	out = grpc(503, -1, "", "5");
	assert_int_equal(out.result, EXPORT_RETRY);
	assert_int_equal(out.retry_after_ms, 5000);
	assert_string_equal(out.detail, "HTTP 503, no grpc-status");
	out = grpc(200, -1, "", "5");
	assert_int_equal(out.result, EXPORT_FAIL);
	assert_int_equal(out.retry_after_ms, 0);
	assert_string_equal(out.detail, "HTTP 200, no grpc-status");
	assert_int_equal(grpc(404, -1, "", "").result, EXPORT_FAIL);
}

static void test_retry_after_seconds(void **state)
{
	(void)state;
	assert_int_equal(otlp_retry_after_ms("", DATE_T), 0);
	assert_int_equal(otlp_retry_after_ms("0", DATE_T), 0);
	assert_int_equal(otlp_retry_after_ms("1", DATE_T), 1000);
	assert_int_equal(otlp_retry_after_ms("0120", DATE_T), 120000);
	/* the cap, exactly and past it, and numbers no integer holds */
	assert_int_equal(otlp_retry_after_ms("300", DATE_T), MAX_MS);
	assert_int_equal(otlp_retry_after_ms("301", DATE_T), MAX_MS);
	assert_int_equal(otlp_retry_after_ms("99999999999999999999999999", DATE_T), MAX_MS);
}

static void test_retry_after_dates(void **state)
{
	(void)state;
	/* the three forms RFC 9110 has a recipient accept, 30 s ahead */
	assert_int_equal(otlp_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", DATE_T - 30), 30000);
	assert_int_equal(otlp_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", DATE_T - 30), 30000);
	assert_int_equal(otlp_retry_after_ms("Sun Nov  6 08:49:37 1994", DATE_T - 30), 30000);
	assert_int_equal(otlp_retry_after_ms("Sun Nov 06 08:49:37 1994", DATE_T - 30), 30000);
	/* senders are not always careful about case */
	assert_int_equal(otlp_retry_after_ms("sun, 06 NOV 1994 08:49:37 GMT", DATE_T - 1), 1000);
	/* a leap day and a leap second */
	assert_int_equal(otlp_retry_after_ms("Thu, 29 Feb 2024 23:59:59 GMT", 1709251199 - 2),
			 2000);
	assert_int_equal(otlp_retry_after_ms("Sat, 31 Dec 2016 23:59:60 GMT", 1483228800 - 5),
			 5000);
	/* now, or already past: no wait */
	assert_int_equal(otlp_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", DATE_T), 0);
	assert_int_equal(otlp_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", DATE_T + 3600), 0);
	/* far ahead: capped */
	assert_int_equal(otlp_retry_after_ms("Sun, 06 Nov 1994 08:54:38 GMT", DATE_T), MAX_MS);
	assert_int_equal(otlp_retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", DATE_T), MAX_MS);
	/* RFC 850 two-digit years below 70 are this century */
	assert_int_equal(otlp_retry_after_ms("Thursday, 29-Feb-24 23:59:59 GMT", 1709251199 - 2),
			 2000);
}

static void test_retry_after_bad_values(void **state)
{
	static const char *const bad[] = {
		"soon",
		"-5",
		"+5",
		"5s",
		"1.5",
		" ",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37",
		"Sun, 06 Nov 1994 08:49:37 GMT trailing",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun,06 Nov 1994 08:49:37 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 06 November 1994 08:49:37 GMT",
		"Sun, 31 Feb 1994 08:49:37 GMT",
		"Sun, 29 Feb 2023 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994",
		"May 1 2024",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* every one of them far in the future if it were read as a date */
		if (otlp_retry_after_ms(bad[i], 0))
			fail_msg("Retry-After '%s' was understood", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_status_classes),
		cmocka_unit_test(test_retry_after_only_when_retrying),
		cmocka_unit_test(test_http_error_bodies),
		cmocka_unit_test(test_grpc_status_codes),
		cmocka_unit_test(test_grpc_without_status),
		cmocka_unit_test(test_retry_after_seconds),
		cmocka_unit_test(test_retry_after_dates),
		cmocka_unit_test(test_retry_after_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
