/* SPDX-License-Identifier: MIT */
/*
 * Pod JSON as the API server sends it (fixtures shaped as `kubectl get pod -o
 * json` on an EKS node, shared with the integration tests), watch-event lines,
 * and input that is too long, malformed or hostile.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/pod_json.h"

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

/* The fixtures live with the integration tests; make runs tests from the
 * repository root, and __FILE__ is relative to it. */
static char *fixture(const char *name, size_t *len)
{
	char path[512];
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%.*s/../integration/fixtures/k8s/%s",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void parse_fixture(const char *name, struct k8s_pod *p)
{
	char err[256] = "";
	size_t len;
	char *text = fixture(name, &len);
	int ret = pod_json_parse(text, len, p, err, sizeof(err));

	if (ret)
		fail_msg("%s: %s", name, err);
	free(text);
}

static const char *extra(const struct k8s_pod_meta *m, const char *key)
{
	for (int i = 0; i < m->nextra; i++)
		if (!strcmp(m->extra[i].key, key))
			return m->extra[i].value;
	return NULL;
}

static void test_deployment_pod(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("deployment_pod.json", &p);
	assert_string_equal(p.meta.uid, "f18df6b1-79d9-e22f-077d-cd9a068d5c44");
	assert_string_equal(p.meta.namespace_, "shop");
	assert_string_equal(p.meta.name, "checkout-7d9f8c6b5-x2x4q");
	assert_string_equal(p.meta.node, "ip-192-168-42-17.eu-west-1.compute.internal");
	assert_string_equal(p.resource_version, "4123871");
	assert_string_equal(p.phase, "Running");
	assert_false(p.deleting);
	assert_string_equal(p.owner_kind, "ReplicaSet");
	assert_string_equal(p.owner_name, "checkout-7d9f8c6b5");
	assert_string_equal(p.template_hash, "7d9f8c6b5");
	assert_string_equal(p.meta.replicaset, "checkout-7d9f8c6b5");
	/* the Deployment needs a lookup: not from the pod alone */
	assert_string_equal(p.meta.deployment, "");
	assert_string_equal(p.meta.statefulset, "");
	assert_string_equal(p.meta.app_name_label, "checkout");
	assert_string_equal(p.meta.service_annotation, "checkout-api");
	assert_int_equal(p.meta.nextra, 2);
	assert_string_equal(extra(&p.meta, "deployment.environment.name"), "production");
	assert_string_equal(extra(&p.meta, "service.namespace"), "shop");
	assert_null(extra(&p.meta, "service.name"));
	assert_null(extra(&p.meta, "prometheus.io/scrape"));
	assert_int_equal(p.meta.ncontainers, 2);
	assert_string_equal(p.meta.containers[0].name, "checkout");
	assert_string_equal(p.meta.containers[0].id,
			    "c7761e58969f7edd498186641b2021e8477e1bcd230de4cf3435242da4a40d14");
	assert_string_equal(p.meta.containers[1].name, "envoy");
	assert_string_equal(p.meta.containers[1].id,
			    "84532b306f259587c364bd7301e0813963d5b84fd27c9338f0862dab8f0499d7");
}

static void test_statefulset_pod(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("statefulset_pod.json", &p);
	assert_string_equal(p.meta.name, "redis-0");
	assert_string_equal(p.meta.statefulset, "redis");
	assert_string_equal(p.meta.replicaset, "");
	assert_string_equal(p.meta.app_name_label, "redis");
	assert_string_equal(p.template_hash, "");
	assert_int_equal(p.meta.ncontainers, 1);
	assert_string_equal(p.meta.containers[0].id,
			    "34fb46c847bb9df96e5205a39d382f648a6e8dce1e014cd85b4ca6a88d88ed03");
}

static void test_daemonset_pod_with_init_container(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("daemonset_pod.json", &p);
	assert_string_equal(p.meta.namespace_, "kube-system");
	assert_string_equal(p.meta.daemonset, "aws-node");
	assert_string_equal(p.meta.app_name_label, "aws-node");
	/* regular containers first, matched to their statuses by name (the status
	 * list is in another order), then the init container */
	assert_int_equal(p.meta.ncontainers, 3);
	assert_string_equal(p.meta.containers[0].name, "aws-node");
	assert_string_equal(p.meta.containers[0].id,
			    "bbcec11f6326f9bd1d33b2567e28b871ef52f3cee48b75cba24a2c4e58147cf8");
	assert_string_equal(p.meta.containers[1].name, "aws-eks-nodeagent");
	assert_string_equal(p.meta.containers[1].id,
			    "eaff17fafb9b2e118c99f2b2a1a4111fb4e4600485db197f6a0732e44952d5ef");
	assert_string_equal(p.meta.containers[2].name, "aws-vpc-cni-init");
	assert_string_equal(p.meta.containers[2].id,
			    "aac0949108ce4cabdfc115de088b37f8315d3527a20e50f45231401c3c350fdb");
}

static void test_cronjob_pod(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("cronjob_pod.json", &p);
	assert_string_equal(p.meta.job, "nightly-report-28577340");
	assert_string_equal(p.meta.cronjob, "");
	assert_string_equal(p.phase, "Succeeded");
	/* a finished container keeps its id */
	assert_string_equal(p.meta.containers[0].id,
			    "845e91831319e89c4d656bdb80c278ac09a7230d61e5dfd2e1b1fbb436ac8917");
}

static void test_init_and_ephemeral_containers_crio(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("ephemeral_pod.json", &p);
	assert_int_equal(p.meta.ncontainers, 4);
	assert_string_equal(p.meta.containers[0].name, "api");
	assert_string_equal(p.meta.containers[0].id,
			    "14c2529eb4498c5d1ffd6915d05bf58a91bdda796af59f41d480d11c099d0479");
	assert_string_equal(p.meta.containers[1].name, "migrate");
	assert_string_equal(p.meta.containers[2].name, "wait-db");
	assert_string_equal(p.meta.containers[2].id,
			    "fbe6a0b7154aa0b3b6c079d7654a51dba3f8c13834795efc9fbdd5b48ac471eb");
	assert_string_equal(p.meta.containers[3].name, "debugger-r4x8k");
	assert_string_equal(p.meta.containers[3].id,
			    "4c44d7c28ec0f6ca3e2624c6af1d3be324576d01ef6f6c2dc0af7e61664b8c2c");
}

static void test_pending_pod_has_no_ids(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("pending_pod.json", &p);
	assert_string_equal(p.phase, "Pending");
	assert_int_equal(p.meta.ncontainers, 1);
	assert_string_equal(p.meta.containers[0].name, "cart");
	assert_string_equal(p.meta.containers[0].id, "");
}

static void test_docker_bare_pod(void **state)
{
	struct k8s_pod p;

	(void)state;
	parse_fixture("docker_pod.json", &p);
	assert_string_equal(p.owner_kind, "");
	assert_string_equal(p.meta.replicaset, "");
	assert_string_equal(p.meta.containers[0].id,
			    "58ee522f0a2ba50d74dcf439e1f6e20209183af676c3878d9acd0c3ce1ad56e1");
}

static void test_container_id_prefixes(void **state)
{
	char id[K8S_CONTAINER_ID_LEN];
	const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char buf[128];

	(void)state;
	snprintf(buf, sizeof(buf), "containerd://%s", hex);
	assert_true(pod_json_container_id(buf, id));
	assert_string_equal(id, hex);
	snprintf(buf, sizeof(buf), "cri-o://%s", hex);
	assert_true(pod_json_container_id(buf, id));
	snprintf(buf, sizeof(buf), "docker://%s", hex);
	assert_true(pod_json_container_id(buf, id));
	snprintf(buf, sizeof(buf), "docker://%s",
		 "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
	assert_true(pod_json_container_id(buf, id));
	assert_string_equal(id, hex);

	/* unknown runtime, short, long, not hex, path tricks */
	snprintf(buf, sizeof(buf), "rkt://%s", hex);
	assert_false(pod_json_container_id(buf, id));
	assert_string_equal(id, "");
	assert_false(pod_json_container_id("containerd://abc", id));
	snprintf(buf, sizeof(buf), "containerd://%s0", hex);
	assert_false(pod_json_container_id(buf, id));
	assert_false(pod_json_container_id(
		"containerd://../../../../etc/passwd/../0123456789abcdef0123456789abcdef01234567",
		id));
	assert_false(pod_json_container_id(hex, id)); /* no prefix */
	assert_false(pod_json_container_id("", id));
	assert_false(pod_json_container_id(NULL, id));
}

static void test_watch_events(void **state)
{
	struct k8s_watch_event ev;
	char err[256];
	size_t len;
	char *pod = fixture("statefulset_pod.json", &len);
	static char line[65536];
	const char *bookmark =
		"{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
		"\"metadata\":{\"resourceVersion\":\"4200777\",\"creationTimestamp\":null,"
		"\"annotations\":{\"k8s.io/"
		"initial-events-end\":\"true\"}},\"spec\":{\"containers\":"
		"null},\"status\":{}}}";
	const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":"
			   "\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old "
			   "resource version: 4100000 (4200777)\",\"reason\":\"Expired\","
			   "\"code\":410}}";

	(void)state;
	/* the real stream: one compact object per line */
	for (char *p = pod; *p; p++)
		if (*p == '\n')
			*p = ' ';
	snprintf(line, sizeof(line), "{\"type\":\"MODIFIED\",\"object\":%s}", pod);
	assert_int_equal(pod_json_parse_event(line, strlen(line), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, K8S_EVENT_MODIFIED);
	assert_string_equal(ev.pod.meta.name, "redis-0");
	assert_string_equal(ev.pod.resource_version, "4120017");
	snprintf(line, sizeof(line), "{\"type\":\"DELETED\",\"object\":%s}", pod);
	assert_int_equal(pod_json_parse_event(line, strlen(line), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, K8S_EVENT_DELETED);
	assert_string_equal(ev.pod.meta.uid, "cc6e9c35-ab09-0efb-ae78-264fe17a5baf");
	snprintf(line, sizeof(line), "{\"type\":\"ADDED\",\"object\":%s}", pod);
	assert_int_equal(pod_json_parse_event(line, strlen(line), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, K8S_EVENT_ADDED);

	assert_int_equal(pod_json_parse_event(bookmark, strlen(bookmark), &ev, err, sizeof(err)),
			 0);
	assert_int_equal(ev.type, K8S_EVENT_BOOKMARK);
	assert_string_equal(ev.pod.resource_version, "4200777");
	assert_string_equal(ev.pod.meta.uid, "");

	assert_int_equal(pod_json_parse_event(gone, strlen(gone), &ev, err, sizeof(err)), 0);
	assert_int_equal(ev.type, K8S_EVENT_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.reason, "Expired");
	assert_string_equal(ev.message, "too old resource version: 4100000 (4200777)");

	free(pod);
}

static void test_bad_events(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"null",
		"[]",
		"{\"type\":\"ADDED\"}",
		"{\"type\":\"ADDED\",\"object\":[]}",
		"{\"type\":\"EXPLODED\",\"object\":{}}",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}",
		"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Pod\"}}",
		/* a pod without uid, with a uid of the wrong type */
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\"}}"
		"}",
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"uid\":7,\"name\":\"a\","
		"\"namespace\":\"b\"}}}",
		/* another kind of object in a pod watch */
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Secret\",\"metadata\":{\"uid\":\"u\","
		"\"name\":\"a\",\"namespace\":\"b\"}}}",
		/* trailing garbage, two objects on one line, invalid UTF-8 */
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}} x",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}{}",
		"{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"\xff\"}}}",
		"{'type':'ADDED'}",
	};
	struct k8s_watch_event ev;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (pod_json_parse_event(bad[i], strlen(bad[i]), &ev, err, sizeof(err)) != -EINVAL)
			fail_msg("accepted bad event %zu: %s", i, bad[i]);
		assert_true(err[0] != '\0');
	}
	/* the message names what is wrong */
	pod_json_parse_event(bad[9], strlen(bad[9]), &ev, err, sizeof(err));
	assert_string_equal(err, "pod without metadata.uid");
}

