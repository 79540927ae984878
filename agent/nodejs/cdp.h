/* SPDX-License-Identifier: MIT */
/*
 * The few Chrome DevTools Protocol messages sonde exchanges with a Node.js
 * inspector: the target list (HTTP GET /json/list) that names the WebSocket
 * to open, one Runtime.evaluate request, and its response. Pure.
 */
#ifndef SONDE_CDP_H
#define SONDE_CDP_H

#include <stddef.h>

#define CDP_PATH_MAX 256

/* GET /json/list for the inspector at host ("127.0.0.1:9229"). Returns the
 * request's length, or -ENOSPC. */
int cdp_list_request(char *buf, size_t cap, const char *host);
/* The body of a complete HTTP response in buf[0..len): 1 with *body and
 * *body_len set; 0 when more bytes are needed (the head, or a body shorter
 * than its Content-Length; eof: the peer closed, so what came is all);
 * -EPROTO for a status other than 200 or a malformed head. */
int cdp_http_body(const char *buf, size_t len, int eof, const char **body, size_t *body_len);
/* The path of the first target's webSocketDebuggerUrl in a /json/list body
 * ("/<uuid>" from "ws://127.0.0.1:9229/<uuid>"). Returns 0, -ENOENT when no
 * target has one, -EPROTO when the body is not a JSON array of objects,
 * -ENAMETOOLONG when the path does not fit. */
int cdp_ws_path(const char *body, size_t len, char *path, size_t cap);

/* {"id":id,"method":"Runtime.evaluate","params":{...}} for expression, with
 * the console's command-line API (Node adds `require` to it), the value
 * returned by value, and exceptions not reported to the console. Returns the
 * message's length, or -ENOSPC. */
int cdp_evaluate_request(char *buf, size_t cap, int id, const char *expression, size_t len);
/* A message from the inspector, as the answer to request id: 1 when it is
 * and the expression gave a string (copied into value), -EPROTO when it is
 * and the evaluation failed or gave something else (value says what), 0 for
 * any other message (events, other ids, not JSON). */
int cdp_evaluate_result(const char *msg, size_t len, int id, char *value, size_t cap);

#endif /* SONDE_CDP_H */
