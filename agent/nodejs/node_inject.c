/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nodejs/inspector.h"
#include "nodejs/node_inject.h"
#include "nodejs/node_proc.h"
#include "tls/elf_file.h"
#include "util/log.h"

/* The script, embedded at build time from agent/nodejs/node_context.js
 * (NUL-terminated): node_context_js[]. */
#include "nodejs/node_context_js.h"

#define MAX_PENDING   256  /* processes waiting for a look */
#define MAX_INJECTED  4096 /* as many as bpf/node_context.bpf.h's node_pids */
#define MAX_LISTENERS 65536
#define SIG_CACHE     8

/* After an exec, Node.js installs its SIGUSR1 handler while it starts: the
 * first look waits a little, and a process without one yet is looked at
 * again, up to 6.35 s after the exec. Sending SIGUSR1 before the handler is
 * in would kill the process. */
static const uint32_t retry_ms[] = { 50, 100, 200, 400, 800, 1600, 3200 };
#define NRETRIES	  (sizeof(retry_ms) / sizeof(retry_ms[0]))

#define INSPECTOR_OPEN_MS 2000 /* from SIGUSR1 until the inspector listens */
#define SESSION_MS	  5000 /* the whole inspector session */
#define CLOSE_WAIT_MS	  1000 /* until it stops listening */
#define POLL_STEP_MS	  10

/* Around the script: evaluated as one expression, which returns the
 * script's status and then (setImmediate: after the answer has gone out)
 * ends the inspector — even when the script throws, and even if sonde is no
 * longer connected by then. `require` is the console's (Node.js puts it in
 * the command-line API), kept for later. */
static const char expr_head[] =
	"(function () { var req = typeof require === 'function' ? require : null; try { return (\n";
static const char expr_tail[] =
	"\n); } finally { setImmediate(function () { try {"
	" if (typeof process._debugEnd === 'function') process._debugEnd();"
	" else if (req) req('inspector').close(); } catch (e) {} }); } })()";
/* The inspector alone, for one left open. */
static const char expr_close[] = "(function () { setImmediate(function () { try {"
				 " process._debugEnd(); } catch (e) {} }); return 'closing'; })()";

enum verdict {
	V_INJECTED,
	V_ALREADY,
	V_GONE,
	V_NOT_NODE,
	V_OWN_HANDLER,
	V_INSPECTOR_ACTIVE,
	V_RETRY_NOT_READY,
	V_RETRY_PORT_BUSY,
	V_FAILED,
};

struct pending {
	uint32_t pid; /* 0: free */
	uint8_t tries;
	uint64_t due_ms;
};

/* What a SIGUSR1 handler address was found to be, per binary. */
struct sig_cache_entry {
	uint64_t dev, ino, vaddr;
	enum node_sigusr1 owner;
	bool used;
};