static void test_deep_nesting_is_refused(void **state)
{
	size_t n = 100000;
	char *deep = xmalloc(2 * n + 64);
	struct k8s_pod p;
	char err[256];
	size_t o = 0;

	(void)state;
	o += (size_t)sprintf(deep, "{\"metadata\":");
	for (size_t i = 0; i < n; i++)
		deep[o++] = '[';
	for (size_t i = 0; i < n; i++)
		deep[o++] = ']';
	deep[o++] = '}';
	assert_int_equal(pod_json_parse(deep, o, &p, err, sizeof(err)), -EINVAL);
	free(deep);
}

/* Strings longer than their fields are cut, never overflow, and never in the
 * middle of a UTF-8 character. */
static void test_long_strings_are_cut(void **state)
{
	char *text = xmalloc(1 << 20), *name = xmalloc(4096), *val = xmalloc(8192);
	char key[400];
	struct k8s_pod p;
	char err[256];
	int n;

	(void)state;
	memset(name, 'n', 3000);
	name[3000] = '\0';
	/* 2-byte characters (é) so that any cut lands on a character edge or not */
	val[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(val, "\xc3\xa9");
	memset(key, 'k', 300);
	key[300] = '\0';
	n = snprintf(text, 1 << 20,
		     "{\"kind\":\"Pod\",\"metadata\":{\"uid\":\"%s\",\"name\":\"%s\","
		     "\"namespace\":\"%s\",\"labels\":{\"app.kubernetes.io/name\":\"%s\"},"
		     "\"annotations\":{\"resource.opentelemetry.io/service.name\":\"%s\","
		     "\"resource.opentelemetry.io/%s\":\"v\","
		     "\"resource.opentelemetry.io/a\":\"%s\"},"
		     "\"ownerReferences\":[{\"kind\":\"ReplicaSet\",\"name\":\"%s\","
		     "\"controller\":true}]},"
		     "\"spec\":{\"nodeName\":\"%s\",\"containers\":[{\"name\":\"%s\"}]}}",
		     name, name, name, val, val, key, val, name, name, name);
	assert_int_equal(pod_json_parse(text, (size_t)n, &p, err, sizeof(err)), 0);
	assert_int_equal(strlen(p.meta.uid), K8S_UID_LEN - 1);
	assert_int_equal(strlen(p.meta.name), K8S_NAME_LEN - 1);
	assert_int_equal(strlen(p.meta.namespace_), K8S_LABEL_LEN - 1);
	assert_int_equal(strlen(p.meta.replicaset), K8S_NAME_LEN - 1);
	assert_int_equal(strlen(p.meta.node), K8S_NAME_LEN - 1);
	assert_int_equal(strlen(p.meta.containers[0].name), K8S_LABEL_LEN - 1);
	/* 63 bytes would split an é: 62 it is */
	assert_int_equal(strlen(p.meta.app_name_label), 62);
	assert_int_equal(strlen(p.meta.service_annotation), 254);
	assert_int_equal(p.meta.nextra, 1); /* the over-long key is left out */
	assert_string_equal(p.meta.extra[0].key, "a");
	free(text);
	free(name);
	free(val);
}

static void test_too_many_containers_and_attrs(void **state)
{
	char *text = xmalloc(1 << 16);
	struct k8s_pod p;
	char err[256];
	size_t o = 0;

	(void)state;
	o += (size_t)sprintf(text, "{\"metadata\":{\"uid\":\"u\",\"name\":\"n\",\"namespace\":"
				   "\"ns\",\"annotations\":{");
	for (int i = 0; i < 20; i++)
		o += (size_t)sprintf(text + o, "%s\"resource.opentelemetry.io/k%d\":\"v%d\"",
				     i ? "," : "", i, i);
	o += (size_t)sprintf(text + o, "}},\"spec\":{\"containers\":[");
	for (int i = 0; i < 40; i++)
		o += (size_t)sprintf(text + o, "%s{\"name\":\"c%d\"}", i ? "," : "", i);
	o += (size_t)sprintf(text + o, "],\"initContainers\":[{\"name\":\"init\"}]}}");
	assert_int_equal(pod_json_parse(text, o, &p, err, sizeof(err)), 0);
	assert_int_equal(p.meta.ncontainers, K8S_MAX_CONTAINERS);
	assert_string_equal(p.meta.containers[K8S_MAX_CONTAINERS - 1].name, "c15");
	assert_int_equal(p.meta.nextra, K8S_MAX_EXTRA_ATTRS);
	free(text);
}

static void test_wrong_types_are_ignored(void **state)
{
	const char *t = "{\"metadata\":{\"uid\":\"u\",\"name\":\"n\",\"namespace\":\"ns\","
			"\"labels\":[1,2],\"annotations\":\"x\",\"ownerReferences\":{\"a\":1},"
			"\"deletionTimestamp\":\"2024-05-02T08:00:00Z\"},"
			"\"spec\":{\"containers\":[7,null,{\"name\":3},{\"name\":\"ok\"}]},"
			"\"status\":{\"containerStatuses\":\"no\",\"phase\":9}}";
	struct k8s_pod p;
	char err[256];

	(void)state;
	assert_int_equal(pod_json_parse(t, strlen(t), &p, err, sizeof(err)), 0);
	assert_true(p.deleting);
	assert_int_equal(p.meta.ncontainers, 1);
	assert_string_equal(p.meta.containers[0].name, "ok");
	assert_string_equal(p.meta.containers[0].id, "");
	assert_string_equal(p.phase, "");
}

struct collect {
	int n;
	char names[8][K8S_NAME_LEN];
};

static int collect(const struct k8s_pod *pod, void *arg)
{
	struct collect *c = arg;

	if (c->n < 8)
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s", pod->meta.name);
	c->n++;
	return 0;
}

static void test_pod_list(void **state)
{
	size_t l1, l2;
	char *a = fixture("deployment_pod.json", &l1), *b = fixture("pending_pod.json", &l2);
	static char text[65536];
	char rv[K8S_RV_LEN], cont[256], err[256];
	struct collect c = { 0 };
	int skipped;

	(void)state;
	sprintf(text,
		"{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":"
		"\"4200100\",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDIwMDEwMH0\","
		"\"remainingItemCount\":3},\"items\":[%s,{\"metadata\":{}},%s]}",
		a, b);
	assert_int_equal(pod_json_parse_list(text, strlen(text), collect, &c, rv, sizeof(rv), cont,
					     sizeof(cont), &skipped, err, sizeof(err)),
			 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(skipped, 1);
	assert_string_equal(c.names[0], "checkout-7d9f8c6b5-x2x4q");
	assert_string_equal(c.names[1], "cart-5c6d7e8f9-zz7xk");
	assert_string_equal(rv, "4200100");
	assert_string_equal(cont, "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NDIwMDEwMH0");

	/* the last page: no continue; empty items may be null */
	c.n = 0;
	sprintf(text, "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"9\"},"
		      "\"items\":null}");
	assert_int_equal(pod_json_parse_list(text, strlen(text), collect, &c, rv, sizeof(rv), cont,
					     sizeof(cont), NULL, err, sizeof(err)),
			 0);
	assert_int_equal(c.n, 0);
	assert_string_equal(cont, "");

	/* a continue token that does not fit is an error, not a cut token */
	assert_int_equal(pod_json_parse_list(
				 "{\"metadata\":{\"resourceVersion\":\"9\",\"continue\":"
				 "\"abcdefghij\"},\"items\":[]}",
				 66, collect, &c, rv, sizeof(rv), cont, 5, NULL, err, sizeof(err)),
			 -EINVAL);
	/* a Status instead of a list */
	sprintf(text, "{\"kind\":\"Status\",\"code\":410}");
	assert_int_equal(pod_json_parse_list(text, strlen(text), collect, &c, rv, sizeof(rv), cont,
					     sizeof(cont), NULL, err, sizeof(err)),
			 -EINVAL);
	free(a);
	free(b);
}

static void test_controller_and_status(void **state)
{
	const char *rs = "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{"
			 "\"name\":\"checkout-7d9f8c6b5\",\"namespace\":\"shop\","
			 "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Other\",\"name\":"
			 "\"x\"},{\"apiVersion\":\"apps/v1\",\"blockOwnerDeletion\":true,"
			 "\"controller\":true,\"kind\":\"Deployment\",\"name\":\"checkout\","
			 "\"uid\":\"0b5e\"}]}}";
	const char *forbidden =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"replicasets.apps \\\"checkout-7d9f8c6b5\\\" is forbidden: User "
		"\\\"system:serviceaccount:sonde:sonde\\\" cannot get resource \\\"replicasets\\\" "
		"in API group \\\"apps\\\" in the namespace "
		"\\\"shop\\\"\",\"reason\":\"Forbidden\","
		"\"details\":{\"name\":\"checkout-7d9f8c6b5\",\"group\":\"apps\",\"kind\":"
		"\"replicasets\"},\"code\":403}";
	char kind[K8S_KIND_LEN], name[K8S_NAME_LEN], reason[64], msg[256], err[128];
	int code;

	(void)state;
	assert_int_equal(pod_json_controller(rs, strlen(rs), kind, sizeof(kind), name, sizeof(name),
					     err, sizeof(err)),
			 0);
	assert_string_equal(kind, "Deployment");
	assert_string_equal(name, "checkout");
	assert_int_equal(pod_json_controller("{\"metadata\":{}}", 15, kind, sizeof(kind), name,
					     sizeof(name), err, sizeof(err)),
			 0);
	assert_string_equal(kind, "");
	assert_int_equal(pod_json_status(forbidden, strlen(forbidden), &code, reason,
					 sizeof(reason), msg, sizeof(msg)),
			 0);
	assert_int_equal(code, 403);
	assert_string_equal(reason, "Forbidden");
	assert_non_null(strstr(msg, "cannot get resource \"replicasets\""));
	assert_int_equal(
		pod_json_status("<html>", 6, &code, reason, sizeof(reason), msg, sizeof(msg)),
		-EINVAL);
}

static void test_copy_str(void **state)
{
	char small[4];

	(void)state;
	assert_true(k8s_copy_str(small, sizeof(small), "abc", 3));
	assert_string_equal(small, "abc");
	assert_false(k8s_copy_str(small, sizeof(small), "abcd", 4));
	assert_string_equal(small, "abc");
	/* "aé€": a + 2 bytes + 3 bytes; 3 bytes of room hold "aé" */
	assert_false(k8s_copy_str(small, sizeof(small), "a\xc3\xa9\xe2\x82\xac", 6));
	assert_string_equal(small, "a\xc3\xa9");
	assert_false(k8s_copy_str(small, 3, "a\xc3\xa9", 3));
	assert_string_equal(small, "a");
	assert_true(k8s_copy_str(small, sizeof(small), NULL, 5));
	assert_string_equal(small, "");
}

/* Found by fuzz_kube_config: a quoted value (an ExecCredential's apiVersion, a
 * watch event's type) with a line break or an escape sequence made the one-line
 * error two lines, or a terminal command. */
static void test_errors_stay_one_line(void **state)
{
	static const char ev[] = "{\"type\":\"ADDED\\n\\u001b[31mfake\",\"object\":{}}";
	struct k8s_watch_event *we = calloc(1, sizeof(*we));
	char err[256];

	(void)state;
	assert_non_null(we);
	assert_int_equal(pod_json_parse_event(ev, strlen(ev), we, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "watch event of unknown type 'ADDED??[31mfake'");
	assert_int_equal(k8s_fail(err, sizeof(err), "%s", "a\r\nb\x7f"), -EINVAL);
	assert_string_equal(err, "a??b?");
	free(we);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deployment_pod),
		cmocka_unit_test(test_statefulset_pod),
		cmocka_unit_test(test_daemonset_pod_with_init_container),
		cmocka_unit_test(test_cronjob_pod),
		cmocka_unit_test(test_init_and_ephemeral_containers_crio),
		cmocka_unit_test(test_pending_pod_has_no_ids),
		cmocka_unit_test(test_docker_bare_pod),
		cmocka_unit_test(test_container_id_prefixes),
		cmocka_unit_test(test_watch_events),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_deep_nesting_is_refused),
		cmocka_unit_test(test_long_strings_are_cut),
		cmocka_unit_test(test_too_many_containers_and_attrs),
		cmocka_unit_test(test_wrong_types_are_ignored),
		cmocka_unit_test(test_pod_list),
		cmocka_unit_test(test_controller_and_status),
		cmocka_unit_test(test_copy_str),
		cmocka_unit_test(test_errors_stay_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
