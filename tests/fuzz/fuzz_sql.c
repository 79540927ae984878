/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SQL sanitiser and summariser: any bytes, either
 * dialect, any output size. The output must stay in its buffer, be valid
 * UTF-8 and hold no NUL before its end.
 * Build: make fuzz; run: build/fuzz/fuzz_sql -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/sql/sql.h"
#include "util/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum sql_dialect d;
	struct sql_summary sum;
	size_t cap, len;
	char *out;

	if (size < 2)
		return 0;
	d = data[0] & 1 ? SQL_MYSQL : SQL_POSTGRESQL;
	cap = data[1] % 64 ? data[1] % 64 : 4096;
	data += 2;
	size -= 2;
	out = malloc(cap);
	if (!out)
		return 0;
	len = sql_sanitize(d, (const char *)data, size, out, cap, NULL);
	if (len >= cap || strlen(out) != len)
		abort();
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len((const unsigned char *)out + i, len - i);

		if (!k)
			abort();
		i += k;
	}
	free(out);
	sql_summarize(d, (const char *)data, size, &sum);
	if (strlen(sum.operation) >= sizeof(sum.operation) ||
	    strlen(sum.collection) >= sizeof(sum.collection))
		abort();
	return 0;
}