struct node_inject {
	struct node_inject_ops ops;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* Under lock: */
	bool stop, scan;
	struct pending pending[MAX_PENDING];
	uint32_t injected[MAX_INJECTED];
	size_t ninjected;
	uint32_t inflight;  /* pid being looked at by the thread, 0: none */
	bool inflight_gone; /* it exited or exec'd meanwhile */
	struct node_inject_stats stats;
	/* The thread's own: */
	struct sig_cache_entry sig_cache[SIG_CACHE];
	size_t sig_next;
	char *expr; /* expr_head, the script, expr_tail */
	size_t expr_len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* --- tables (under lock) --- */

static struct pending *find_pending(struct node_inject *ni, uint32_t pid)
{
	for (size_t i = 0; i < MAX_PENDING; i++)
		if (ni->pending[i].pid == pid)
			return &ni->pending[i];
	return NULL;
}

static void add_pending(struct node_inject *ni, uint32_t pid, uint64_t due, uint8_t tries)
{
	struct pending *p = find_pending(ni, pid);

	if (!p)
		p = find_pending(ni, 0);
	if (!p) {
		ni->stats.dropped++;
		return;
	}
	*p = (struct pending){ .pid = pid, .tries = tries, .due_ms = due };
	pthread_cond_signal(&ni->wake);
}

static bool take_injected(struct node_inject *ni, uint32_t pid)
{
	for (size_t i = 0; i < ni->ninjected; i++) {
		if (ni->injected[i] != pid)
			continue;
		ni->injected[i] = ni->injected[--ni->ninjected];
		return true;
	}
	return false;
}

/* pid is gone, or another program now: forget what we knew of it. */
static void forget(struct node_inject *ni, uint32_t pid)
{
	struct pending *p = find_pending(ni, pid);

	if (p)
		p->pid = 0;
	if (take_injected(ni, pid))
		ni->ops.disarm(ni->ops.ctx, pid);
	if (ni->inflight == pid)
		ni->inflight_gone = true;
}

/* --- /proc --- */

static int proc_exe(uint32_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* A whole small /proc file (cmdline, environ), at most cap bytes. */
static ssize_t proc_read(uint32_t pid, const char *name, char *buf, size_t cap)
{
	char path[64];
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

static void inspect_opts(uint32_t pid, struct node_inspect_opts *o)
{
	static char buf[64 * 1024]; /* the injector's thread only */
	const char *v;
	ssize_t n;
	int vlen;

	*o = (struct node_inspect_opts){ .port = NODE_INSPECT_DEFAULT_PORT };
	/* NODE_OPTIONS first: the command line overrides it. */
	n = proc_read(pid, "environ", buf, sizeof(buf));
	if (n > 0 && (vlen = node_environ_get(buf, (size_t)n, "NODE_OPTIONS", &v)) > 0)
		node_inspect_args(v, (size_t)vlen, ' ', o);
	n = proc_read(pid, "cmdline", buf, sizeof(buf));
	if (n > 0)
		node_inspect_args(buf, (size_t)n, '\0', o);
}

struct listeners {
	struct tcp_listener *l;
	size_t n, cap;
};

/* Every listening TCP socket of pid's network namespace. */
static int read_listeners(uint32_t pid, struct listeners *ls)
{
	static const char *const files[] = { "tcp", "tcp6" };
	char path[64], line[512];

	ls->n = 0;
	for (int v6 = 0; v6 < 2; v6++) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%u/net/%s", pid, files[v6]);
		f = fopen(path, "re");
		if (!f) {
			if (errno == ENOENT && v6)
				continue; /* no IPv6 */
			return -errno;
		}
		while (fgets(line, sizeof(line), f)) {
			struct tcp_listener l;

			if (node_tcp_line(line, v6, &l) != 1)
				continue;
			if (ls->n == ls->cap) {
				size_t cap = ls->cap ? ls->cap * 2 : 64;
				void *p = cap <= MAX_LISTENERS
						  ? realloc(ls->l, cap * sizeof(*ls->l))
						  : NULL;

				if (!p) {
					fclose(f);
					return -ENOMEM;
				}
				ls->l = p;
				ls->cap = cap;
			}
			ls->l[ls->n++] = l;
		}
		fclose(f);
	}
	return 0;
}

static bool has_inode(const struct listeners *ls, uint64_t inode)
{
	for (size_t i = 0; i < ls->n; i++)
		if (ls->l[i].inode == inode)
			return true;
	return false;
}

/* Whether one of pid's file descriptors is the socket with this inode. */
static bool owns_socket(uint32_t pid, uint64_t inode)
{
	char path[64], link[64], want[40];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)inode);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char fdpath[64 + 256];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		found = !strcmp(link, want);
	}
	closedir(d);
	return found;
}

/* A listener of pid that was not in before: the inspector SIGUSR1 opened. */
static int new_listener(uint32_t pid, const struct listeners *before, struct listeners *now,
			uint16_t port, struct tcp_listener *out)
{
	int err = read_listeners(pid, now);

	if (err)
		return err;
	for (size_t i = 0; i < now->n; i++) {
		const struct tcp_listener *l = &now->l[i];

		if ((port && l->port != port) || has_inode(before, l->inode) ||
		    !owns_socket(pid, l->inode))
			continue;
		*out = *l;
		return 0;
	}
	return -ENOENT;
}

/* --- the SIGUSR1 handler --- */

