/* SPDX-License-Identifier: MIT */
/* Deployment and CronJob names behind a pod's ReplicaSet or Job, with a stand-in for the API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "k8s/pod_owners.h"

/* What the stand-in API answers, and what it was asked. */
struct api {
	int ret;
	const char *owner_kind, *owner;
	int calls;
	char asked[128];
};

static int lookup(void *arg, const char *kind, const char *ns, const char *name, char *owner_kind,
		  char *owner, char *err, size_t errlen)
{
	struct api *a = arg;

	a->calls++;
	snprintf(a->asked, sizeof(a->asked), "%s %s/%s", kind, ns, name);
	owner_kind[0] = owner[0] = '\0';
	if (a->ret) {
		if (err)
			snprintf(err, errlen, "%s: lookup failed", a->asked);
		return a->ret;
	}
	snprintf(owner_kind, K8S_KIND_LEN, "%s", a->owner_kind);
	snprintf(owner, K8S_NAME_LEN, "%s", a->owner);
	return 0;
}

static struct k8s_pod pod_of(const char *replicaset, const char *job, const char *hash)
{
	struct k8s_pod p;

	memset(&p, 0, sizeof(p));
	snprintf(p.meta.namespace_, sizeof(p.meta.namespace_), "shop");
	snprintf(p.meta.replicaset, sizeof(p.meta.replicaset), "%s", replicaset);
	snprintf(p.meta.job, sizeof(p.meta.job), "%s", job);
	snprintf(p.template_hash, sizeof(p.template_hash), "%s", hash);
	return p;
}

static void test_replicaset_of_a_deployment(void **state)
{
	struct k8s_pod p = pod_of("cart-7d4b9c", "", "7d4b9c");
	struct api a = { .owner_kind = "Deployment", .owner = "cart" };
	char err[128] = "";
	bool fallback = true;

	(void)state;
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, err, sizeof(err)), 0);
	assert_string_equal(a.asked, "ReplicaSet shop/cart-7d4b9c");
	assert_int_equal(a.calls, 1);
	assert_string_equal(p.meta.deployment, "cart");
	assert_string_equal(p.meta.cronjob, "");
	assert_false(fallback);
	assert_string_equal(err, "");
}

static void test_replicaset_without_deployment(void **state)
{
	struct k8s_pod p = pod_of("cart-7d4b9c", "", "7d4b9c");
	struct api a = { .owner_kind = "", .owner = "" };
	bool fallback;

	(void)state;
	/* a bare ReplicaSet, or one some other controller made: no deployment */
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), 0);
	assert_string_equal(p.meta.deployment, "");
	a.owner_kind = "Rollout";
	a.owner = "cart";
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), 0);
	assert_string_equal(p.meta.deployment, "");
	assert_false(fallback);
}

static void test_failed_lookup_falls_back_to_the_hash(void **state)
{
	struct k8s_pod p = pod_of("cart-7d4b9c", "", "7d4b9c");
	struct api a = { .ret = -EACCES };
	char err[128] = "";
	bool fallback = false;

	(void)state;
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, err, sizeof(err)), -EACCES);
	assert_string_equal(p.meta.deployment, "cart");
	assert_true(fallback);
	assert_string_equal(err, "ReplicaSet shop/cart-7d4b9c: lookup failed");

	/* a name that does not end in the pod's hash says nothing */
	p = pod_of("cart-abc", "", "7d4b9c");
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), -EACCES);
	assert_string_equal(p.meta.deployment, "");
	assert_false(fallback);

	/* a lookup cut short by a stop is no reason to guess */
	p = pod_of("cart-7d4b9c", "", "7d4b9c");
	a.ret = -ECANCELED;
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), -ECANCELED);
	assert_string_equal(p.meta.deployment, "");
	assert_false(fallback);
}

static void test_job_of_a_cronjob(void **state)
{
	struct k8s_pod p = pod_of("", "backup-28461234", "");
	struct api a = { .owner_kind = "CronJob", .owner = "backup" };
	bool fallback;

	(void)state;
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), 0);
	assert_string_equal(a.asked, "Job shop/backup-28461234");
	assert_string_equal(p.meta.cronjob, "backup");
	assert_string_equal(p.meta.deployment, "");

	p = pod_of("", "migrate", "");
	a.owner_kind = "";
	a.owner = "";
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), 0);
	assert_string_equal(p.meta.cronjob, "");

	a.ret = -ENOENT;
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), -ENOENT);
	assert_string_equal(p.meta.cronjob, "");
	assert_false(fallback);
}

static void test_no_owner_no_lookup(void **state)
{
	/* a StatefulSet's, a DaemonSet's or a bare pod: nothing to ask */
	struct k8s_pod p = pod_of("", "", "");
	struct api a = { 0 };
	bool fallback;

	(void)state;
	assert_int_equal(pod_owners_resolve(&p, lookup, &a, &fallback, NULL, 0), 0);
	assert_int_equal(a.calls, 0);
}

static void test_deployment_from_hash(void **state)
{
	char out[K8S_NAME_LEN];

	(void)state;
	assert_true(pod_owners_deployment_from_hash("web-5f7b8c9d4", "5f7b8c9d4", out));
	assert_string_equal(out, "web");
	assert_true(pod_owners_deployment_from_hash("my-web-app-5f7b", "5f7b", out));
	assert_string_equal(out, "my-web-app");
	assert_false(pod_owners_deployment_from_hash("web-5f7b8c9d4", "abc", out));
	assert_string_equal(out, "");
	assert_false(pod_owners_deployment_from_hash("web5f7b", "5f7b", out));
	assert_false(pod_owners_deployment_from_hash("-5f7b", "5f7b", out));
	assert_false(pod_owners_deployment_from_hash("web-5f7b", "", out));
	assert_false(pod_owners_deployment_from_hash("web-5f7b", NULL, out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replicaset_of_a_deployment),
		cmocka_unit_test(test_replicaset_without_deployment),
		cmocka_unit_test(test_failed_lookup_falls_back_to_the_hash),
		cmocka_unit_test(test_job_of_a_cronjob),
		cmocka_unit_test(test_no_owner_no_lookup),
		cmocka_unit_test(test_deployment_from_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
