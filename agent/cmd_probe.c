/* SPDX-License-Identifier: MIT */
/* `sonde probe`: what this kernel offers and which hooks sonde would use. */
#include <stdio.h>
#include <string.h>

#include "cmd_probe.h"
#include "kernel_features.h"
#include "json.h"

static void row(const char *name, bool ok, const char *detail)
{
	printf("  %-22s %-4s %s\n", name, ok ? "yes" : "no", detail ? detail : "");
}

static void print_text(const struct sonde_features *f, const char *missing)
{
	printf("kernel %s\n", f->kernel_release);
	row("privileges", f->privileged, "CAP_BPF + CAP_PERFMON, or root");
	row("BTF", f->btf, "/sys/kernel/btf/vmlinux");
	row("ring buffer", f->ringbuf, "BPF_MAP_TYPE_RINGBUF");
	row("tracepoint programs", f->tracepoint_prog, NULL);
	row("raw tracepoints", f->raw_tracepoint, NULL);
	row("syscall tracepoints", f->syscall_tracepoints,
	    f->tracefs[0] ? f->tracefs : "no tracefs");
	row("bpf_task_pt_regs", f->task_pt_regs, "syscall arguments at exit");
	row("uprobes", f->uprobes, NULL);
	row("kprobes", f->kprobes, NULL);
	row("fentry", f->fentry, NULL);
	row("cgroup v2", f->cgroup_v2, f->cgroup2_path);
	printf("  %-22s %s\n", "lockdown", f->lockdown);
	printf("  %-22s %s\n", "hook set", f->hook_set);
	if (missing)
		printf("sonde cannot run here: %s\n", missing);
	else
		printf("sonde can run on this kernel\n");
}

static void print_json(const struct sonde_features *f, const char *missing)
{
	char buf[2048];
	struct json_buf j;

	json_begin(&j, buf, sizeof(buf));
	json_str(&j, "kernel", f->kernel_release);
	json_bool(&j, "privileged", f->privileged);
	json_bool(&j, "btf", f->btf);
	json_bool(&j, "ringbuf", f->ringbuf);
	json_bool(&j, "tracepoint_prog", f->tracepoint_prog);
	json_bool(&j, "raw_tracepoint", f->raw_tracepoint);
	json_bool(&j, "syscall_tracepoints", f->syscall_tracepoints);
	json_bool(&j, "task_pt_regs", f->task_pt_regs);
	json_bool(&j, "uprobes", f->uprobes);
	json_bool(&j, "kprobes", f->kprobes);
	json_bool(&j, "fentry", f->fentry);
	json_bool(&j, "cgroup_v2", f->cgroup_v2);
	json_str(&j, "cgroup2_path", f->cgroup2_path);
	json_str(&j, "lockdown", f->lockdown);
	json_str(&j, "tracefs", f->tracefs);
	json_str(&j, "hook_set", f->hook_set);
	json_bool(&j, "can_run", missing == NULL);
	if (missing)
		json_str(&j, "reason", missing);
	else
		json_null(&j, "reason");
	if (json_end(&j) > 0)
		printf("%s\n", buf);
}

int cmd_probe(int argc, char **argv)
{
	struct sonde_features f;
	bool json = false;
	char why[512];
	const char *missing;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--output") && i + 1 < argc && !strcmp(argv[i + 1], "json")) {
			json = true;
			i++;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: sonde probe [--output json]\n\n"
			       "Shows what this kernel offers and which hooks sonde uses;\n"
			       "exits 1 with the reason when sonde cannot run here.\n");
			return 0;
		} else {
			fprintf(stderr, "sonde: unknown probe option '%s' (try --help)\n", argv[i]);
			return 2;
		}
	}
	features_probe(&f);
	missing = features_missing(&f, why, sizeof(why));
	if (json)
		print_json(&f, missing);
	else
		print_text(&f, missing);
	return missing ? 1 : 0;
}