/* Who owns the handler at addr in pid: the function of the file mapped
 * there, by its symbol; without symbols, a handler in Node.js's own file
 * (one that exports node_module_register, the add-on entry point) without
 * SA_RESTART (libuv always sets it; Node.js never does). */
static enum node_sigusr1 handler_owner(struct node_inject *ni, uint32_t pid, uint64_t addr,
				       uint64_t flags, char *what, size_t what_len)
{
	static const char *const node_export[] = { "node_module_register" };
	char line[PATH_MAX + 128], path[PATH_MAX + 64], func[256];
	enum node_sigusr1 owner = NODE_SIGUSR1_OTHER;
	uint64_t off = 0, vaddr;
	const char *fpath = NULL;
	size_t flen = 0;
	struct elf_file *ef;
	struct elf_sym sym;
	struct stat st;
	FILE *maps;

	snprintf(what, what_len, "a handler at %#llx outside any file", (unsigned long long)addr);
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	maps = fopen(path, "re");
	if (!maps)
		return NODE_SIGUSR1_OTHER;
	while (fgets(line, sizeof(line), maps))
		if (node_maps_line(line, addr, &off, &fpath, &flen) == 1)
			break;
	fclose(maps);
	if (!flen)
		return NODE_SIGUSR1_OTHER;
	snprintf(path, sizeof(path), "/proc/%u/root%.*s", pid, (int)flen, fpath);
	if (stat(path, &st))
		return NODE_SIGUSR1_OTHER;
	ef = elf_file_open(path);
	if (!ef || elf_file_vaddr(ef, off, &vaddr)) {
		elf_file_close(ef);
		return NODE_SIGUSR1_OTHER;
	}
	for (size_t i = 0; i < SIG_CACHE; i++) {
		struct sig_cache_entry *c = &ni->sig_cache[i];

		if (c->used && c->dev == st.st_dev && c->ino == st.st_ino && c->vaddr == vaddr) {
			elf_file_close(ef);
			snprintf(what, what_len, "%.*s (as before)", (int)flen, fpath);
			return c->owner;
		}
	}
	if (!elf_file_func_at(ef, vaddr, func, sizeof(func))) {
		owner = node_sigusr1_by_name(func);
		snprintf(what, what_len, "%.64s in %.*s", func, (int)(flen < 96 ? flen : 96),
			 fpath);
	} else if (elf_file_find_syms(ef, node_export, 1, &sym) == 1 && !(flags & SA_RESTART)) {
		owner = NODE_SIGUSR1_NODE;
		snprintf(what, what_len, "Node.js's (no symbols; %.*s)", (int)flen, fpath);
	} else {
		owner = flags & SA_RESTART ? NODE_SIGUSR1_APP : NODE_SIGUSR1_OTHER;
		snprintf(what, what_len, "an unnamed handler in %.*s", (int)flen, fpath);
	}
	elf_file_close(ef);
	ni->sig_cache[ni->sig_next++ % SIG_CACHE] = (struct sig_cache_entry){
		.dev = st.st_dev, .ino = st.st_ino, .vaddr = vaddr, .owner = owner, .used = true
	};
	return owner;
}

/* --- one look at one process --- */

static bool wait_closed(uint32_t pid, const struct tcp_listener *insp, struct listeners *tmp)
{
	for (uint32_t waited = 0; waited <= CLOSE_WAIT_MS; waited += POLL_STEP_MS) {
		if (read_listeners(pid, tmp) || !has_inode(tmp, insp->inode))
			return true;
		sleep_ms(POLL_STEP_MS);
	}
	return false;
}

/* SIGUSR1, if the handler is still the one looked at: reading the ELF file
 * took a while, and an exec meanwhile would have put the default action
 * (death) back. Through a pidfd, which cannot name another process. */
static int send_sigusr1(struct node_inject *ni, int pidfd, uint32_t pid, uint64_t handler,
			uint64_t flags)
{
	uint64_t h2, f2;
	int err = ni->ops.sigaction(ni->ops.ctx, pid, &h2, &f2);

	if (err)
		return err;
	if (h2 != handler || f2 != flags)
		return -EAGAIN;
	if (syscall(SYS_pidfd_send_signal, pidfd, SIGUSR1, NULL, 0))
		return -errno;
	return 0;
}

