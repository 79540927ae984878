/* SPDX-License-Identifier: MIT */
#include "protocols/sql/db_query.h"
#include "util/utf8.h"

size_t db_query_cap(const struct protocol_settings *s)
{
	if (!s || !s->db_query_max || s->db_query_max > SPAN_DB_QUERY_LEN - 1)
		return SPAN_DB_QUERY_LEN - 1;
	return s->db_query_max;
}

void db_span_set_query(struct span *sp, const struct protocol_settings *s, enum sql_dialect d,
		       const char *q, size_t n)
{
	struct sql_summary sum;
	size_t cap = db_query_cap(s) + 1;
	bool cut = false;
	struct utf8_buf u;

	sql_summarize(d, q, n, &sum);
	db_copy_str(sp->db.operation, sizeof(sp->db.operation), sum.operation,
		    sizeof(sum.operation));
	db_copy_str(sp->db.collection, sizeof(sp->db.collection), sum.collection,
		    sizeof(sum.collection));
	switch (s ? s->db_query : DB_QUERY_SANITIZED) {
	case DB_QUERY_RAW:
		utf8_buf_init(&u, sp->db.query, cap);
		utf8_buf_put(&u, q, n);
		cut = u.cut;
		break;
	case DB_QUERY_NONE:
		sp->db.query[0] = '\0';
		break;
	default:
		sql_sanitize(d, q, n, sp->db.query, cap, &cut);
		break;
	}
	if (cut)
		sp->flags |= SPAN_F_QUERY_TRUNCATED;
}

void db_copy_str(char *dst, size_t cap, const char *src, size_t n)
{
	struct utf8_buf u;
	size_t len = 0;

	/* Up to a NUL: fixed-size fields and C strings alike. */
	while (len < n && src[len])
		len++;
	utf8_buf_init(&u, dst, cap);
	utf8_buf_put(&u, src, len);
}
