/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "util/log.h"
#include "sonde_tls.h"
#include "tls/tls_attach.h"

#define MAX_FILES  256	/* binaries hooked at once */
#define MAX_PROCS  4096 /* processes followed (using a hooked file, or rescans pending) */
#define MAX_SEEN   4096 /* binaries looked at and found to need no hook */
#define PROC_FILES 8	/* hooked files per process */
#define MAX_GONE   16	/* unhooked files still listed */

/* After an exec, /proc/PID/maps is read again this long after the previous
 * look: the dynamic loader maps libssl after the exec, Python's ssl module
 * only on import. A process that loads it later is only seen through the
 * system libssl (attached for every process) or a later exec. */
static const uint64_t rescan_ms[] = { 20, 100, 400, 1500 };
#define NRESCANS (sizeof(rescan_ms) / sizeof(rescan_ms[0]))

/* Debian's multiarch directory of this machine's libraries. */
#if defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#else
#define MULTIARCH "x86_64-linux-gnu"
#endif

/* Where distributions keep the system's libssl: attached at start-up, so a
 * process that loads it later is traced from its first call. */
static const char *const system_lib_dirs[] = {
	"/usr/lib/" MULTIARCH, "/lib/" MULTIARCH, "/usr/lib64", "/lib64", "/usr/lib", "/lib",
	"/usr/local/lib",
};

struct tls_file {
	bool used;
	bool system;
	uint64_t dev, ino;
	char path[PATH_MAX];
	struct tls_target *target;
	struct bpf_link **links;
	size_t nlinks;
	uint32_t users;
	int cookie; /* index in go_tls_offsets, or -1 */
};

struct tls_proc {
	uint32_t pid; /* 0: free slot */
	uint16_t nfiles;
	int16_t files[PROC_FILES];
	uint8_t rescans; /* done since the exec */
	uint64_t rescan_at;
};

struct file_id {
	uint64_t dev, ino;
};

struct tls_attach {
	struct bpf_program *progs[TLS_PROG__MAX];
	int offsets_fd;
	tls_select_fn select;
	void *ctx;
	struct tls_file files[MAX_FILES];
	struct tls_proc procs[MAX_PROCS];
	struct file_id seen[MAX_SEEN];
	size_t seen_next;
	bool cookie_used[GO_TLS_MAX_BINARIES];
	uint64_t failures;
	struct tls_hook_info gone[MAX_GONE];
	size_t ngone;
};

struct tls_attach *tls_attach_new(struct bpf_program *const progs[TLS_PROG__MAX], int offsets_fd,
				  tls_select_fn select, void *ctx)
{
	struct tls_attach *ta = calloc(1, sizeof(*ta));

	if (!ta)
		return NULL;
	memcpy(ta->progs, progs, sizeof(ta->progs));
	ta->offsets_fd = offsets_fd;
	ta->select = select;
	ta->ctx = ctx;
	return ta;
}

static void describe(const struct tls_file *f, struct tls_hook_info *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->path, sizeof(h->path), "%s", f->path);
	h->kind = f->target->kind;
	h->uprobes = f->nlinks;
	h->processes = f->users;
	h->system = f->system;
	snprintf(h->go_version, sizeof(h->go_version), "%s", f->target->go_version);
	h->layout_source = f->target->layout_source;
	h->symtab = f->target->symtab;
	h->active = true;
}

static void detach(struct tls_attach *ta, struct tls_file *f)
{
	for (size_t i = 0; i < f->nlinks; i++)
		bpf_link__destroy(f->links[i]);
	if (f->cookie >= 0)
		ta->cookie_used[f->cookie] = false;
	free(f->links);
	free(f->target);
	memset(f, 0, sizeof(*f));
}

void tls_attach_free(struct tls_attach *ta)
{
	if (!ta)
		return;
	for (size_t i = 0; i < MAX_FILES; i++)
		if (ta->files[i].used)
			detach(ta, &ta->files[i]);
	free(ta);
}