static enum verdict inject_pidfd(struct node_inject *ni, int pidfd, uint32_t pid, char *why,
				 size_t why_len);

static enum verdict inject(struct node_inject *ni, uint32_t pid, char *why, size_t why_len)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	enum verdict v;

	if (pidfd < 0) {
		snprintf(why, why_len, "pidfd_open: %s", strerror(errno));
		return errno == ESRCH ? V_GONE : V_FAILED;
	}
	v = inject_pidfd(ni, pidfd, pid, why, why_len);
	close(pidfd);
	return v;
}

static enum verdict inject_pidfd(struct node_inject *ni, int pidfd, uint32_t pid, char *why,
				 size_t why_len)
{
	struct listeners before = { 0 }, now = { 0 };
	struct node_inspect_opts io;
	struct tcp_listener insp;
	char exe[PATH_MAX], what[192], value[128], cwhy[8];
	uint64_t handler, flags, signalled;
	enum verdict v = V_FAILED;
	int err;

	if (proc_exe(pid, exe, sizeof(exe)))
		return V_GONE;
	if (!node_exe_name(exe))
		return V_GONE; /* it runs something else since */
	inspect_opts(pid, &io);
	if (io.active) {
		snprintf(why, why_len, "it runs an inspector of its own (--inspect)");
		return V_INSPECTOR_ACTIVE;
	}
	err = ni->ops.sigaction(ni->ops.ctx, pid, &handler, &flags);
	if (err) {
		snprintf(why, why_len, "cannot read its SIGUSR1 handler: %s", strerror(-err));
		return err == -ESRCH ? V_GONE : V_FAILED;
	}
	if (handler <= 1) {
		snprintf(why, why_len, "no SIGUSR1 handler (%s)", handler ? "ignored" : "default");
		return V_RETRY_NOT_READY;
	}
	switch (handler_owner(ni, pid, handler, flags, what, sizeof(what))) {
	case NODE_SIGUSR1_NODE:
		break;
	case NODE_SIGUSR1_APP:
		snprintf(why, why_len, "it handles SIGUSR1 itself (%s)", what);
		return V_OWN_HANDLER;
	default:
		snprintf(why, why_len, "its SIGUSR1 handler is not Node.js's: %s", what);
		return V_NOT_NODE;
	}
	err = read_listeners(pid, &before);
	if (err) {
		snprintf(why, why_len, "cannot read its sockets: %s", strerror(-err));
		goto out;
	}
	for (size_t i = 0; io.port && i < before.n; i++) {
		if (before.l[i].port == io.port) {
			snprintf(why, why_len, "the inspector's port %u is taken", io.port);
			v = V_RETRY_PORT_BUSY;
			goto out;
		}
	}
	err = ni->ops.arm(ni->ops.ctx, pid);
	if (err) {
		snprintf(why, why_len, "cannot follow its sentinels: %s", strerror(-err));
		goto out;
	}
	signalled = now_ms();
	err = send_sigusr1(ni, pidfd, pid, handler, flags);
	if (err) {
		snprintf(why, why_len, "SIGUSR1: %s",
			 err == -EAGAIN ? "its handler changed" : strerror(-err));
		v = err == -ESRCH ? V_GONE : err == -EAGAIN ? V_RETRY_NOT_READY : V_FAILED;
		goto disarm;
	}
	err = -ENOENT;
	for (uint32_t waited = 0; err == -ENOENT && waited < INSPECTOR_OPEN_MS;
	     waited += POLL_STEP_MS) {
		sleep_ms(POLL_STEP_MS);
		err = new_listener(pid, &before, &now, io.port, &insp);
	}
	if (err) {
		snprintf(why, why_len, "its inspector did not open (%s)",
			 err == -ENOENT ? "port in use, or a Node.js without one?"
					: strerror(-err));
		goto disarm;
	}
	err = ni->ops.quiet_port(ni->ops.ctx, pid, insp.port);
	if (err) {
		snprintf(why, why_len, "cannot leave out the inspector's connections: %s",
			 strerror(-err));
		goto disarm;
	}
	err = inspector_evaluate(pid, &insp, ni->expr, ni->expr_len, SESSION_MS, value,
				 sizeof(value), why, why_len);
	if (!wait_closed(pid, &insp, &now)) {
		/* The session failed before the script could close it: once more,
		 * only the closing; then say so. */
		inspector_evaluate(pid, &insp, expr_close, sizeof(expr_close) - 1, SESSION_MS, cwhy,
				   sizeof(cwhy), cwhy, sizeof(cwhy));
		if (!wait_closed(pid, &insp, &now)) {
			log_warn("nodejs: pid %u: its inspector still listens on port %u", pid,
				 insp.port);
			pthread_mutex_lock(&ni->lock);
			ni->stats.left_open++;
			pthread_mutex_unlock(&ni->lock);
		}
	}
	ni->ops.quiet_port(ni->ops.ctx, pid, 0);
	if (err)
		goto disarm;
	if (!strcmp(value, "installed") || !strcmp(value, "already")) {
		v = value[0] == 'i' ? V_INJECTED : V_ALREADY;
		snprintf(why, why_len, "inspector on port %u, %llu ms from the signal to its end",
			 insp.port, (unsigned long long)(now_ms() - signalled));
	} else {
		snprintf(why, why_len, "the script said '%s'", value);
		goto disarm;
	}
	goto out;
disarm:
	ni->ops.disarm(ni->ops.ctx, pid);
out:
	free(before.l);
	free(now.l);
	return v;
}

