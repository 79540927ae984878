/* SPDX-License-Identifier: MIT */
/*
 * Loads sonde's BPF programs the way `sonde trace` does and reads back what the
 * kernel says about each. verified_insns (Linux 5.16) is the number of
 * instructions the verifier had to walk: it grows with every branch added to a
 * hook and fails the load at 1M, so the kernel matrix prints it per kernel to
 * show the trend long before a kernel rejects a program.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "host/prog_stats.h"
#include "tls/tls_report.h"
#include "core/tracer.h"

/* "tracepoint/syscalls/sys_exit_read" -> "tracepoint", "syscalls/sys_exit_read":
 * the section name is what libbpf attaches by, so it is the hook actually used. */
static void split_section(const char *sec, struct prog_stat *ps)
{
	const char *slash = strchr(sec, '/');
	size_t n = slash ? (size_t)(slash - sec) : strlen(sec);

	snprintf(ps->hook, sizeof(ps->hook), "%.*s", (int)n, sec);
	snprintf(ps->attach, sizeof(ps->attach), "%s", slash ? slash + 1 : "");
}

static int read_stat(const struct bpf_program *prog, struct prog_stat *ps)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	/* libbpf 1.1 has no bpf_prog_get_info_by_fd yet. */
	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return -errno;
	snprintf(ps->name, sizeof(ps->name), "%s", bpf_program__name(prog));
	split_section(bpf_program__section_name(prog), ps);
	/* Kernels older than the field leave it zero (len says how much they filled). */
	ps->verified_insns = info.verified_insns;
	ps->xlated_insns = info.xlated_prog_len / sizeof(struct bpf_insn);
	ps->jited_bytes = info.jited_prog_len;
	return 0;
}

int prog_stats_collect(struct prog_stats *st)
{
	/* The largest programs sonde can load: dead-code elimination of the
	 * const volatile settings removes the filters when they are off. */
	struct tracer_opts opts = {
		.filter_pid = true,
		.filter_cgroup = true,
		.comm = "sonde-probe",
		.follow_children = true,
		.tls = true,
		.tls_all = true,
		.node_context = true, /* loaded; attached by the injector when needed */
		.verbose = true,      /* a rejected program's verifier log is the point */
	};
	FILE *f;
	struct bpf_program *prog;
	struct tracer *t;
	int err = 0;

	memset(st, 0, sizeof(*st));
	t = tracer_open(&opts, NULL, NULL);
	if (!t)
		return -errno;
	tracer_start_tls(t);
	bpf_object__for_each_program(prog, tracer_bpf_object(t))
	{
		struct prog_stat *ps;

		if (!bpf_program__autoload(prog))
			continue;
		if (st->n == PROG_STATS_MAX) {
			err = -E2BIG;
			break;
		}
		ps = &st->progs[st->n];
		err = read_stat(prog, ps);
		if (err)
			break;
		/* Uprobes are attached by the agent, not by section name. */
		if (tracer_uprobe_func(t, prog))
			snprintf(ps->attach, sizeof(ps->attach), "%s", tracer_uprobe_func(t, prog));
		st->verified_total += ps->verified_insns;
		st->n++;
	}
	f = fmemopen(st->tls_text, sizeof(st->tls_text), "w");
	if (f) {
		tls_report_text(f, "", tracer_tls(t), 0);
		fclose(f);
	}
	if (tls_report_json(st->tls_json, sizeof(st->tls_json), tracer_tls(t)) < 0)
		snprintf(st->tls_json, sizeof(st->tls_json), "[]");
	tracer_close(t);
	return err;
}
