/* SPDX-License-Identifier: MIT */
/* MySQL and MariaDB behind the protocol interface (protocols/protocol.h). */
#ifndef SONDE_MYSQL_PROTOCOL_H
#define SONDE_MYSQL_PROTOCOL_H

#include "protocols/mysql/mysql_session.h"
#include "protocols/protocol.h"

/* Shared by every MySQL connection. */
struct mysql_shared {
	struct mysql_stats stats;
};

extern const struct protocol mysql_protocol;

#endif /* SONDE_MYSQL_PROTOCOL_H */