/* --- the thread --- */

static void scan(struct node_inject *ni)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char exe[PATH_MAX];
	uint64_t now = now_ms();

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);

		if (!isdigit((unsigned char)e->d_name[0]) || *end || !pid || pid > UINT32_MAX ||
		    proc_exe((uint32_t)pid, exe, sizeof(exe)) || !node_exe_name(exe) ||
		    !ni->ops.selected(ni->ops.ctx, (uint32_t)pid))
			continue;
		pthread_mutex_lock(&ni->lock);
		add_pending(ni, (uint32_t)pid, now, 0);
		pthread_mutex_unlock(&ni->lock);
	}
	closedir(d);
}

/* Counts a look's outcome, under lock; true when it is to be looked at again. */
static bool record(struct node_inject *ni, uint32_t pid, enum verdict v, const char *why)
{
	struct node_inject_stats *s = &ni->stats;

	switch (v) {
	case V_INJECTED:
	case V_ALREADY:
		if (v == V_INJECTED)
			s->injected++;
		else
			s->already++;
		if (ni->ninjected < MAX_INJECTED) {
			ni->injected[ni->ninjected++] = pid;
		} else {
			s->dropped++;
			ni->ops.disarm(ni->ops.ctx, pid);
		}
		log_info("nodejs: pid %u: request context %s (%s)", pid,
			 v == V_INJECTED ? "injected" : "was there already", why);
		return false;
	case V_GONE:
		return false;
	case V_NOT_NODE:
		s->not_node++;
		break;
	case V_OWN_HANDLER:
		s->own_handler++;
		break;
	case V_INSPECTOR_ACTIVE:
		s->inspector_active++;
		break;
	case V_RETRY_NOT_READY:
	case V_RETRY_PORT_BUSY:
		return true;
	case V_FAILED:
		s->failed++;
		log_warn("nodejs: pid %u: request context not injected: %s", pid, why);
		return false;
	}
	log_info("nodejs: pid %u left alone: %s", pid, why);
	return false;
}

