/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "host/kernel_features.h"
#include "host/mounts.h"
#include "host/path_access.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT	  38
#define CAP_BPF_BIT	  39

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static uint64_t effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long caps = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool privileged(void)
{
	uint64_t caps = effective_caps();

	if (caps & (1ull << CAP_SYS_ADMIN_BIT))
		return true;
	return (caps & (1ull << CAP_BPF_BIT)) && (caps & (1ull << CAP_PERFMON_BIT));
}

static bool exists(const char *path)
{
	return path_lookup(path) == 0;
}

static int read_int_file(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Opens and closes a kprobe perf event: the PMU can exist while the kernel
 * was built without kprobes support behind it. */
static bool probe_kprobes(void)
{
	int type = read_int_file("/sys/bus/event_source/devices/kprobe/type");
	struct perf_event_attr attr = { 0 };
	int fd;

	if (type < 0)
		return false;
	attr.size = sizeof(attr);
	attr.type = (uint32_t)type;
	attr.config1 = (uint64_t)(uintptr_t) "vfs_read";
	fd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Loads a two-instruction fentry program on vfs_read and attaches it for a
 * moment: the program type alone says nothing about trampoline support. */
static bool probe_fentry(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	struct btf *btf = btf__load_vmlinux_btf();
	int id, prog, link;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "vfs_read", BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0)
		return false;
	opts.attach_btf_id = (uint32_t)id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "sonde_probe", "GPL", insns, 2, &opts);
	if (prog < 0)
		return false;
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link >= 0)
		close(link);
	close(prog);
	return link >= 0;
}

static void read_lockdown_file(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");
	char line[128];
	char *l, *r;

	if (!f)
		return;
	/* "none [integrity] confidentiality": the bracketed one is in force */
	if (fgets(line, sizeof(line), f) && (l = strchr(line, '[')) && (r = strchr(l, ']'))) {
		*r = '\0';
		snprintf(buf, len, "%s", l + 1);
	}
	fclose(f);
}

static void read_lockdown(char *buf, size_t len, bool may_mount)
{
	snprintf(buf, len, "unknown");
	if (exists("/sys/kernel/security/lockdown") || !may_mount) {
		read_lockdown_file(buf, len);
		return;
	}
	/* securityfs is often not mounted in containers: mount it just to look. */
	if (mount("securityfs", "/sys/kernel/security", "securityfs", MS_RDONLY, NULL))
		return;
	read_lockdown_file(buf, len);
	umount("/sys/kernel/security");
}

void features_probe(struct sonde_features *f)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet_print);
	struct utsname u;
	char path[512];
	int err;

	memset(f, 0, sizeof(*f));
	f->privileged = privileged();
	f->btf = path_readable("/sys/kernel/btf/vmlinux") == 0;
	if (uname(&u) == 0)
		snprintf(f->kernel_release, sizeof(f->kernel_release), "%s", u.release);
	read_lockdown(f->lockdown, sizeof(f->lockdown), f->privileged);
	f->cgroup_v2 = mounts_cgroup2_path(f->cgroup2_path, sizeof(f->cgroup2_path)) == 0;
	f->uprobes = exists("/sys/bus/event_source/devices/uprobe/type");
	err = mounts_ensure_tracefs(f->tracefs, sizeof(f->tracefs));
	if (err) {
		mounts_tracefs_problem(f->tracefs, err, f->tracefs_why, sizeof(f->tracefs_why));
		f->tracefs[0] = '\0';
	}
	if (f->tracefs[0]) {
		snprintf(path, sizeof(path), "%s/events/syscalls/sys_exit_read", f->tracefs);
		f->syscall_tracepoints = exists(path);
	}
	if (f->privileged) {
		f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
		f->tracepoint_prog =
			libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACEPOINT, NULL) == 1;
		f->raw_tracepoint =
			libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) == 1;
		f->task_pt_regs = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT,
							  BPF_FUNC_task_pt_regs, NULL) == 1;
		f->kprobes = probe_kprobes();
		f->fentry = f->btf && probe_fentry();
	}
	/* kprobe and fentry variants of the hooks are not built yet: syscall
	 * tracepoints are the portable baseline and what runs everywhere. */
	f->hook_set = "syscall-tracepoints";
	libbpf_set_print(old);
}

const char *features_missing(const struct sonde_features *f, char *buf, size_t len)
{
	uint64_t caps = effective_caps();

	if (!f->privileged && geteuid() == 0)
		/* root in a container whose capability set lacks them */
		snprintf(buf, len,
			 "running as root but without %s%s%s: sonde needs CAP_BPF and CAP_PERFMON "
			 "(or CAP_SYS_ADMIN) to load eBPF programs; add them to the capabilities",
			 caps & (1ull << CAP_BPF_BIT) ? "" : "CAP_BPF",
			 caps & ((1ull << CAP_BPF_BIT) | (1ull << CAP_PERFMON_BIT)) ? "" : " and ",
			 caps & (1ull << CAP_PERFMON_BIT) ? "" : "CAP_PERFMON");
	else if (!f->privileged)
		snprintf(buf, len,
			 "not running as root: sonde needs CAP_BPF and CAP_PERFMON (or root) to "
			 "load eBPF programs; run it with sudo");
	else if (!f->btf)
		snprintf(buf, len,
			 "kernel %s has no BTF (/sys/kernel/btf/vmlinux is missing): use a kernel "
			 "built with CONFIG_DEBUG_INFO_BTF=y",
			 f->kernel_release);
	else if (!strcmp(f->lockdown, "confidentiality"))
		snprintf(buf, len,
			 "kernel lockdown mode 'confidentiality' forbids reading memory from eBPF; "
			 "boot with lockdown=integrity or none");
	else if (!f->ringbuf)
		snprintf(buf, len,
			 "kernel %s has no BPF ring buffer: sonde needs Linux 5.8 or later",
			 f->kernel_release);
	else if (!f->tracepoint_prog)
		snprintf(buf, len, "kernel %s cannot load tracepoint BPF programs",
			 f->kernel_release);
	else if (!f->tracefs[0])
		snprintf(buf, len, "%s", f->tracefs_why);
	else if (!f->syscall_tracepoints)
		snprintf(buf, len,
			 "kernel %s has no syscall tracepoints (%s/events/syscalls): use a kernel "
			 "built with CONFIG_FTRACE_SYSCALLS=y",
			 f->kernel_release, f->tracefs);
	else if (!f->task_pt_regs)
		snprintf(buf, len,
			 "kernel %s lacks the bpf_task_pt_regs helper: sonde needs Linux 5.15 or "
			 "later",
			 f->kernel_release);
	else
		return NULL;
	return buf;
}
