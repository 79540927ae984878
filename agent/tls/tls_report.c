/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdlib.h>

#include "util/json.h"
#include "tls/tls_attach.h"
#include "tls/tls_report.h"

#define MAX_LISTED 64

static size_t list(const struct tls_attach *ta, struct tls_hook_info **out)
{
	size_t n;

	*out = calloc(MAX_LISTED, sizeof(**out));
	if (!*out)
		return 0;
	n = tls_attach_list(ta, *out, MAX_LISTED);
	return n < MAX_LISTED ? n : MAX_LISTED;
}

void tls_report_text(FILE *f, const char *indent, const struct tls_attach *ta, uint64_t no_fd)
{
	struct tls_hook_info *h;
	size_t n;

	if (!ta) {
		fprintf(f, "%stls: off\n", indent);
		return;
	}
	n = list(ta, &h);
	fprintf(f,
		"%stls: %zu binaries hooked, %" PRIu64 " uprobes failed to attach, %" PRIu64
		" plaintext calls without a socket\n",
		indent, n, tls_attach_failures(ta), no_fd);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s  %s: %s%s%s, %zu uprobes", indent, h[i].path,
			tls_kind_name(h[i].kind), h[i].go_version[0] ? " " : "", h[i].go_version,
			h[i].uprobes);
		if (h[i].kind == TLS_KIND_GO)
			fprintf(f, ", functions from %s, offsets from %s",
				h[i].symtab ? "the symbol table" : ".gopclntab",
				h[i].layout_source);
		if (!h[i].active)
			fprintf(f, ", unhooked: its processes exited\n");
		else if (h[i].system)
			fprintf(f, ", for every process (traced processes using it: %u)\n",
				h[i].processes);
		else
			fprintf(f, ", traced processes using it: %u\n", h[i].processes);
	}
	free(h);
}

int tls_report_json(char *buf, size_t cap, const struct tls_attach *ta)
{
	struct tls_hook_info *h;
	size_t n = list(ta, &h), len = 0;

	if (cap < 3) {
		free(h);
		return -1;
	}
	buf[len++] = '[';
	for (size_t i = 0; i < n; i++) {
		struct json_buf j;
		int k;

		if (i)
			buf[len++] = ',';
		json_begin(&j, buf + len, cap - len - 1);
		json_str(&j, "path", h[i].path);
		json_str(&j, "library", tls_kind_name(h[i].kind));
		json_u64(&j, "uprobes", h[i].uprobes);
		json_u64(&j, "processes", h[i].processes);
		json_bool(&j, "system", h[i].system);
		json_bool(&j, "active", h[i].active);
		if (h[i].kind == TLS_KIND_GO) {
			json_str(&j, "go_version", h[i].go_version);
			json_str(&j, "functions_from", h[i].symtab ? "symtab" : "gopclntab");
			json_str(&j, "offsets_from", h[i].layout_source);
		}
		k = json_end(&j);
		if (k < 0 || len + (size_t)k + 3 > cap) {
			free(h);
			return -1;
		}
		len += (size_t)k;
	}
	buf[len++] = ']';
	buf[len] = '\0';
	free(h);
	return (int)len;
}
