/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "host/path_access.h"
#include "host/tracepoints.h"

/* "tracepoint/syscalls/sys_exit_read" (or "tp/…") -> "syscalls/sys_exit_read" */
static const char *tracepoint_event(const char *sec)
{
	if (!strncmp(sec, "tracepoint/", 11))
		return sec + 11;
	if (!strncmp(sec, "tp/", 3))
		return sec + 3;
	return NULL;
}

int tracepoints_skip_missing(struct bpf_object *obj, const char *tracefs, char *missing, size_t len)
{
	struct bpf_program *prog;
	size_t used = 0;
	int n = 0;

	if (len)
		missing[0] = '\0';
	bpf_object__for_each_program(prog, obj)
	{
		const char *event = tracepoint_event(bpf_program__section_name(prog));
		char path[512];
		int w;

		if (!event || !bpf_program__autoload(prog))
			continue;
		snprintf(path, sizeof(path), "%s/events/%s", tracefs, event);
		/* Only an event that is not there is left out; stat, not access(),
		 * so that a non-root user's capabilities count (host/path_access.h). */
		if (path_lookup(path) != -ENOENT)
			continue;
		bpf_program__set_autoload(prog, false);
		n++;
		if (used < len) {
			w = snprintf(missing + used, len - used, "%s%s", used ? ", " : "", event);
			used += w > 0 ? (size_t)w : 0;
		}
	}
	return n;
}
