/* SPDX-License-Identifier: MIT */
/* The inspector's target list and one Runtime.evaluate, as Node.js 20 sends them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "nodejs/cdp.h"

/* Node.js 20's answer to GET /json/list (Host: 127.0.0.1), as captured. */
static const char list_body[] =
	"[ {\n"
	"  \"description\": \"node.js instance\",\n"
	"  \"devtoolsFrontendUrl\": \"devtools://devtools/bundled/js_app.html?experiments=true&"
	"v8only=true&ws=127.0.0.1/3213162b-de82-4bf8-bee8-4ee7d8380237\",\n"
	"  \"faviconUrl\": \"https://nodejs.org/static/images/favicons/favicon.ico\",\n"
	"  \"id\": \"3213162b-de82-4bf8-bee8-4ee7d8380237\",\n"
	"  \"title\": \"srv.js\",\n"
	"  \"type\": \"node\",\n"
	"  \"url\": \"file:///tmp/nodeexp/srv.js\",\n"
	"  \"webSocketDebuggerUrl\": \"ws://127.0.0.1/3213162b-de82-4bf8-bee8-4ee7d8380237\"\n"
	"} ]\n\n";

static char *response(const char *head_extra, const char *body)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
		 "HTTP/1.0 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n"
		 "Cache-Control: no-cache\r\n%s\r\n%s",
		 head_extra, body);
	return buf;
}

static void test_list_request(void **state)
{
	char buf[128];
	int n;

	(void)state;
	n = cdp_list_request(buf, sizeof(buf), "127.0.0.1:9229");
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:9229\r\n"
				 "Connection: close\r\n\r\n");
	assert_int_equal(cdp_list_request(buf, 20, "127.0.0.1:9229"), -ENOSPC);
}

static void test_http_body(void **state)
{
	char head[64];
	const char *body, *r;
	size_t len, total;

	(void)state;
	snprintf(head, sizeof(head), "Content-Length: %zu\r\n", strlen(list_body));
	r = response(head, list_body);
	total = strlen(r);
	assert_int_equal(cdp_http_body(r, total, 0, &body, &len), 1);
	assert_int_equal(len, strlen(list_body));
	assert_memory_equal(body, list_body, len);
	/* any cut short of the whole: more is needed; at end of stream: broken */
	for (size_t cut = 0; cut < total; cut++) {
		assert_int_equal(cdp_http_body(r, cut, 0, &body, &len), 0);
		assert_int_equal(cdp_http_body(r, cut, 1, &body, &len), -EPROTO);
	}
	/* without Content-Length the body ends with the connection */
	r = response("", list_body);
	assert_int_equal(cdp_http_body(r, strlen(r), 0, &body, &len), 0);
	assert_int_equal(cdp_http_body(r, strlen(r), 1, &body, &len), 1);
	assert_int_equal(len, strlen(list_body));
	/* not a 200 */
	r = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(cdp_http_body(r, strlen(r), 1, &body, &len), -EPROTO);
	r = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
	assert_int_equal(cdp_http_body(r, strlen(r), 1, &body, &len), -EPROTO);
	r = response("Content-Length: x\r\n", "");
	assert_int_equal(cdp_http_body(r, strlen(r), 1, &body, &len), -EPROTO);
}

static void test_ws_path(void **state)
{
	char path[CDP_PATH_MAX];
	const char *two =
		"[{\"type\":\"node\"},{\"webSocketDebuggerUrl\":\"ws://[::1]:9230/abc\"}]";

	(void)state;
	assert_int_equal(cdp_ws_path(list_body, strlen(list_body), path, sizeof(path)), 0);
	assert_string_equal(path, "/3213162b-de82-4bf8-bee8-4ee7d8380237");
	/* the first target that has one; any host form */
	assert_int_equal(cdp_ws_path(two, strlen(two), path, sizeof(path)), 0);
	assert_string_equal(path, "/abc");
	/* none */
	assert_int_equal(cdp_ws_path("[]", 2, path, sizeof(path)), -ENOENT);
	assert_int_equal(
		cdp_ws_path("[{\"webSocketDebuggerUrl\":\"http://x/y\"}]", 39, path, sizeof(path)),
		-ENOENT);
	assert_int_equal(cdp_ws_path("[{\"webSocketDebuggerUrl\":7}]", 28, path, sizeof(path)),
			 -ENOENT);
	/* not a list of targets */
	assert_int_equal(cdp_ws_path("{}", 2, path, sizeof(path)), -EPROTO);
	assert_int_equal(cdp_ws_path("[1]", 3, path, sizeof(path)), -EPROTO);
	assert_int_equal(cdp_ws_path("[{", 2, path, sizeof(path)), -EPROTO);
	assert_int_equal(cdp_ws_path("<html>", 6, path, sizeof(path)), -EPROTO);
	/* too long for the caller */
	assert_int_equal(cdp_ws_path(list_body, strlen(list_body), path, 8), -ENAMETOOLONG);
}

