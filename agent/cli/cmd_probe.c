/* SPDX-License-Identifier: MIT */
/* `sonde probe`: what this kernel offers and which hooks sonde would use;
 * with --programs, whether the verifier accepts each program and at what cost. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cmd_probe.h"
#include "host/kernel_features.h"
#include "util/json.h"
#include "host/prog_stats.h"

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

static void print_programs_text(const struct prog_stats *st)
{
	printf("programs (every filter on: the largest sonde loads)\n");
	printf("  %-20s %-15s %-28s %9s %7s %7s\n", "PROGRAM", "HOOK", "ATTACH", "VERIFIED",
	       "XLATED", "JITED");
	for (size_t i = 0; i < st->n; i++) {
		const struct prog_stat *p = &st->progs[i];
		char verified[16] = "n/a"; /* the kernel predates verified_insns */

		if (p->verified_insns)
			snprintf(verified, sizeof(verified), "%" PRIu32, p->verified_insns);
		printf("  %-20s %-15s %-28s %9s %7" PRIu32 " %7" PRIu32 "\n", p->name, p->hook,
		       p->attach, verified, p->xlated_insns, p->jited_bytes);
	}
	printf("  %-65s %9" PRIu64 "\n", "total verified instructions", st->verified_total);
	printf("%s", st->tls_text);
}

/* A JSON array of one object per program, into buf; -1 when it does not fit. */
static int programs_json(const struct prog_stats *st, char *buf, size_t cap)
{
	size_t len = 0;

	buf[len++] = '[';
	for (size_t i = 0; i < st->n; i++) {
		const struct prog_stat *p = &st->progs[i];
		struct json_buf j;
		int n;

		if (i)
			buf[len++] = ',';
		json_begin(&j, buf + len, cap - len - 1); /* room for the closing ']' */
		json_str(&j, "name", p->name);
		json_str(&j, "hook", p->hook);
		json_str(&j, "attach", p->attach);
		if (p->verified_insns)
			json_u64(&j, "verified_insns", p->verified_insns);
		else
			json_null(&j, "verified_insns");
		json_u64(&j, "xlated_insns", p->xlated_insns);
		json_u64(&j, "jited_bytes", p->jited_bytes);
		n = json_end(&j);
		if (n < 0 || len + (size_t)n + 3 > cap)
			return -1;
		len += (size_t)n;
	}
	buf[len++] = ']';
	buf[len] = '\0';
	return (int)len;
}

static void print_json(const struct sonde_features *f, const char *missing,
		       const struct prog_stats *st)
{
	char buf[16384], progs[12288];
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
	if (st && programs_json(st, progs, sizeof(progs)) > 0) {
		json_raw(&j, "programs", progs);
		json_u64(&j, "verified_insns_total", st->verified_total);
		json_raw(&j, "tls_hooks", st->tls_json);
	}
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
	static struct prog_stats st;
	bool json = false, programs = false, loaded = false;
	struct sonde_features f;
	char why[512];
	const char *missing;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--output") && i + 1 < argc && !strcmp(argv[i + 1], "json")) {
			json = true;
			i++;
		} else if (!strcmp(argv[i], "--programs")) {
			programs = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: sonde probe [--programs] [--output json]\n\n"
			       "Shows what this kernel offers and which hooks sonde uses;\n"
			       "exits 1 with the reason when sonde cannot run here.\n\n"
			       "  --programs    also load and attach every BPF program sonde\n"
			       "                uses here; show each one's hook and verified\n"
			       "                instruction count (a rejected program: exit 1,\n"
			       "                with the verifier log)\n"
			       "  --output json one JSON object\n");
			return 0;
		} else {
			fprintf(stderr, "sonde: unknown probe option '%s' (try --help)\n", argv[i]);
			return 2;
		}
	}
	features_probe(&f);
	missing = features_missing(&f, why, sizeof(why));
	if (programs && !missing) {
		err = prog_stats_collect(&st);
		if (err) {
			snprintf(why, sizeof(why), "loading the BPF programs failed: %s",
				 strerror(-err));
			missing = why;
		} else {
			loaded = true;
		}
	}
	if (json)
		print_json(&f, missing, loaded ? &st : NULL);
	else
		print_text(&f, missing);
	if (loaded && !json)
		print_programs_text(&st);
	return missing ? 1 : 0;
}