static bool seen(const struct tls_attach *ta, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < MAX_SEEN; i++)
		if (ta->seen[i].ino == ino && ta->seen[i].dev == dev)
			return true;
	return false;
}

static void remember_seen(struct tls_attach *ta, uint64_t dev, uint64_t ino)
{
	ta->seen[ta->seen_next] = (struct file_id){ dev, ino };
	ta->seen_next = (ta->seen_next + 1) % MAX_SEEN;
}

static struct tls_file *find_file(struct tls_attach *ta, uint64_t dev, uint64_t ino)
{
	for (size_t i = 0; i < MAX_FILES; i++)
		if (ta->files[i].used && ta->files[i].ino == ino && ta->files[i].dev == dev)
			return &ta->files[i];
	return NULL;
}

static int set_go_offsets(struct tls_attach *ta, struct tls_file *f)
{
	const struct tls_target *t = f->target;
	struct go_tls_offsets o = {
		.conn_data = t->layout.tls_conn_conn + 8,
		.conn_fd = t->layout.net_conn_fd,
		.fd_sysfd = t->layout.netfd_pfd + t->layout.pfd_sysfd,
		.tcp_itab = t->tcp_itab,
	};
	uint32_t k;

	for (k = 0; k < GO_TLS_MAX_BINARIES && ta->cookie_used[k]; k++)
		;
	if (k == GO_TLS_MAX_BINARIES)
		return -ENOSPC;
	if (bpf_map_update_elem(ta->offsets_fd, &k, &o, BPF_ANY))
		return -errno;
	ta->cookie_used[k] = true;
	f->cookie = (int)k;
	return 0;
}

/* Attaches every uprobe of f->target to the file at open_path. */
static int attach_all(struct tls_attach *ta, struct tls_file *f, const char *open_path)
{
	const struct tls_target *t = f->target;
	int err;

	f->links = calloc(t->n, sizeof(*f->links));
	if (!f->links)
		return -ENOMEM;
	if (t->kind == TLS_KIND_GO && (err = set_go_offsets(ta, f)))
		return err;
	for (size_t i = 0; i < t->n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = t->probes[i].retprobe,
			    .bpf_cookie = f->cookie >= 0 ? (uint64_t)f->cookie : 0);
		struct bpf_link *l;

		/* pid -1: every process that maps the file, now or later. */
		l = bpf_program__attach_uprobe_opts(ta->progs[t->probes[i].prog], -1, open_path,
						    t->probes[i].offset, &opts);
		if (!l) {
			err = -errno;
			/* Kernels with "perf: Require CAP_SYS_ADMIN for uprobes" refuse
			 * CAP_PERFMON alone: say what to add. */
			log_warn("cannot attach a uprobe to %s in %s (offset %#" PRIx64 "): %s%s",
				 t->probes[i].func, f->path, t->probes[i].offset, strerror(-err),
				 err == -EPERM || err == -EACCES
					 ? " (uprobes need CAP_SYS_ADMIN; HTTPS is not traced)"
					 : "");
			return err;
		}
		f->links[f->nlinks++] = l;
	}
	return 0;
}

/* Looks at one binary, hooking it if it holds a TLS library. open_path is
 * how the agent reaches it (through /proc/PID/…), path how its process names
 * it. Returns the hooked file, or NULL. */
