/* SPDX-License-Identifier: MIT */
/*
 * Puts the request-context script (nodejs/node_context.js) into the traced
 * Node.js processes, with no change to the application and no restart: at
 * start-up for those running, and after each exec of one. Per process, on a
 * thread of its own so that the agent's loop never waits for it:
 *
 *  1. leave it alone unless its SIGUSR1 handler is Node.js's own (an
 *     application handler would run instead of opening the inspector; a
 *     process that has none yet is looked at again a little later), unless
 *     it runs an inspector already (--inspect…), or the inspector's port is
 *     taken in its network namespace;
 *  2. SIGUSR1: Node.js opens its inspector on loopback;
 *  3. over the inspector's WebSocket, one Runtime.evaluate of the script,
 *     which also closes the inspector when it is done;
 *  4. check that nothing listens any more.
 *
 * From then on the kernel turns the script's sentinels into SONDE_EV_LINK
 * events (bpf/node_context.bpf.h).
 */
#ifndef SONDE_NODE_INJECT_H
#define SONDE_NODE_INJECT_H

#include <stdbool.h>
#include <stdint.h>

/* What the injector needs from the BPF side (core/tracer.c). Called on the
 * injector's thread, except disarm (also on the caller's). */
struct node_inject_ops {
	void *ctx;
	/* Whether the agent traces pid (its selection). */
	bool (*selected)(void *ctx, uint32_t pid);
	/* The SIGUSR1 handler of pid: its address (0: default, 1: ignored) and
	 * its SA_* flags. 0 or -errno. */
	int (*sigaction)(void *ctx, uint32_t pid, uint64_t *handler, uint64_t *flags);
	/* From now on pid's sentinels become links. 0 or -errno. */
	int (*arm)(void *ctx, uint32_t pid);
	/* Connections pid accepts on port (its inspector, while sonde talks to
	 * it) are not followed: they make no spans. 0: none. pid is armed. */
	int (*quiet_port)(void *ctx, uint32_t pid, uint16_t port);
	void (*disarm)(void *ctx, uint32_t pid);
};

struct node_inject_stats {
	uint64_t injected;	   /* processes the script was put into */
	uint64_t already;	   /* processes that had it already (an earlier sonde) */
	uint64_t own_handler;	   /* left alone: the application handles SIGUSR1 */
	uint64_t inspector_active; /* left alone: started with --inspect… */
	uint64_t port_busy;	   /* left alone: the inspector's port was taken */
	uint64_t not_node;	   /* left alone: SIGUSR1 is not Node.js's (not Node.js) */
	uint64_t not_ready;	   /* left alone: no SIGUSR1 handler yet after 6 s */
	uint64_t failed;	   /* the inspector did not open, or the session failed */
	uint64_t left_open;	   /* inspectors still listening after sonde was done */
	uint64_t dropped;	   /* processes not looked at: tables full */
};

struct node_inject;

/* Starts the injector's thread. NULL with errno set. */
struct node_inject *node_inject_new(const struct node_inject_ops *ops);
/* Stops the thread (an injection under way finishes first, bounded by its
 * timeouts) and forgets every process. NULL-safe. */
void node_inject_free(struct node_inject *ni);
/* Looks for the traced Node.js processes running now. */
void node_inject_start(struct node_inject *ni);
/* A traced process ran execve (SONDE_EV_PROC_EXEC). */
void node_inject_exec(struct node_inject *ni, uint32_t pid);
/* A traced process exited (SONDE_EV_PROC_EXIT). */
void node_inject_exit(struct node_inject *ni, uint32_t pid);
void node_inject_get_stats(struct node_inject *ni, struct node_inject_stats *out);

#endif /* SONDE_NODE_INJECT_H */
