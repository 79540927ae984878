/* SPDX-License-Identifier: MIT */
/*
 * A client of the Node.js inspector, just enough for one Runtime.evaluate:
 * the target list over HTTP, the WebSocket handshake, the request and its
 * answer (nodejs/cdp.h, nodejs/websocket.h). The connection is made from the
 * process's own network namespace, where the inspector listens on loopback.
 */
#ifndef SONDE_INSPECTOR_H
#define SONDE_INSPECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "nodejs/node_proc.h"

/* Evaluates expr (len bytes of JavaScript) in the process pid whose
 * inspector listens at l, then waits (briefly) for the inspector to close
 * the connection, which an expression that ends the inspector makes it do.
 * Every step is bounded by timeout_ms. Returns 0 with the expression's
 * string value in value, or -errno with why saying which step failed. */
int inspector_evaluate(uint32_t pid, const struct tcp_listener *l, const char *expr, size_t len,
		       int timeout_ms, char *value, size_t cap, char *why, size_t why_len);

/* A TCP socket (non-blocking, close-on-exec) in the network namespace of
 * pid: created by a short-lived thread that enters the namespace, so the
 * agent's own threads never leave theirs. Returns the fd or -errno. */
int inspector_netns_socket(uint32_t pid, int family);

#endif /* SONDE_INSPECTOR_H */