static struct tls_file *consider(struct tls_attach *ta, const char *open_path, const char *path,
				 bool libssl, bool system)
{
	struct tls_file *f = NULL;
	struct tls_target *t;
	struct stat st;
	char why[160];
	int err;

	if (stat(open_path, &st) || !S_ISREG(st.st_mode))
		return NULL;
	f = find_file(ta, st.st_dev, st.st_ino);
	if (f || seen(ta, st.st_dev, st.st_ino))
		return f;
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	err = tls_target_inspect(open_path, libssl, t, why, sizeof(why));
	if (err || t->kind == TLS_KIND_NONE) {
		if (why[0])
			log_info("tls: not hooking %s: %s", path, why);
		free(t);
		remember_seen(ta, st.st_dev, st.st_ino);
		return NULL;
	}
	for (size_t i = 0; i < MAX_FILES && !f; i++)
		if (!ta->files[i].used)
			f = &ta->files[i];
	if (!f) {
		log_warn("tls: more than %d binaries to hook; not hooking %s", MAX_FILES, path);
		free(t);
		return NULL;
	}
	*f = (struct tls_file){ .used = true,
				.system = system,
				.dev = st.st_dev,
				.ino = st.st_ino,
				.target = t,
				.cookie = -1 };
	snprintf(f->path, sizeof(f->path), "%s", path);
	err = attach_all(ta, f, open_path);
	if (err) {
		ta->failures++;
		detach(ta, f);
		remember_seen(ta, st.st_dev, st.st_ino);
		return NULL;
	}
	log_info("tls: hooked %s (%s%s%s, %zu uprobes)", path, tls_kind_name(t->kind),
		 t->go_version[0] ? " " : "", t->go_version, t->n);
	return f;
}

static struct tls_proc *find_proc(struct tls_attach *ta, uint32_t pid, bool create)
{
	struct tls_proc *free_slot = NULL;

	for (size_t i = 0; i < MAX_PROCS; i++) {
		if (ta->procs[i].pid == pid)
			return &ta->procs[i];
		if (!free_slot && !ta->procs[i].pid)
			free_slot = &ta->procs[i];
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->pid = pid;
	return free_slot;
}

static void use_file(struct tls_attach *ta, struct tls_proc *p, struct tls_file *f)
{
	int16_t idx = (int16_t)(f - ta->files);

	for (uint16_t i = 0; i < p->nfiles; i++)
		if (p->files[i] == idx)
			return;
	if (p->nfiles == PROC_FILES)
		return; /* not counted: the file then stays hooked to the end */
	p->files[p->nfiles++] = idx;
	f->users++;
}

static void release_files(struct tls_attach *ta, struct tls_proc *p)
{
	for (uint16_t i = 0; i < p->nfiles; i++) {
		struct tls_file *f = &ta->files[p->files[i]];

		if (--f->users == 0 && !f->system) {
			struct tls_hook_info *h = &ta->gone[ta->ngone++ % MAX_GONE];

			describe(f, h);
			h->active = false;
			log_info("tls: unhooked %s (no traced process uses it)", f->path);
			detach(ta, f);
		}
	}
	p->nfiles = 0;
}

static bool is_libssl(const char *path)
{
	const char *base = strrchr(path, '/');

	return base && !strncmp(base + 1, "libssl.so", 9);
}

/* The libssl files mapped by pid (and, when exe is set, its program). */
static void scan_proc(struct tls_attach *ta, struct tls_proc *p, bool exe)
{
	char open_path[PATH_MAX + 32], path[PATH_MAX], line[PATH_MAX + 128];
	unsigned long long last_ino = 0;
	struct tls_file *f;
	ssize_t n;
	FILE *maps;

	if (exe) {
		snprintf(open_path, sizeof(open_path), "/proc/%u/exe", p->pid);
		n = readlink(open_path, path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = '\0';
			/* /proc/PID/exe opens the process's own file, whatever its
			 * mount namespace, even when deleted. */
			f = consider(ta, open_path, path, false, false);
			if (f)
				use_file(ta, p, f);
		}
	}
	snprintf(open_path, sizeof(open_path), "/proc/%u/maps", p->pid);
	maps = fopen(open_path, "re");
	if (!maps)
		return;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long long ino;
		int off = 0;

		/* start-end perms offset dev inode path */
		if (sscanf(line, "%*s %*s %*s %*s %llu %n", &ino, &off) != 1 || !off || !ino ||
		    ino == last_ino)
			continue;
		last_ino = ino;
		snprintf(path, sizeof(path), "%s", line + off);
		path[strcspn(path, "\n")] = '\0';
		if (!is_libssl(path) || strstr(path, " (deleted)"))
			continue;
		snprintf(open_path, sizeof(open_path), "/proc/%u/root%s", p->pid, path);
		f = consider(ta, open_path, path, true, false);
		if (f)
			use_file(ta, p, f);
	}
	fclose(maps);
}

