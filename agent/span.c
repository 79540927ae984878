/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "span.h"

bool span_is_error(const struct span *s)
{
	if (s->status == 0 || (s->flags & SPAN_F_NO_RESPONSE))
		return true;
	return s->kind == SPAN_SERVER ? s->status >= 500 : s->status >= 400;
}

size_t span_path_len(const struct span *s)
{
	return strcspn(s->target, "?#");
}

const char *span_query(const struct span *s)
{
	const char *q = strchr(s->target, '?');

	return q ? q + 1 : NULL;
}

void span_endpoint_addr(const struct span_endpoint *e, char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (e->family == AF_INET6 && !memcmp(e->addr, v4mapped, sizeof(v4mapped))) {
		inet_ntop(AF_INET, e->addr + 12, buf, (socklen_t)len);
	} else if (e->family == AF_INET || e->family == AF_INET6) {
		inet_ntop(e->family, e->addr, buf, (socklen_t)len);
	} else if (len) {
		strncpy(buf, "-", len);
		buf[len - 1] = '\0';
	}
}
