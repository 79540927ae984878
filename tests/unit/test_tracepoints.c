/* SPDX-License-Identifier: MIT */
/*
 * Leaving out the tracepoint programs whose event this kernel lacks (a syscall
 * an architecture does not have), on sonde's real BPF object (opened, not
 * loaded: no root) against a tracefs made here: only those programs stop
 * loading, and the message names them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "host/tracepoints.h"

static char tracefs[64];

static void add_event(const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), "mkdir -p %s/events/%s", tracefs, event);
	assert_int_equal(system(path), 0);
}

/* A tracefs with every event sonde's programs use except sendfile64's and
 * accept's, as if this were an architecture without them. */
static int setup(void **state)
{
	const char *obj_path = getenv("SONDE_BPF_OBJ");
	struct bpf_object *obj;
	struct bpf_program *p;

	snprintf(tracefs, sizeof(tracefs), "/tmp/sonde-tracefs-XXXXXX");
	if (!mkdtemp(tracefs))
		return -1;
	obj = bpf_object__open_file(obj_path ? obj_path : "build/sonde.bpf.o", NULL);
	if (!obj)
		return -1;
	bpf_object__for_each_program(p, obj)
	{
		const char *sec = bpf_program__section_name(p);

		if (strncmp(sec, "tracepoint/", 11) ||
		    !strcmp(sec + 11, "syscalls/sys_exit_accept") ||
		    !strcmp(sec + 11, "syscalls/sys_exit_sendfile64"))
			continue;
		add_event(sec + 11);
	}
	*state = obj;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	bpf_object__close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tracefs);
	return system(cmd);
}

static bool loads(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	assert_non_null(p);
	return bpf_program__autoload(p);
}

static void test_only_missing_events_left_out(void **state)
{
	struct bpf_object *obj = *state;
	char missing[128];

	assert_int_equal(tracepoints_skip_missing(obj, tracefs, missing, sizeof(missing)), 2);
	assert_string_equal(missing, "syscalls/sys_exit_sendfile64, syscalls/sys_exit_accept");
	assert_false(loads(obj, "sys_exit_accept"));
	assert_false(loads(obj, "sys_exit_sendfile"));
	assert_true(loads(obj, "sys_exit_accept4"));
	assert_true(loads(obj, "sys_exit_read"));
	assert_true(loads(obj, "sched_process_exit"));
	/* not a tracepoint: left as it was */
	assert_true(loads(obj, "sched_process_fork"));
	/* nothing more to leave out; a short buffer is cut, not overrun */
	add_event("syscalls/sys_exit_accept");
	assert_int_equal(tracepoints_skip_missing(obj, tracefs, missing, 4), 0);
	assert_string_equal(missing, "");
}

static void test_message_cut_to_fit(void **state)
{
	struct bpf_object *obj = *state;
	char missing[12];

	/* every event gone: all the rest counted, the message cut */
	assert_true(tracepoints_skip_missing(obj, "/nonexistent", missing, sizeof(missing)) > 10);
	assert_int_equal(strlen(missing), sizeof(missing) - 1);
	assert_false(loads(obj, "sys_exit_read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_only_missing_events_left_out),
		cmocka_unit_test(test_message_cut_to_fit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
