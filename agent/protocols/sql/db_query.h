/* SPDX-License-Identifier: MIT */
/*
 * What every SQL protocol puts into a database span from a query's text, the
 * same way under the same settings (protocols/protocol.h, struct
 * protocol_settings): db.operation.name and db.collection.name from the
 * summariser, db.query.text sanitised (default), raw or left out, cut at the
 * configured cap on a character boundary. Pure code.
 */
#ifndef SONDE_DB_QUERY_H
#define SONDE_DB_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "protocols/protocol.h"
#include "protocols/sql/sql.h"
#include "spans/span.h"

/* The db.query.text cap that applies: the setting, or the whole buffer when
 * it is 0 (not set) or larger. */
size_t db_query_cap(const struct protocol_settings *s);

/*
 * Fills sp->db.query, .operation and .collection from q[0..n), the text the
 * client sent (or the part of it that was captured), and sets
 * SPAN_F_QUERY_TRUNCATED when db.query.text was cut at the cap. s may be NULL
 * (the defaults: sanitised, 2 KiB).
 */
void db_span_set_query(struct span *sp, const struct protocol_settings *s, enum sql_dialect d,
		       const char *q, size_t n);

/* Copies a short protocol string (database name, status code) into a span
 * field as valid UTF-8, cut on a character boundary. */
void db_copy_str(char *dst, size_t cap, const char *src, size_t n);

#endif /* SONDE_DB_QUERY_H */
