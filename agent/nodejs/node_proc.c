/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nodejs/node_proc.h"

#define TCP_LISTEN_STATE 0x0a

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at *p into v; advances *p. */
static int hex_field(const char **p, int n, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		int d = hexval((*p)[i]);

		if (d < 0)
			return -EINVAL;
		*v = *v << 4 | (uint64_t)d;
	}
	*p += n;
	return 0;
}

/*
 * "  0: 0100007F:240D 00000000:0000 0A 00000000:00000000 00:00000000 00000000
 *   0        0 114542 1 ..." — the address is the kernel's 32-bit words in
 * hex, each in host byte order: the bytes of each word come out reversed on
 * a little-endian machine, so each word is read back as a host integer.
 */
int node_tcp_line(const char *line, bool v6, struct tcp_listener *l)
{
	const char *p = line;
	int words = v6 ? 4 : 1;
	uint64_t v, state, inode;
	char *end;

	while (*p == ' ')
		p++;
	if (!strncmp(p, "sl", 2))
		return 0;
	strtoul(p, &end, 10);
	if (end == p || *end != ':')
		return -EINVAL;
	p = end + 1;
	while (*p == ' ')
		p++;
	memset(l, 0, sizeof(*l));
	for (int w = 0; w < words; w++) {
		uint32_t word;

		if (hex_field(&p, 8, &v))
			return -EINVAL;
		word = (uint32_t)v;
		memcpy(l->addr + 4 * w, &word, 4);
	}
	if (*p++ != ':' || hex_field(&p, 4, &v))
		return -EINVAL;
	l->port = (uint16_t)v;
	l->family = v6 ? AF_INET6 : AF_INET;
	/* the remote address:port, then the state */
	while (*p == ' ')
		p++;
	for (int w = 0; w < words; w++)
		if (hex_field(&p, 8, &v))
			return -EINVAL;
	if (*p++ != ':' || hex_field(&p, 4, &v) || *p++ != ' ' || hex_field(&p, 2, &state))
		return -EINVAL;
	/* tx:rx, tr:when, retransmits, uid, timeout, then the inode */
	for (int field = 0; field < 5; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ')
			p++;
	}
	inode = strtoull(p, &end, 10);
	if (end == p)
		return -EINVAL;
	l->inode = inode;
	return state == TCP_LISTEN_STATE;
}

/* The port at the end of "[host:]port"; 0 when it is not a number. */
static uint16_t port_of(const char *v, size_t len)
{
	const char *colon = memrchr(v, ':', len);
	unsigned long port = 0;

	if (colon) {
		len -= (size_t)(colon + 1 - v);
		v = colon + 1;
	}
	if (!len || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		port = port * 10 + (unsigned long)(v[i] - '0');
	}
	return port <= 65535 ? (uint16_t)port : 0;
}

/* Whether arg (of length len) is option name, alone or as name=value; the
 * value's start in *value (NULL when alone). */
static bool is_opt(const char *arg, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);

	if (len < n || memcmp(arg, name, n) || (len > n && arg[n] != '='))
		return false;
	*value = len > n ? arg + n + 1 : NULL;
	return true;
}

void node_inspect_args(const char *args, size_t len, char sep, struct node_inspect_opts *o)
{
	static const char *const opens[] = { "--inspect", "--inspect-brk", "--inspect-wait",
					     "--debug", "--debug-brk" };
	static const char *const ports[] = { "--inspect-port", "--debug-port" };
	const char *p = args, *end = args + len, *value;
	bool port_next = false;

	while (p < end) {
		const char *stop = memchr(p, sep, (size_t)(end - p));
		size_t n = (size_t)((stop ? stop : end) - p);

		if (port_next && n) {
			o->port = port_of(p, n);
			port_next = false;
		}
		for (size_t i = 0; i < sizeof(opens) / sizeof(opens[0]); i++) {
			if (!is_opt(p, n, opens[i], &value))
				continue;
			o->active = true;
			if (value)
				o->port = port_of(value, (size_t)(p + n - value));
		}
		for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
			if (!is_opt(p, n, ports[i], &value))
				continue;
			if (value)
				o->port = port_of(value, (size_t)(p + n - value));
			else
				port_next = true; /* "--inspect-port 9230" */
		}
		p += n + 1;
	}
}

int node_environ_get(const char *env, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);
	const char *p = env, *end = env + len;

	while (p < end) {
		const char *stop = memchr(p, '\0', (size_t)(end - p));
		size_t elen = (size_t)((stop ? stop : end) - p);

		if (elen > n && !memcmp(p, name, n) && p[n] == '=') {
			*value = p + n + 1;
			return (int)(elen - n - 1);
		}
		p += elen + 1;
	}
	return -ENOENT;
}

bool node_exe_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!strcmp(base, "node") || !strcmp(base, "nodejs"))
		return true;
	if (strncmp(base, "node", 4) || !base[4])
		return false;
	/* node20, node-18.19.1, node_20: a version and nothing else */
	base += 4;
	if (*base == '-' || *base == '_')
		base++;
	if (!*base)
		return false;
	for (; *base; base++)
		if ((*base < '0' || *base > '9') && *base != '.')
			return false;
	return true;
}

int node_maps_line(const char *line, uint64_t addr, uint64_t *file_off, const char **path,
		   size_t *path_len)
{
	unsigned long long start, end, off, ino;
	int pos = 0;

	/* start-end perms offset dev inode path */
	if (sscanf(line, "%llx-%llx %*s %llx %*s %llu %n", &start, &end, &off, &ino, &pos) != 4 ||
	    !pos)
		return -EINVAL;
	if (addr < start || addr >= end || !ino || line[pos] != '/')
		return 0;
	*file_off = addr - start + off;
	*path = line + pos;
	*path_len = strcspn(line + pos, "\n");
	return 1;
}

enum node_sigusr1 node_sigusr1_by_name(const char *func)
{
	if (!func || !*func)
		return NODE_SIGUSR1_UNKNOWN;
	/* node::inspector::(anonymous namespace)::StartIoThreadWakeup, in
	 * src/inspector_agent.cc since Node.js 8: the handler that wakes the
	 * inspector's thread. */
	if (strstr(func, "StartIoThreadWakeup"))
		return NODE_SIGUSR1_NODE;
	/* libuv's one handler for every signal a uv_signal_t watches:
	 * process.on('SIGUSR1') installs it. */
	if (!strcmp(func, "uv__signal_handler"))
		return NODE_SIGUSR1_APP;
	return NODE_SIGUSR1_OTHER;
}
