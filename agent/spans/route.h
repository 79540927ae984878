/* SPDX-License-Identifier: MIT */
/*
 * http.route without the application's help: a URL path turned into a
 * low-cardinality template by replacing segments that look like identifiers
 * with "{id}" (/users/123/orders/9f3c2a1b → /users/{id}/orders/{id}), and a
 * per-service cap on distinct templates. Pure code.
 */
#ifndef SONDE_ROUTE_H
#define SONDE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROUTE_LEN      128
#define ROUTE_OVERFLOW "/{other}" /* every template past a service's cap */

/* Writes the template of path[0..len) (no query) into out, NUL-terminated and
 * truncated to outlen - 1. Returns the length written. */
size_t route_template(const char *path, size_t len, char *out, size_t outlen);

/* The distinct templates seen per service, bounded: a service keeps its first
 * `limit` templates; later new ones are folded into ROUTE_OVERFLOW. */
struct route_set;

struct route_set *route_set_new(uint32_t limit);
void route_set_free(struct route_set *rs);
/* Returns the stored copy of route when it is known or fits under the cap,
 * else ROUTE_OVERFLOW (counted; also on allocation failure). Never NULL. */
const char *route_set_admit(struct route_set *rs, const char *route);
uint64_t route_set_overflows(const struct route_set *rs);
uint32_t route_set_count(const struct route_set *rs);

/* Route sets by service name; services past max_services share one set. */
struct route_registry;

struct route_registry *route_registry_new(uint32_t per_service_limit, uint32_t max_services);
void route_registry_free(struct route_registry *rr);
const char *route_registry_admit(struct route_registry *rr, const char *service, const char *route);
/* Templates folded into ROUTE_OVERFLOW, over every service. */
uint64_t route_registry_overflows(const struct route_registry *rr);

#endif /* SONDE_ROUTE_H */
