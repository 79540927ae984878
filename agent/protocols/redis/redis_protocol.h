/* SPDX-License-Identifier: MIT */
/* Redis (RESP2 and RESP3) behind the protocol interface (protocols/protocol.h). */
#ifndef SONDE_REDIS_PROTOCOL_H
#define SONDE_REDIS_PROTOCOL_H

#include "protocols/protocol.h"
#include "protocols/redis/redis_session.h"

/* Shared by every Redis connection. */
struct redis_shared {
	struct redis_stats stats;
};

extern const struct protocol redis_protocol;

#endif /* SONDE_REDIS_PROTOCOL_H */
