/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "protocols/postgres/pg_wire.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define GIB (1024u * MIB)

/* Length fields count themselves: 4 is an empty body. Names (statements,
 * portals) are at most NAMEDATALEN - 1 = 63 bytes, given room here. */
bool pg_frontend_plausible(uint8_t type, uint32_t len)
{
	switch (type) {
	case PG_F_QUERY:
		return len >= 5 && len < GIB;
	case PG_F_PARSE:
		return len >= 8 && len < GIB;
	case PG_F_BIND:
		return len >= 12 && len < GIB;
	case PG_F_DESCRIBE:
	case PG_F_CLOSE:
		return len >= 6 && len <= 4 + 1 + KIB;
	case PG_F_EXECUTE:
		return len >= 9 && len <= 4 + KIB + 4;
	case PG_F_SYNC:
	case PG_F_FLUSH:
	case PG_F_TERMINATE:
	case PG_F_COPY_DONE:
		return len == 4;
	case PG_F_FUNCTION_CALL:
		return len >= 14 && len < GIB;
	case PG_F_COPY_DATA:
		return len >= 4 && len < GIB;
	case PG_F_COPY_FAIL:
		return len >= 5 && len < MIB;
	case PG_F_PASSWORD:
		return len >= 5 && len < MIB;
	}
	return false;
}

bool pg_backend_plausible(uint8_t type, uint32_t len)
{
	switch (type) {
	case PG_B_AUTH:
		return len >= 8 && len < MIB;
	case PG_B_KEY_DATA:
		return len >= 12 && len <= 12 + 256;
	case PG_B_PARAMETER_STATUS:
		return len >= 6 && len < 64 * KIB;
	case PG_B_READY:
		return len == 5;
	case PG_B_ROW_DESCRIPTION:
		return len >= 6 && len < 64 * MIB;
	case PG_B_DATA_ROW:
		return len >= 6 && len < GIB;
	case PG_B_COMMAND_COMPLETE:
		return len >= 5 && len <= 4 + 256;
	case PG_B_EMPTY_QUERY:
	case PG_B_PARSE_COMPLETE:
	case PG_B_BIND_COMPLETE:
	case PG_B_CLOSE_COMPLETE:
	case PG_B_NO_DATA:
	case PG_B_PORTAL_SUSPENDED:
	case PG_B_COPY_DONE:
		return len == 4;
	case PG_B_ERROR:
	case PG_B_NOTICE:
		return len >= 5 && len < MIB;
	case PG_B_NOTIFICATION:
		return len >= 10 && len < MIB;
	case PG_B_PARAMETER_DESCRIPTION:
		return len >= 6 && len <= 6 + 65535u * 4;
	case PG_B_COPY_IN:
	case PG_B_COPY_OUT:
	case PG_B_COPY_BOTH:
		return len >= 7 && len <= 7 + 65535u * 2;
	case PG_B_COPY_DATA:
		return len >= 4 && len < GIB;
	case PG_B_FUNCTION_RESULT:
		return len >= 8 && len < GIB;
	case PG_B_NEGOTIATE_VERSION:
		return len >= 12 && len < 64 * KIB;
	}
	return false;
}

enum pg_startup_kind pg_startup_kind(uint32_t len, uint32_t code)
{
	if (code == PG_SSL_CODE && len == 8)
		return PG_STARTUP_SSL;
	if (code == PG_GSSENC_CODE && len == 8)
		return PG_STARTUP_GSSENC;
	if (code == PG_CANCEL_CODE && len >= 16 && len <= 16 + 256)
		return PG_STARTUP_CANCEL;
	/* Protocol 3.x: "user" is required, so at least one parameter. */
	if ((code >> 16) == 3 && len > 8 && len <= PG_STARTUP_MAX_LEN)
		return PG_STARTUP;
	return PG_STARTUP_NONE;
}

bool pg_cstring(struct pg_body b, size_t *off, const char **s, size_t *n)
{
	const uint8_t *start = *off < b.n ? b.p + *off : NULL;
	const uint8_t *nul = start ? memchr(start, '\0', b.n - *off) : NULL;

	*s = (const char *)start;
	if (!nul) {
		*n = start ? b.n - *off : 0;
		*off = b.n;
		return false;
	}
	*n = (size_t)(nul - start);
	*off += *n + 1;
	return true;
}

bool pg_startup_database(struct pg_body params, const char **db, size_t *n)
{
	size_t off = 0;

	for (;;) {
		const char *key, *val;
		size_t klen, vlen;

		if (!pg_cstring(params, &off, &key, &klen) || !klen)
			return false;
		if (!pg_cstring(params, &off, &val, &vlen))
			return false;
		if (klen == 8 && !memcmp(key, "database", 8) && vlen) {
			*db = val;
			*n = vlen;
			return true;
		}
	}
}

bool pg_error_code(struct pg_body b, const char **code, size_t *n)
{
	size_t off = 0;

	while (off < b.n && b.p[off]) {
		uint8_t field = b.p[off++];
		const char *val;
		size_t vlen;

		if (!pg_cstring(b, &off, &val, &vlen))
			return false;
		if (field == 'C') {
			*code = val;
			*n = vlen;
			return true;
		}
	}
	return false;
}

void pg_command_tag(struct pg_body b, char *verb, size_t verb_len, int64_t *rows)
{
	size_t off = 0, n, v = 0, last;
	const char *tag;

	*rows = -1;
	if (verb_len)
		verb[0] = '\0';
	if (!pg_cstring(b, &off, &tag, &n))
		return;
	while (v < n && tag[v] >= 'A' && tag[v] <= 'Z')
		v++;
	if (verb_len) {
		size_t k = v < verb_len - 1 ? v : verb_len - 1;

		memcpy(verb, tag, k);
		verb[k] = '\0';
	}
	/* The count is the last word: "SELECT 5", "INSERT 0 5", "UPDATE 5". */
	last = n;
	while (last > v && tag[last - 1] >= '0' && tag[last - 1] <= '9')
		last--;
	if (last == n || last == v || tag[last - 1] != ' ' || n - last > 18)
		return;
	*rows = 0;
	for (size_t i = last; i < n; i++)
		*rows = *rows * 10 + (tag[i] - '0');
}
