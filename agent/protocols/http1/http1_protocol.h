/* SPDX-License-Identifier: MIT */
/* HTTP/1.x behind the protocol interface (protocols/protocol.h). */
#ifndef SONDE_HTTP1_PROTOCOL_H
#define SONDE_HTTP1_PROTOCOL_H

#include "protocols/http1/http1_spans.h"
#include "protocols/protocol.h"

/* Shared by every HTTP/1 connection. */
struct http1_shared {
	struct http1_stats stats;
	struct http1_pool pool;
};

extern const struct protocol http1_protocol;

#endif /* SONDE_HTTP1_PROTOCOL_H */
