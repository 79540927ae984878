/* SPDX-License-Identifier: MIT */
/* The requests of nodejs/cdp.h, written with util/json.h (apart from the
 * parsing in cdp.c: json-c's json_bool type and util/json.h's json_bool
 * function cannot meet in one file). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "nodejs/cdp.h"
#include "util/json.h"

int cdp_evaluate_request(char *buf, size_t cap, int id, const char *expression, size_t len)
{
	struct json_buf params, msg;
	char *pbuf;
	size_t pcap = len * 6 + 256; /* every byte escaped as \u00XX at worst */
	int n;

	pbuf = malloc(pcap);
	if (!pbuf)
		return -ENOMEM;
	json_begin(&params, pbuf, pcap);
	json_strn(&params, "expression", expression, len);
	json_bool(&params, "includeCommandLineAPI", true);
	json_bool(&params, "returnByValue", true);
	json_bool(&params, "silent", true);
	if (json_end(&params) < 0) {
		free(pbuf);
		return -ENOSPC;
	}
	json_begin(&msg, buf, cap);
	json_i64(&msg, "id", id);
	json_str(&msg, "method", "Runtime.evaluate");
	json_raw(&msg, "params", pbuf);
	n = json_end(&msg);
	free(pbuf);
	return n < 0 ? -ENOSPC : n;
}
