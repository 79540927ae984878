/* SPDX-License-Identifier: MIT */
/* PostgreSQL behind the protocol interface (protocols/protocol.h). */
#ifndef SONDE_POSTGRES_PROTOCOL_H
#define SONDE_POSTGRES_PROTOCOL_H

#include "protocols/postgres/pg_session.h"
#include "protocols/protocol.h"

/* Shared by every PostgreSQL connection. */
struct postgres_shared {
	struct postgres_stats stats;
};

extern const struct protocol postgres_protocol;

#endif /* SONDE_POSTGRES_PROTOCOL_H */
