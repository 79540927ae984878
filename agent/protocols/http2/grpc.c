/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "protocols/http2/grpc.h"

#define CONTENT_TYPE "application/grpc"

bool grpc_is_content_type(const char *v, size_t len)
{
	size_t n = strlen(CONTENT_TYPE);

	if (len < n || strncasecmp(v, CONTENT_TYPE, n) != 0)
		return false;
	return len == n || v[n] == '+' || v[n] == ';';
}

bool grpc_split_path(const char *path, size_t len, const char **service, size_t *service_len,
		     const char **method, size_t *method_len)
{
	const char *slash;

	if (len < 4 || path[0] != '/')
		return false;
	slash = memchr(path + 1, '/', len - 1);
	if (!slash || slash == path + 1 || slash == path + len - 1)
		return false;
	/* No third segment, no query: a call path is exactly two names. */
	if (memchr(slash + 1, '/', (size_t)(path + len - slash - 1)) || memchr(path, '?', len))
		return false;
	*service = path + 1;
	*service_len = (size_t)(slash - path - 1);
	*method = slash + 1;
	*method_len = (size_t)(path + len - slash - 1);
	return true;
}

int grpc_parse_status(const char *v, size_t len)
{
	int code = 0;

	if (len == 0 || len > 2)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		code = code * 10 + (v[i] - '0');
	}
	return code <= GRPC_STATUS_MAX ? code : -1;
}

static const char *const status_names[GRPC_STATUS_MAX + 1] = {
	"OK",
	"CANCELLED",
	"UNKNOWN",
	"INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED",
	"NOT_FOUND",
	"ALREADY_EXISTS",
	"PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION",
	"ABORTED",
	"OUT_OF_RANGE",
	"UNIMPLEMENTED",
	"INTERNAL",
	"UNAVAILABLE",
	"DATA_LOSS",
	"UNAUTHENTICATED",
};

const char *grpc_status_name(int code)
{
	if (code < 0 || code > GRPC_STATUS_MAX)
		return "UNKNOWN_CODE";
	return status_names[code];
}

bool grpc_status_is_server_error(int code)
{
	switch (code) {
	case 2:	 /* UNKNOWN */
	case 4:	 /* DEADLINE_EXCEEDED */
	case 12: /* UNIMPLEMENTED */
	case 13: /* INTERNAL */
	case 14: /* UNAVAILABLE */
	case 15: /* DATA_LOSS */
		return true;
	}
	return false;
}

int grpc_status_from_h2_error(uint32_t h2_error)
{
	switch (h2_error) {
	case 0x7:	   /* REFUSED_STREAM: never processed, safe to retry */
		return 14; /* UNAVAILABLE */
	case 0x8:	   /* CANCEL */
		return 1;  /* CANCELLED */
	case 0xb:	   /* ENHANCE_YOUR_CALM */
		return 8;  /* RESOURCE_EXHAUSTED */
	case 0xc:	   /* INADEQUATE_SECURITY */
		return 7;  /* PERMISSION_DENIED */
	}
	return 13; /* INTERNAL: every other code, NO_ERROR included */
}

int grpc_status_from_http(unsigned http_status)
{
	switch (http_status) {
	case 400:
		return 13; /* INTERNAL */
	case 401:
		return 16; /* UNAUTHENTICATED */
	case 403:
		return 7; /* PERMISSION_DENIED */
	case 404:
		return 12; /* UNIMPLEMENTED */
	case 429:
	case 502:
	case 503:
	case 504:
		return 14; /* UNAVAILABLE */
	}
	return 2; /* UNKNOWN */
}
