/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "k8s/cgroup_path.h"

#define CONTAINER_ID_HEX 64

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_hex(s[i]))
			return false;
	return true;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

static void lower_copy(char *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] >= 'A' && s[i] <= 'F' ? (char)(s[i] - 'A' + 'a') : s[i];
	out[n] = '\0';
}

/* Scope prefixes that runtimes put before the id. The conmon variants hold the
 * runtime's monitor of the same container, which is still that container. */
static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-conmon-", "cri-o" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
	{ "libpod-conmon-", "podman" },
	{ "libpod-", "podman" },
};

bool cgroup_name_container_id(const char *name, size_t len, char id[K8S_CONTAINER_ID_LEN],
			      const char **runtime)
{
	const char *rt = "";

	if (has_suffix(name, len, ".scope"))
		len -= strlen(".scope");
	for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
		size_t n = strlen(scope_prefixes[i].prefix);

		if (len > n && !memcmp(name, scope_prefixes[i].prefix, n)) {
			name += n;
			len -= n;
			rt = scope_prefixes[i].runtime;
			break;
		}
	}
	if (len != CONTAINER_ID_HEX || !all_hex(name, len))
		return false;
	lower_copy(id, name, len);
	if (runtime)
		*runtime = rt;
	return true;
}

/* 8-4-4-4-12 with '-' (cgroupfs driver) or '_' (systemd escapes '-'), or 32
 * hex digits (static pods are named by a hash of their manifest). */
static bool parse_uid(const char *s, size_t n, char uid[K8S_UID_LEN])
{
	if (n == 32 && all_hex(s, n)) {
		lower_copy(uid, s, n);
		return true;
	}
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;

		if (sep ? s[i] != '-' && s[i] != '_' : !is_hex(s[i]))
			return false;
	}
	lower_copy(uid, s, n);
	for (size_t i = 0; i < n; i++)
		if (uid[i] == '_')
			uid[i] = '-';
	return true;
}

bool cgroup_name_pod_uid(const char *name, size_t len, char uid[K8S_UID_LEN])
{
	if (has_suffix(name, len, ".slice"))
		len -= strlen(".slice");
	/* "pod<uid>" is the whole name or follows the last '-' of a slice name. */
	for (size_t i = 0; i + 3 < len; i++) {
		if ((i == 0 || name[i - 1] == '-') && !memcmp(name + i, "pod", 3))
			if (parse_uid(name + i + 3, len - i - 3, uid))
				return true;
	}
	return false;
}

/* One cgroup path: the deepest container id and pod uid on it. */
static void parse_path(const char *path, size_t len, struct container_ref *ref)
{
	const char *prev = NULL;
	size_t prev_len = 0;

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && path[j] != '/')
			j++;
		if (j > i) {
			const char *name = path + i;
			size_t n = j - i;
			const char *rt;

			if (cgroup_name_container_id(name, n, ref->id, &rt)) {
				/* plain Docker: /docker/<id> */
				if (!rt[0] && prev && prev_len == 6 && !memcmp(prev, "docker", 6))
					rt = "docker";
				ref->runtime = rt;
			} else {
				cgroup_name_pod_uid(name, n, ref->pod_uid);
			}
			prev = name;
			prev_len = n;
		}
		i = j + 1;
	}
}

/* The line that starts at text[*at], without its newline; moves *at past it. */
static size_t next_line(const char *text, size_t len, size_t *at, const char **line)
{
	const char *end;
	size_t n;

	*line = text + *at;
	end = memchr(*line, '\n', len - *at);
	n = end ? (size_t)(end - *line) : len - *at;
	*at += n + 1;
	return n;
}

bool cgroup_container_parse(const char *text, size_t len, struct container_ref *ref)
{
	int best_score = 0;

	memset(ref, 0, sizeof(*ref));
	ref->runtime = "";
	/* cgroup v1 has a line per hierarchy and hybrid systems have both kinds:
	 * the line that says the most (a container in a pod) wins. */
	for (size_t i = 0; i < len;) {
		const char *line;
		size_t n = next_line(text, len, &i, &line);
		const char *c1 = memchr(line, ':', n), *c2;
		struct container_ref r = { .runtime = "" };
		int score;

		if (!c1)
			continue;
		c2 = memchr(c1 + 1, ':', (size_t)(line + n - c1 - 1));
		if (!c2)
			continue;
		parse_path(c2 + 1, (size_t)(line + n - c2 - 1), &r);
		score = (r.id[0] ? 2 : 0) + (r.pod_uid[0] ? 1 : 0);
		if (score > best_score) {
			*ref = r;
			best_score = score;
		}
	}
	return best_score > 0;
}

bool cgroup_v2_path(const char *text, size_t len, const char **path, size_t *path_len)
{
	for (size_t i = 0; i < len;) {
		const char *line;
		size_t n = next_line(text, len, &i, &line);

		if (n >= 3 && !memcmp(line, "0::", 3)) {
			*path = line + 3;
			*path_len = n - 3;
			return true;
		}
	}
	return false;
}
