/* SPDX-License-Identifier: MIT */
/* HTTP/2 and gRPC behind the protocol interface (protocols/protocol.h). */
#ifndef SONDE_HTTP2_PROTOCOL_H
#define SONDE_HTTP2_PROTOCOL_H

#include "protocols/http2/http2_spans.h"
#include "protocols/protocol.h"

/* Shared by every HTTP/2 connection. */
struct http2_shared {
	struct http2_stats stats;
};

extern const struct protocol http2_protocol;

#endif /* SONDE_HTTP2_PROTOCOL_H */
