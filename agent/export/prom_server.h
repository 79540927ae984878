/* SPDX-License-Identifier: MIT */
/*
 * The pull endpoint: GET /metrics (Prometheus text format) and GET /healthz on
 * its own thread, one connection at a time with short timeouts, so a stuck
 * scraper cannot hold the agent.
 */
#ifndef SONDE_PROM_SERVER_H
#define SONDE_PROM_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "export/prom_text.h"

/* Fills sb with the exposition (openmetrics: in the OpenMetrics format, with
 * exemplars); called on the server thread. */
typedef void (*prom_render_fn)(void *ctx, struct strbuf *sb, bool openmetrics);
/* Returns 0 when healthy, else writes a one-line reason. */
typedef int (*prom_health_fn)(void *ctx, char *why, size_t len);

struct prom_server;

/* Binds address:port and starts the thread. NULL with errno set on failure
 * (after logging one line: "cannot listen on 0.0.0.0:9464: Address in use"). */
struct prom_server *prom_server_start(const char *address, uint16_t port, prom_render_fn render,
				      prom_health_fn health, void *ctx);
void prom_server_stop(struct prom_server *s);
/* The port really bound (useful with port 0 in tests). */
uint16_t prom_server_port(const struct prom_server *s);

#endif /* SONDE_PROM_SERVER_H */
