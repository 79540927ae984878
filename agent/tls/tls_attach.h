/* SPDX-License-Identifier: MIT */
/*
 * Finds the TLS libraries of traced processes and attaches the TLS uprobes to
 * them: at start-up (the system's libssl, then every selected process in
 * /proc), when a traced process execs (its program at once, its libssl as the
 * dynamic loader maps it: a few rescans of /proc/PID/maps), and detaches
 * when the last process using a binary has exited.
 *
 * Uprobes belong to a file (an inode), not to a process: each file is
 * attached once, for every process, and the BPF side filters. Files in other
 * mount namespaces (containers) are opened through /proc/PID/root.
 */
#ifndef SONDE_TLS_ATTACH_H
#define SONDE_TLS_ATTACH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls_target.h"

struct bpf_program;
struct tls_attach;

/* Whether the agent traces this process (its --pid/--comm/--cgroup selection). */
typedef bool (*tls_select_fn)(void *ctx, uint32_t pid);

/* progs: the loaded program of each enum tls_prog; offsets_fd: the
 * go_tls_offsets map. NULL on allocation failure. */
struct tls_attach *tls_attach_new(struct bpf_program *const progs[TLS_PROG__MAX], int offsets_fd,
				  tls_select_fn select, void *ctx);
void tls_attach_free(struct tls_attach *ta);

/* The start-up scan. */
void tls_attach_start(struct tls_attach *ta, uint64_t now_ns);
/* A traced process ran execve (SONDE_EV_PROC_EXEC). */
void tls_attach_exec(struct tls_attach *ta, uint32_t pid, uint64_t now_ns);
/* A traced process exited (SONDE_EV_PROC_EXIT). */
void tls_attach_exit(struct tls_attach *ta, uint32_t pid);
/* Runs the rescans that are due; call every loop turn. */
void tls_attach_tick(struct tls_attach *ta, uint64_t now_ns);

struct tls_hook_info {
	char path[PATH_MAX]; /* as the process sees it */
	enum tls_kind kind;
	size_t uprobes;
	uint32_t processes; /* traced processes using it now */
	bool system;	    /* the host's libssl, attached at start-up for every process */
	char go_version[32];
	const char *layout_source;
	bool symtab; /* Go: functions from the symbol table (else from .gopclntab) */
	bool active; /* false: unhooked since (its last user exited) */
};

/* The files hooked now, then the last ones unhooked; at most max written.
 * Returns how many there are. */
size_t tls_attach_list(const struct tls_attach *ta, struct tls_hook_info *out, size_t max);
/* Uprobes that failed to attach since the start. */
uint64_t tls_attach_failures(const struct tls_attach *ta);

#endif /* SONDE_TLS_ATTACH_H */
