/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the Kubernetes API JSON parsers (k8s/pod_json.c): the
 * same bytes as a pod, a PodList page, a watch-event line, an owner's object and
 * a Status, and the container ids in them. The text is not NUL-terminated and
 * sits in a heap block of exactly its size, so a read past len is a finding.
 * Every string that comes out must fit its field, every count its array, every
 * error be one line; a pod that parses goes into a pod store and must be found
 * there by its uid.
 * Run: make fuzz FUZZERS_ONLY=pod_json (tests/fuzz/run.py).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "k8s/pod_json.h"
#include "k8s/pod_store.h"

static void check_meta(const struct k8s_pod_meta *m)
{
	FUZZ_CHECK_STR(m->uid);
	FUZZ_CHECK_STR(m->namespace_);
	FUZZ_CHECK_STR(m->name);
	FUZZ_CHECK_STR(m->node);
	FUZZ_CHECK_STR(m->service_annotation);
	FUZZ_CHECK_STR(m->app_name_label);
	FUZZ_CHECK_STR(m->replicaset);
	FUZZ_CHECK_STR(m->deployment);
	FUZZ_CHECK_STR(m->statefulset);
	FUZZ_CHECK_STR(m->daemonset);
	FUZZ_CHECK_STR(m->job);
	FUZZ_CHECK_STR(m->cronjob);
	FUZZ_CHECK(m->ncontainers >= 0 && m->ncontainers <= K8S_MAX_CONTAINERS);
	FUZZ_CHECK(m->nextra >= 0 && m->nextra <= K8S_MAX_EXTRA_ATTRS);
	for (int i = 0; i < m->ncontainers; i++) {
		FUZZ_CHECK_STR(m->containers[i].name);
		FUZZ_CHECK_STR(m->containers[i].id);
	}
	for (int i = 0; i < m->nextra; i++) {
		FUZZ_CHECK_STR(m->extra[i].key);
		FUZZ_CHECK_STR(m->extra[i].value);
	}
}

static void check_pod(const struct k8s_pod *p)
{
	check_meta(&p->meta);
	FUZZ_CHECK_STR(p->resource_version);
	FUZZ_CHECK_STR(p->phase);
	FUZZ_CHECK_STR(p->owner_kind);
	FUZZ_CHECK_STR(p->owner_name);
	FUZZ_CHECK_STR(p->template_hash);
}

/* What the watcher does with a pod: into the store, found again by uid. */
static void store_pod(const struct k8s_pod *p)
{
	struct pod_store *s = pod_store_new(NULL);
	static struct k8s_pod_meta found;

	if (!s)
		return;
	if (pod_store_upsert(s, &p->meta) == 0) {
		FUZZ_CHECK(pod_store_find_uid(s, p->meta.uid, &found, NULL) == 0);
		FUZZ_CHECK(!strcmp(found.name, p->meta.name));
		for (int i = 0; i < p->meta.ncontainers; i++)
			if (p->meta.containers[i].id[0])
				FUZZ_CHECK(pod_store_find_container(s, p->meta.containers[i].id,
								    &found, NULL) == 0);
	}
	pod_store_free(s);
}

static int on_item(const struct k8s_pod *pod, void *arg)
{
	int *n = arg;

	check_pod(pod);
	return ++*n > 1000; /* a page has at most limit items: stop a runaway */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_copy(data, size, false), *nul = fuzz_copy(data, size, true);
	static struct k8s_pod pod;
	static struct k8s_watch_event ev;
	char err[256], rv[K8S_RV_LEN], cont[512], kind[K8S_KIND_LEN], name[K8S_NAME_LEN];
	char reason[K8S_KIND_LEN], message[256], id[K8S_CONTAINER_ID_LEN];
	int n = 0, skipped = 0, code;

	if (pod_json_parse(text, size, &pod, err, sizeof(err)) == 0) {
		check_pod(&pod);
		FUZZ_CHECK(pod.meta.uid[0] && pod.meta.name[0] && pod.meta.namespace_[0]);
		store_pod(&pod);
	} else {
		fuzz_check_error(err, sizeof(err));
	}
	if (pod_json_parse_list(text, size, on_item, &n, rv, sizeof(rv), cont, sizeof(cont),
				&skipped, err, sizeof(err)) == 0) {
		FUZZ_CHECK_STR(rv);
		FUZZ_CHECK_STR(cont);
		FUZZ_CHECK(skipped >= 0);
	}
	if (pod_json_parse_event(text, size, &ev, err, sizeof(err)) == 0) {
		FUZZ_CHECK(ev.type >= K8S_EVENT_ADDED && ev.type <= K8S_EVENT_ERROR);
		check_pod(&ev.pod);
		FUZZ_CHECK_STR(ev.reason);
		FUZZ_CHECK_STR(ev.message);
	} else {
		fuzz_check_error(err, sizeof(err));
	}
	if (pod_json_controller(text, size, kind, sizeof(kind), name, sizeof(name), err,
				sizeof(err)) == 0) {
		FUZZ_CHECK_STR(kind);
		FUZZ_CHECK_STR(name);
	}
	if (pod_json_status(text, size, &code, reason, sizeof(reason), message, sizeof(message)) ==
	    0) {
		FUZZ_CHECK_STR(reason);
		FUZZ_CHECK_STR(message);
	}
	if (pod_json_container_id(nul, id))
		FUZZ_CHECK(id[0] && strlen(id) < sizeof(id));
	else
		FUZZ_CHECK(!id[0]);
	k8s_copy_str(id, sizeof(id), text, size);
	FUZZ_CHECK_STR(id);
	free(text);
	free(nul);
	return 0;
}
