/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "k8s/cgroup_path.h"
#include "k8s/pod_cgroups.h"
#include "host/proc.h"

/* kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod….slice sits
 * three levels down; nested setups (kind, k3s in Docker) add a few more. */
#define MAX_DEPTH 8

struct walk {
	const char *pod_uid;
	const char *const *container_ids;
	int ncontainer_ids;
	uint64_t *ids;
	size_t max, n;
};

static void add_id(struct walk *w, const char *path)
{
	uint64_t id;

	if (w->n < w->max && !proc_cgroup_id(path, &id))
		w->ids[w->n++] = id;
}

static bool wanted_container(const struct walk *w, const char *name)
{
	char id[K8S_CONTAINER_ID_LEN];

	if (!cgroup_name_container_id(name, strlen(name), id, NULL))
		return false;
	for (int i = 0; i < w->ncontainer_ids; i++)
		if (!strcmp(id, w->container_ids[i]))
			return true;
	return false;
}

/* in_pod: 0 above the pod cgroup, 1 inside it, 2 inside a wanted container. */
static void walk(struct walk *w, const char *path, int depth, int in_pod)
{
	char child[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (depth > MAX_DEPTH || !(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		char uid[K8S_UID_LEN];
		int state = in_pod;

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, e->d_name) >= (int)sizeof(child))
			continue;
		if (!state && cgroup_name_pod_uid(e->d_name, strlen(e->d_name), uid) &&
		    !strcmp(uid, w->pod_uid))
			state = 1;
		else if (state == 1 && w->ncontainer_ids && wanted_container(w, e->d_name))
			state = 2;
		/* the whole pod, or only the chosen containers and below */
		if ((state == 1 && !w->ncontainer_ids) || state == 2)
			add_id(w, child);
		walk(w, child, depth + 1, state);
	}
	closedir(d);
}

int pod_cgroups_find(const char *root, const char *pod_uid, const char *const *container_ids,
		     int ncontainer_ids, uint64_t *ids, size_t max)
{
	struct walk w = { .pod_uid = pod_uid,
			  .container_ids = container_ids,
			  .ncontainer_ids = ncontainer_ids,
			  .ids = ids,
			  .max = max };
	DIR *d = opendir(root);

	if (!d)
		return -errno;
	closedir(d);
	walk(&w, root, 0, 0);
	return (int)w.n;
}
