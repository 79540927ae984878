/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "nodejs/cdp.h"
#include "util/json_member.h"

#define JSON_DEPTH 16

int cdp_list_request(char *buf, size_t cap, const char *host)
{
	int n = snprintf(buf, cap,
			 "GET /json/list HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "Connection: close\r\n"
			 "\r\n",
			 host);

	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int cdp_http_body(const char *buf, size_t len, int eof, const char **body, size_t *body_len)
{
	const char *end = NULL, *line;
	long long clen = -1;

	for (size_t i = 0; i + 3 < len; i++) {
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			end = buf + i + 4;
			break;
		}
	}
	if (!end)
		return eof ? -EPROTO : 0;
	/* "HTTP/1.0 200 OK" (Node's inspector answers HTTP/1.0) */
	if (end - buf < 12 || strncmp(buf, "HTTP/1.", 7) || strncmp(buf + 8, " 200", 4))
		return -EPROTO;
	line = memchr(buf, '\n', (size_t)(end - buf)) + 1;
	while (line < end - 2) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));

		if (!strncasecmp(line, "Content-Length:", 15)) {
			char *stop;

			clen = strtoll(line + 15, &stop, 10);
			if (stop == line + 15 || clen < 0)
				return -EPROTO;
		}
		line = eol + 1;
	}
	*body = end;
	*body_len = len - (size_t)(end - buf);
	if (clen >= 0) {
		if (*body_len < (size_t)clen)
			return eof ? -EPROTO : 0;
		*body_len = (size_t)clen;
		return 1;
	}
	return eof ? 1 : 0;
}

static struct json_object *parse(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
	struct json_object *obj;

	if (!tok)
		return NULL;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (obj && json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

int cdp_ws_path(const char *body, size_t len, char *path, size_t cap)
{
	struct json_object *list = parse(body, len);
	int err = -ENOENT;
	size_t n;

	if (!list || !json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		return -EPROTO;
	}
	n = json_object_array_length(list);
	for (size_t i = 0; i < n && err == -ENOENT; i++) {
		struct json_object *t = json_object_array_get_idx(list, i);
		struct json_object *url = json_member(t, "webSocketDebuggerUrl", json_type_string);
		const char *u, *slash;

		if (!json_object_is_type(t, json_type_object)) {
			err = -EPROTO;
			break;
		}
		u = url ? json_object_get_string(url) : NULL;
		if (!u || strncmp(u, "ws://", 5) || !(slash = strchr(u + 5, '/')))
			continue;
		if (strlen(slash) >= cap)
			err = -ENAMETOOLONG;
		else
			err = (snprintf(path, cap, "%s", slash), 0);
	}
	json_object_put(list);
	return err;
}

static void copy(char *dst, size_t cap, const char *src)
{
	if (cap)
		snprintf(dst, cap, "%s", src ? src : "");
}

int cdp_evaluate_result(const char *msg, size_t len, int id, char *value, size_t cap)
{
	struct json_object *m = parse(msg, len), *v, *res, *out, *exc;
	int rc = -EPROTO;

	v = json_member(m, "id", json_type_int);
	if (!v || json_object_get_int64(v) != id) {
		json_object_put(m);
		return 0;
	}
	res = json_member(m, "result", json_type_object);
	out = json_member(res, "result", json_type_object);
	exc = json_member(res, "exceptionDetails", json_type_object);
	if ((v = json_member(m, "error", json_type_object))) {
		/* the protocol refused the request: {"code":…,"message":…} */
		v = json_member(v, "message", json_type_string);
		copy(value, cap, v ? json_object_get_string(v) : "protocol error");
	} else if (exc) {
		/* a thrown exception: its description, else the summary text */
		v = json_member(json_member(exc, "exception", json_type_object), "description",
				json_type_string);
		if (!v)
			v = json_member(exc, "text", json_type_string);
		copy(value, cap, v ? json_object_get_string(v) : "exception");
	} else if ((v = json_member(out, "value", json_type_string))) {
		copy(value, cap, json_object_get_string(v));
		rc = 1;
	} else {
		v = json_member(out, "type", json_type_string);
		copy(value, cap, v ? json_object_get_string(v) : "no result");
	}
	json_object_put(m);
	return rc;
}