static void *worker(void *arg)
{
	struct node_inject *ni = arg;

	pthread_mutex_lock(&ni->lock);
	while (!ni->stop) {
		struct pending *due = NULL, job;
		uint64_t now = now_ms();
		char why[512] = "";
		enum verdict v;

		if (ni->scan) {
			ni->scan = false;
			pthread_mutex_unlock(&ni->lock);
			scan(ni);
			pthread_mutex_lock(&ni->lock);
			continue;
		}
		for (size_t i = 0; i < MAX_PENDING; i++) {
			struct pending *p = &ni->pending[i];

			if (p->pid && (!due || p->due_ms < due->due_ms))
				due = p;
		}
		if (!due || due->due_ms > now) {
			struct timespec ts;
			uint64_t wait = due ? due->due_ms - now : 1000;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&ni->wake, &ni->lock, &ts);
			continue;
		}
		job = *due;
		due->pid = 0;
		ni->inflight = job.pid;
		ni->inflight_gone = false;
		pthread_mutex_unlock(&ni->lock);
		v = inject(ni, job.pid, why, sizeof(why));
		pthread_mutex_lock(&ni->lock);
		ni->inflight = 0;
		if (ni->inflight_gone) {
			/* Exited or exec'd meanwhile: an exec queued it again. */
			if (v == V_INJECTED || v == V_ALREADY)
				ni->ops.disarm(ni->ops.ctx, job.pid);
			continue;
		}
		if (!record(ni, job.pid, v, why))
			continue;
		if (job.tries < NRETRIES) {
			add_pending(ni, job.pid, now_ms() + retry_ms[job.tries], job.tries + 1);
		} else if (v == V_RETRY_PORT_BUSY) {
			ni->stats.port_busy++;
			log_info("nodejs: pid %u left alone: %s", job.pid, why);
		} else {
			ni->stats.not_ready++;
			log_info("nodejs: pid %u left alone: %s", job.pid, why);
		}
	}
	pthread_mutex_unlock(&ni->lock);
	return NULL;
}

struct node_inject *node_inject_new(const struct node_inject_ops *ops)
{
	struct node_inject *ni = calloc(1, sizeof(*ni));
	size_t script_len = strlen(node_context_js);
	int err;

	if (!ni)
		return NULL;
	ni->ops = *ops;
	ni->expr_len = sizeof(expr_head) - 1 + script_len + sizeof(expr_tail) - 1;
	ni->expr = malloc(ni->expr_len + 1);
	if (!ni->expr) {
		free(ni);
		return NULL;
	}
	snprintf(ni->expr, ni->expr_len + 1, "%s%s%s", expr_head, node_context_js, expr_tail);
	pthread_mutex_init(&ni->lock, NULL);
	pthread_cond_init(&ni->wake, NULL);
	err = pthread_create(&ni->thread, NULL, worker, ni);
	if (err) {
		pthread_cond_destroy(&ni->wake);
		pthread_mutex_destroy(&ni->lock);
		free(ni->expr);
		free(ni);
		errno = err;
		return NULL;
	}
	return ni;
}

void node_inject_free(struct node_inject *ni)
{
	if (!ni)
		return;
	pthread_mutex_lock(&ni->lock);
	ni->stop = true;
	pthread_cond_signal(&ni->wake);
	pthread_mutex_unlock(&ni->lock);
	pthread_join(ni->thread, NULL);
	pthread_cond_destroy(&ni->wake);
	pthread_mutex_destroy(&ni->lock);
	free(ni->expr);
	free(ni);
}

void node_inject_start(struct node_inject *ni)
{
	pthread_mutex_lock(&ni->lock);
	ni->scan = true;
	pthread_cond_signal(&ni->wake);
	pthread_mutex_unlock(&ni->lock);
}

void node_inject_exec(struct node_inject *ni, uint32_t pid)
{
	char exe[PATH_MAX];
	bool node = !proc_exe(pid, exe, sizeof(exe)) && node_exe_name(exe);

	pthread_mutex_lock(&ni->lock);
	/* The old image's script is gone with it. */
	forget(ni, pid);
	if (node)
		add_pending(ni, pid, now_ms() + retry_ms[0], 1);
	pthread_mutex_unlock(&ni->lock);
}

void node_inject_exit(struct node_inject *ni, uint32_t pid)
{
	pthread_mutex_lock(&ni->lock);
	forget(ni, pid);
	pthread_mutex_unlock(&ni->lock);
}

void node_inject_get_stats(struct node_inject *ni, struct node_inject_stats *out)
{
	pthread_mutex_lock(&ni->lock);
	*out = ni->stats;
	pthread_mutex_unlock(&ni->lock);
}