static void test_evaluate_request(void **state)
{
	/* what must survive the trip: quotes, backslashes, newlines, tabs, non-ASCII */
	const char *expr = "(function () {\n\t// \"quoted\" \\ é\n\treturn 'ok';\n})()";
	struct json_object *m, *v, *params;
	char buf[512];
	int n;

	(void)state;
	n = cdp_evaluate_request(buf, sizeof(buf), 7, expr, strlen(expr));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	m = json_tokener_parse(buf);
	assert_non_null(m);
	assert_true(json_object_object_get_ex(m, "id", &v));
	assert_int_equal(json_object_get_int(v), 7);
	assert_true(json_object_object_get_ex(m, "method", &v));
	assert_string_equal(json_object_get_string(v), "Runtime.evaluate");
	assert_true(json_object_object_get_ex(m, "params", &params));
	assert_true(json_object_object_get_ex(params, "expression", &v));
	assert_string_equal(json_object_get_string(v), expr);
	assert_true(json_object_object_get_ex(params, "includeCommandLineAPI", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(params, "returnByValue", &v));
	assert_true(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(params, "silent", &v));
	assert_true(json_object_get_boolean(v));
	json_object_put(m);
	assert_int_equal(cdp_evaluate_request(buf, 40, 7, expr, strlen(expr)), -ENOSPC);
}

static int result(const char *msg, char *value, size_t cap)
{
	return cdp_evaluate_result(msg, strlen(msg), 1, value, cap);
}

static void test_evaluate_result(void **state)
{
	char v[64];

	(void)state;
	/* as Node.js 20 answered */
	assert_int_equal(result("{\"id\":1,\"result\":{\"result\":{\"type\":\"string\","
				"\"value\":\"installed\"}}}",
				v, sizeof(v)),
			 1);
	assert_string_equal(v, "installed");
	/* cut to the caller's buffer */
	assert_int_equal(result("{\"id\":1,\"result\":{\"result\":{\"type\":\"string\","
				"\"value\":\"installed\"}}}",
				v, 4),
			 1);
	assert_string_equal(v, "ins");
	/* a thrown exception */
	assert_int_equal(result("{\"id\":1,\"result\":{\"result\":{\"type\":\"object\"},"
				"\"exceptionDetails\":{\"text\":\"Uncaught\",\"exception\":"
				"{\"description\":\"ReferenceError: x is not defined\"}}}}",
				v, sizeof(v)),
			 -EPROTO);
	assert_string_equal(v, "ReferenceError: x is not defined");
	assert_int_equal(result("{\"id\":1,\"result\":{\"result\":{},\"exceptionDetails\":"
				"{\"text\":\"Uncaught\"}}}",
				v, sizeof(v)),
			 -EPROTO);
	assert_string_equal(v, "Uncaught");
	/* the protocol refused */
	assert_int_equal(result("{\"id\":1,\"error\":{\"code\":-32601,\"message\":"
				"\"'Runtime.evaluat' wasn't found\"}}",
				v, sizeof(v)),
			 -EPROTO);
	assert_string_equal(v, "'Runtime.evaluat' wasn't found");
	/* a value of another type */
	assert_int_equal(
		result("{\"id\":1,\"result\":{\"result\":{\"type\":\"undefined\"}}}", v, sizeof(v)),
		-EPROTO);
	assert_string_equal(v, "undefined");
	/* not the answer: another id, an event, not JSON */
	assert_int_equal(result("{\"id\":2,\"result\":{\"result\":{\"type\":\"string\","
				"\"value\":\"installed\"}}}",
				v, sizeof(v)),
			 0);
	assert_int_equal(result("{\"method\":\"Runtime.executionContextCreated\",\"params\":{}}", v,
				sizeof(v)),
			 0);
	assert_int_equal(result("{\"id\":1,", v, sizeof(v)), 0);
	assert_int_equal(result("", v, sizeof(v)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_request),	cmocka_unit_test(test_http_body),
		cmocka_unit_test(test_ws_path),		cmocka_unit_test(test_evaluate_request),
		cmocka_unit_test(test_evaluate_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
