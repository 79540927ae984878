/* SPDX-License-Identifier: MIT */
/*
 * gRPC over HTTP/2 (grpc/grpc doc/PROTOCOL-HTTP2.md): recognising a call, its
 * service and method, and its status. Pure code.
 */
#ifndef SONDE_PROTO_GRPC_H
#define SONDE_PROTO_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status codes 0..16 (grpc/grpc doc/statuscodes.md). */
#define GRPC_STATUS_MAX 16

/* content-type is application/grpc, alone or followed by "+codec" or ";params". */
bool grpc_is_content_type(const char *v, size_t len);

/*
 * ":path" of a call is "/" Service-Name "/" Method-Name, the service name
 * being fully qualified ("package.Service"). Sets the parts (views into path)
 * and returns true when path has that shape.
 */
bool grpc_split_path(const char *path, size_t len, const char **service, size_t *service_len,
		     const char **method, size_t *method_len);

/* grpc-status value → code, or -1 when it is not a decimal 0..16. */
int grpc_parse_status(const char *v, size_t len);

/* "OK", "CANCELLED" … for 0..16, else "UNKNOWN_CODE". */
const char *grpc_status_name(int code);

/*
 * Whether a server span with this status is an error. The OpenTelemetry gRPC
 * conventions count only the codes that say the server failed: UNKNOWN,
 * DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and DATA_LOSS (a
 * NOT_FOUND is the caller's problem). For clients every non-OK code is.
 */
bool grpc_status_is_server_error(int code);

/* The status a gRPC library reports for a stream reset with an HTTP/2 error
 * code before any status arrived (PROTOCOL-HTTP2.md, "Errors"). */
int grpc_status_from_h2_error(uint32_t h2_error);

/* The status a gRPC client reports for a response with an HTTP status other
 * than 200 and no grpc-status (grpc/grpc doc/http-grpc-status-mapping.md). */
int grpc_status_from_http(unsigned http_status);

#endif /* SONDE_PROTO_GRPC_H */