static void scan_system_libs(struct tls_attach *ta)
{
	char path[PATH_MAX], real[PATH_MAX];

	for (size_t i = 0; i < sizeof(system_lib_dirs) / sizeof(system_lib_dirs[0]); i++) {
		DIR *d = opendir(system_lib_dirs[i]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d))) {
			if (strncmp(e->d_name, "libssl.so", 9))
				continue;
			snprintf(path, sizeof(path), "%s/%s", system_lib_dirs[i], e->d_name);
			/* Named by its real file: libssl.so and libssl.so.3 are one. */
			if (!realpath(path, real))
				continue;
			consider(ta, real, real, true, true);
		}
		closedir(d);
	}
}

void tls_attach_start(struct tls_attach *ta, uint64_t now_ns)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	(void)now_ns;
	scan_system_libs(ta);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct tls_proc *p, probe = { 0 };
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (!isdigit((unsigned char)e->d_name[0]) || *end || !pid || pid > UINT32_MAX ||
		    !ta->select(ta->ctx, (uint32_t)pid))
			continue;
		/* Followed only if it uses a hooked file: the table stays small. */
		probe.pid = (uint32_t)pid;
		scan_proc(ta, &probe, true);
		if (!probe.nfiles)
			continue;
		p = find_proc(ta, probe.pid, true);
		if (p)
			*p = probe;
		else
			release_files(ta, &probe);
	}
	closedir(d);
}

void tls_attach_exec(struct tls_attach *ta, uint32_t pid, uint64_t now_ns)
{
	struct tls_proc *p = find_proc(ta, pid, true);

	if (!p)
		return;
	/* The old image's files are no longer this process's. */
	release_files(ta, p);
	scan_proc(ta, p, true);
	p->rescans = 0;
	p->rescan_at = now_ns + rescan_ms[0] * 1000000ull;
}

void tls_attach_exit(struct tls_attach *ta, uint32_t pid)
{
	struct tls_proc *p = find_proc(ta, pid, false);

	if (!p)
		return;
	release_files(ta, p);
	p->pid = 0;
}

void tls_attach_tick(struct tls_attach *ta, uint64_t now_ns)
{
	for (size_t i = 0; i < MAX_PROCS; i++) {
		struct tls_proc *p = &ta->procs[i];

		if (!p->pid || !p->rescan_at || now_ns < p->rescan_at)
			continue;
		scan_proc(ta, p, false);
		p->rescans++;
		p->rescan_at =
			p->rescans < NRESCANS ? now_ns + rescan_ms[p->rescans] * 1000000ull : 0;
		/* Nothing found and nothing more to look for: forget it. */
		if (!p->rescan_at && !p->nfiles)
			p->pid = 0;
	}
}

size_t tls_attach_list(const struct tls_attach *ta, struct tls_hook_info *out, size_t max)
{
	size_t n = 0;

	if (!ta)
		return 0;
	for (size_t i = 0; i < MAX_FILES; i++) {
		if (!ta->files[i].used)
			continue;
		if (n < max)
			describe(&ta->files[i], &out[n]);
		n++;
	}
	for (size_t i = 0; i < ta->ngone && i < MAX_GONE; i++) {
		if (n < max)
			out[n] = ta->gone[(ta->ngone - 1 - i) % MAX_GONE];
		n++;
	}
	return n;
}

uint64_t tls_attach_failures(const struct tls_attach *ta)
{
	return ta ? ta->failures : 0;
}
