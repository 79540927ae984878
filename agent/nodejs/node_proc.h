/* SPDX-License-Identifier: MIT */
/*
 * What sonde reads about a Node.js process before opening its inspector,
 * from text the kernel gives: the listening sockets of its network namespace
 * (/proc/PID/net/tcp, tcp6) and the inspector options on its command line or
 * in NODE_OPTIONS. Pure parsers; nodejs/node_inject.c reads the files.
 */
#ifndef SONDE_NODE_PROC_H
#define SONDE_NODE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_INSPECT_DEFAULT_PORT 9229

struct tcp_listener {
	uint8_t addr[16]; /* network byte order; IPv4 in the first 4 bytes */
	uint16_t family;  /* AF_INET or AF_INET6 */
	uint16_t port;
	uint64_t inode; /* the socket's inode: socket:[inode] in /proc/PID/fd */
};

/* One line of /proc/PID/net/tcp (v6 false) or tcp6 (v6 true). Returns 1 for
 * a socket in LISTEN (l filled), 0 for any other state and for the header
 * line, -EINVAL for a line that is neither. */
int node_tcp_line(const char *line, bool v6, struct tcp_listener *l);

struct node_inspect_opts {
	bool active;   /* --inspect, --inspect-brk or --inspect-wait: the inspector is
		      * the operator's, opened at start */
	uint16_t port; /* where SIGUSR1 opens it: --inspect-port, else 9229; 0: any */
};

/* Reads the inspector options out of a command line: /proc/PID/cmdline
 * (arguments separated by NUL, sep '\0') or NODE_OPTIONS (by spaces, sep ' ').
 * Every argument is looked at, the application's too: an argument that
 * looks like --inspect only makes sonde leave the process alone. Call with
 * o set to { false, NODE_INSPECT_DEFAULT_PORT } first; later options win. */
void node_inspect_args(const char *args, size_t len, char sep, struct node_inspect_opts *o);

/* The value of NAME in an environment block (/proc/PID/environ: NAME=value
 * entries separated by NUL). Returns its length and sets *value, or -ENOENT. */
int node_environ_get(const char *env, size_t len, const char *name, const char **value);

/* One line of /proc/PID/maps: when the mapping holds addr and is a file's,
 * returns 1 with the file offset of addr and the path (within line, up to
 * the newline: *path_len bytes); 0 otherwise, -EINVAL for a bad line. */
int node_maps_line(const char *line, uint64_t addr, uint64_t *file_off, const char **path,
		   size_t *path_len);

/* Who a SIGUSR1 handler function belongs to, from its symbol's name. */
enum node_sigusr1 {
	NODE_SIGUSR1_UNKNOWN = 0, /* no name: decided by other signs */
	NODE_SIGUSR1_NODE,	  /* Node.js's own: it starts the inspector */
	NODE_SIGUSR1_APP,	  /* libuv's: the application listens to SIGUSR1 */
	NODE_SIGUSR1_OTHER,	  /* anything else: not Node.js, or a native handler */
};
enum node_sigusr1 node_sigusr1_by_name(const char *func);

/* Whether an executable's base name is that of Node.js: node, nodejs, or
 * node followed by a version (node20, node-18.19). */
bool node_exe_name(const char *path);

#endif /* SONDE_NODE_PROC_H */
