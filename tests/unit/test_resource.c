/* SPDX-License-Identifier: MIT */
/* The resource of an instrumented process: which service.name wins, what is added. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/resource.h"

/* A /proc/PID/environ block: NUL-separated, the literal's own NUL ends the last entry. */
#define ENV(lit) lit, sizeof(lit) - 1

static const struct resource_attr *attr_of(const struct resource *r, const char *key)
{
	for (int i = 0; i < r->nattrs; i++)
		if (strcmp(r->attrs[i].key, key) == 0)
			return &r->attrs[i];
	return NULL;
}

static void test_service_name_from_environment(void **state)
{
	struct resource *r = resource_new(
		4321, "java", "node-1",
		ENV("PATH=/bin\0OTEL_SERVICE_NAME=checkout\0"
		    "OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod,service.name=ignored\0"),
		NULL, "1.2.3");

	(void)state;
	assert_non_null(r);
	assert_string_equal(r->service_name, "checkout");
	assert_string_equal(resource_attr(r, "service.name"), "checkout");
	assert_string_equal(resource_attr(r, "deployment.environment"), "prod");
	assert_string_equal(r->instance_id, "node-1:4321");
	assert_string_equal(resource_attr(r, "service.instance.id"), "node-1:4321");
	assert_string_equal(resource_attr(r, "process.executable.name"), "java");
	assert_string_equal(resource_attr(r, "host.name"), "node-1");
	assert_string_equal(resource_attr(r, "telemetry.sdk.name"), "sonde");
	assert_string_equal(resource_attr(r, "telemetry.sdk.version"), "1.2.3");
	assert_string_equal(attr_of(r, "process.pid")->value, "4321");
	assert_true(attr_of(r, "process.pid")->is_int);
	assert_false(attr_of(r, "service.name")->is_int);
	assert_null(resource_attr(r, "PATH"));
	resource_put(r);
}

static void test_service_name_from_resource_attributes(void **state)
{
	struct resource *r = resource_new(
		7, "python3", "h",
		ENV("OTEL_RESOURCE_ATTRIBUTES=service.name=inventory,service.version=2\0"), NULL,
		"v");

	(void)state;
	assert_string_equal(r->service_name, "inventory");
	assert_string_equal(resource_attr(r, "service.version"), "2");
	resource_put(r);
}

static void test_service_name_from_executable(void **state)
{
	struct resource *r;

	(void)state;
	r = resource_new(7, "nginx", "h", ENV("HOME=/root\0"), NULL, "v");
	assert_string_equal(r->service_name, "nginx");
	resource_put(r);

	/* an empty variable says nothing */
	r = resource_new(7, "nginx", "h", ENV("OTEL_SERVICE_NAME=\0"), NULL, "v");
	assert_string_equal(r->service_name, "nginx");
	resource_put(r);

	/* a process that is gone: no environment */
	r = resource_new(7, "nginx", "h", NULL, 0, NULL, "v");
	assert_string_equal(r->service_name, "nginx");
	resource_put(r);
}

static void test_variable_names_match_exactly(void **state)
{
	struct resource *r =
		resource_new(7, "app", "h",
			     ENV("MY_OTEL_SERVICE_NAME=a\0OTEL_SERVICE_NAMES=b\0"
				 "OTEL_SERVICE_NAME\0XOTEL_RESOURCE_ATTRIBUTES=service.name=c\0"),
			     NULL, "v");

	(void)state;
	assert_string_equal(r->service_name, "app");
	resource_put(r);
}

static void test_environment_cut_short(void **state)
{
	static const char env[] = "A=1\0OTEL_SERVICE_NAME=checkout";
	/* an exact-size copy without a final NUL, as a short read of environ
	 * leaves it: ASan sees any read past it */
	size_t len = sizeof(env) - 1 - 3;
	char *block = malloc(len);
	struct resource *r;

	(void)state;
	memcpy(block, env, len);
	r = resource_new(7, "app", "h", block, len, NULL, "v");
	assert_string_equal(r->service_name, "check");
	resource_put(r);
	free(block);
}

static void test_agent_attributes_do_not_override(void **state)
{
	struct config_kv_list agent = { 0 };
	struct resource *r;

	(void)state;
	snprintf(agent.items[0].key, CONFIG_KEY_LEN, "deployment.environment");
	snprintf(agent.items[0].value, CONFIG_VALUE_LEN, "staging");
	snprintf(agent.items[1].key, CONFIG_KEY_LEN, "k8s.cluster.name");
	snprintf(agent.items[1].value, CONFIG_VALUE_LEN, "east");
	snprintf(agent.items[2].key, CONFIG_KEY_LEN, "host.name");
	snprintf(agent.items[2].value, CONFIG_VALUE_LEN, "spoofed");
	agent.n = 3;

	r = resource_new(9, "app", "node-1",
			 ENV("OTEL_RESOURCE_ATTRIBUTES=deployment.environment=prod\0"), &agent,
			 "v");
	assert_string_equal(resource_attr(r, "deployment.environment"), "prod");
	assert_string_equal(resource_attr(r, "k8s.cluster.name"), "east");
	assert_string_equal(resource_attr(r, "host.name"), "node-1");
	assert_string_equal(r->service_name, "app");
	resource_put(r);

	r = resource_new(9, "app", "node-1", NULL, 0, &agent, "v");
	assert_string_equal(resource_attr(r, "deployment.environment"), "staging");
	resource_put(r);
}

static void test_process_facts_are_not_overridden(void **state)
{
	struct resource *r = resource_new(
		55, "app", "node-1",
		ENV("OTEL_RESOURCE_ATTRIBUTES=process.pid=1,host.name=x,telemetry.sdk.name=y\0"),
		NULL, "v");

	(void)state;
	assert_string_equal(resource_attr(r, "process.pid"), "55");
	assert_string_equal(resource_attr(r, "host.name"), "node-1");
	assert_string_equal(resource_attr(r, "telemetry.sdk.name"), "sonde");
	resource_put(r);
}

static void test_malformed_attributes_keep_what_parsed(void **state)
{
	struct resource *r = resource_new(
		5, "app", "h", ENV("OTEL_RESOURCE_ATTRIBUTES=team=a%2Cb,broken,later=1\0"), NULL,
		"v");

	(void)state;
	/* values are percent-decoded (W3C Baggage, as the SDKs read it) */
	assert_string_equal(resource_attr(r, "team"), "a,b");
	assert_null(resource_attr(r, "later"));
	assert_string_equal(r->service_name, "app");
	resource_put(r);
}

/* A process can list as many attributes as it likes: service.name and
 * service.instance.id must still be there (they were once crowded out). */
static void test_many_attributes_keep_identity(void **state)
{
	struct config_kv_list agent = { 0 };
	char env[2048];
	size_t n;
	struct resource *r;

	(void)state;
	n = (size_t)snprintf(env, sizeof(env), "OTEL_RESOURCE_ATTRIBUTES=");
	for (int i = 0; i < CONFIG_MAX_KV; i++)
		n += (size_t)snprintf(env + n, sizeof(env) - n, "%sk%d=v", i ? "," : "", i);
	env[n++] = '\0';
	for (int i = 0; i < CONFIG_MAX_KV; i++) {
		snprintf(agent.items[i].key, CONFIG_KEY_LEN, "agent.k%d", i);
		snprintf(agent.items[i].value, CONFIG_VALUE_LEN, "v");
	}
	agent.n = CONFIG_MAX_KV;

	/* the process's list alone fills the table */
	r = resource_new(77, "crowded", "node-1", env, n, NULL, "v");
	assert_non_null(r);
	assert_string_equal(r->service_name, "crowded");
	assert_string_equal(r->instance_id, "node-1:77");
	resource_put(r);

	r = resource_new(77, "crowded", "node-1", env, n, &agent, "v");
	assert_non_null(r);
	assert_true(r->nattrs <= RESOURCE_MAX_ATTRS);
	assert_string_equal(r->service_name, "crowded");
	assert_string_equal(r->instance_id, "node-1:77");
	assert_string_equal(resource_attr(r, "process.pid"), "77");
	assert_string_equal(resource_attr(r, "k0"), "v");
	resource_put(r);
}

static void test_attributes_are_valid_utf8(void **state)
{
	/* Latin-1 bytes from an environment and an executable name: OTLP needs UTF-8 */
	struct resource *r =
		resource_new(3, "caf\xe9", "h",
			     ENV("OTEL_RESOURCE_ATTRIBUTES=team=r%E9seau,k\xff=v\0"), NULL, "v");

	(void)state;
	assert_string_equal(r->service_name, "caf\xef\xbf\xbd");
	assert_string_equal(resource_attr(r, "process.executable.name"), "caf\xef\xbf\xbd");
	assert_string_equal(resource_attr(r, "team"), "r\xef\xbf\xbdseau");
	assert_string_equal(resource_attr(r, "k\xef\xbf\xbd"), "v");
	resource_put(r);
}

static void test_reference_counting(void **state)
{
	struct resource *r = resource_new(1, "app", "h", NULL, 0, NULL, "v");

	(void)state;
	resource_get(r);
	resource_get(r);
	assert_int_equal(atomic_load(&r->refs), 3);
	resource_put(r);
	resource_put(r);
	assert_int_equal(atomic_load(&r->refs), 1);
	assert_string_equal(r->service_name, "app");
	resource_put(r); /* the last one frees: ASan reports a leak otherwise */
	resource_put(NULL);
	resource_get(NULL);
}

#define CID  "0f6e5d4c3b2a19081726354453627180a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4"
#define PUID "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"

static struct k8s_pod_meta checkout_pod(void)
{
	struct k8s_pod_meta p = { .uid = PUID,
				  .namespace_ = "shop",
				  .name = "checkout-7d9f8b6c5-x2x9q",
				  .node = "ip-10-0-1-23.ec2.internal",
				  .replicaset = "checkout-7d9f8b6c5",
				  .deployment = "checkout",
				  .ncontainers = 2 };

	snprintf(p.containers[0].name, sizeof(p.containers[0].name), "istio-proxy");
	snprintf(p.containers[0].id, sizeof(p.containers[0].id), "%064x", 1);
	snprintf(p.containers[1].name, sizeof(p.containers[1].name), "app");
	snprintf(p.containers[1].id, sizeof(p.containers[1].id), "%s", CID);
	return p;
}

static struct resource *in_pod(const char *env, size_t len, const struct k8s_pod_meta *pod)
{
	struct container_ref c = { .id = CID, .pod_uid = PUID, .runtime = "containerd" };
	struct resource_k8s k = { .container = &c, .pod = pod, .node_name = "node-from-config" };

	return resource_new_k8s(42, "server", "ip-10-0-1-23", env, len, NULL, "v", &k);
}

static void test_pod_attributes(void **state)
{
	struct k8s_pod_meta pod = checkout_pod();
	struct resource *r = in_pod(NULL, 0, &pod);

	(void)state;
	assert_string_equal(resource_attr(r, "k8s.namespace.name"), "shop");
	assert_string_equal(resource_attr(r, "k8s.pod.name"), "checkout-7d9f8b6c5-x2x9q");
	assert_string_equal(resource_attr(r, "k8s.pod.uid"), PUID);
	assert_string_equal(resource_attr(r, "k8s.container.name"), "app");
	assert_string_equal(resource_attr(r, "k8s.node.name"), "ip-10-0-1-23.ec2.internal");
	assert_string_equal(resource_attr(r, "k8s.replicaset.name"), "checkout-7d9f8b6c5");
	assert_string_equal(resource_attr(r, "k8s.deployment.name"), "checkout");
	assert_null(resource_attr(r, "k8s.statefulset.name"));
	assert_string_equal(resource_attr(r, "container.id"), CID);
	assert_string_equal(r->service_name, "checkout"); /* the owner */
	assert_string_equal(resource_attr(r, "service.namespace"), "shop");
	assert_string_equal(r->instance_id, "shop.checkout-7d9f8b6c5-x2x9q.app");
	resource_put(r);
}

/* The order: OTEL_SERVICE_NAME, annotation, app.kubernetes.io/name,
 * owner, container name. */
static void test_pod_service_name_order(void **state)
{
	struct k8s_pod_meta pod = checkout_pod();
	struct resource *r;

	(void)state;
	snprintf(pod.app_name_label, sizeof(pod.app_name_label), "checkout-label");
	snprintf(pod.service_annotation, sizeof(pod.service_annotation), "checkout-annotated");
	r = in_pod(ENV("OTEL_SERVICE_NAME=checkout-env\0"), &pod);
	assert_string_equal(r->service_name, "checkout-env");
	resource_put(r);
	r = in_pod(NULL, 0, &pod);
	assert_string_equal(r->service_name, "checkout-annotated");
	resource_put(r);
	pod.service_annotation[0] = '\0';
	r = in_pod(NULL, 0, &pod);
	assert_string_equal(r->service_name, "checkout-label");
	resource_put(r);
	pod.app_name_label[0] = '\0';
	pod.deployment[0] = '\0';
	r = in_pod(NULL, 0, &pod); /* a bare ReplicaSet owns it */
	assert_string_equal(r->service_name, "checkout-7d9f8b6c5");
	resource_put(r);
	pod.replicaset[0] = '\0';
	r = in_pod(NULL, 0, &pod); /* a bare pod */
	assert_string_equal(r->service_name, "app");
	resource_put(r);
	snprintf(pod.statefulset, sizeof(pod.statefulset), "db");
	r = in_pod(NULL, 0, &pod);
	assert_string_equal(r->service_name, "db");
	assert_string_equal(resource_attr(r, "k8s.statefulset.name"), "db");
	resource_put(r);
}

static void test_pod_annotations_become_attributes(void **state)
{
	struct k8s_pod_meta pod = checkout_pod();
	struct config_kv_list agent = { .n = 1, .items = { { "deployment.environment", "prod" } } };
	struct container_ref c = { .id = CID, .pod_uid = PUID, .runtime = "containerd" };
	struct resource_k8s k = { .container = &c, .pod = &pod };
	struct resource *r;

	(void)state;
	pod.nextra = 2;
	snprintf(pod.extra[0].key, sizeof(pod.extra[0].key), "deployment.environment");
	snprintf(pod.extra[0].value, sizeof(pod.extra[0].value), "staging");
	snprintf(pod.extra[1].key, sizeof(pod.extra[1].key), "team");
	snprintf(pod.extra[1].value, sizeof(pod.extra[1].value), "payments");
	r = resource_new_k8s(42, "server", "h", NULL, 0, &agent, "v", &k);
	/* the pod's own word beats the agent-wide default */
	assert_string_equal(resource_attr(r, "deployment.environment"), "staging");
	assert_string_equal(resource_attr(r, "team"), "payments");
	resource_put(r);
}

static void test_pod_not_known_yet(void **state)
{
	struct resource *r = in_pod(ENV("OTEL_SERVICE_NAME=checkout\0"), NULL);

	(void)state;
	/* what the cgroup says, and the process's own name */
	assert_string_equal(resource_attr(r, "container.id"), CID);
	assert_string_equal(resource_attr(r, "k8s.pod.uid"), PUID);
	assert_string_equal(resource_attr(r, "k8s.node.name"), "node-from-config");
	assert_null(resource_attr(r, "k8s.pod.name"));
	assert_null(resource_attr(r, "service.namespace"));
	assert_string_equal(r->service_name, "checkout");
	/* what a rebuild needs is kept */
	assert_int_equal(r->kept_env_len, strlen("OTEL_SERVICE_NAME=checkout") + 1);
	assert_string_equal(r->kept_env, "OTEL_SERVICE_NAME=checkout");
	assert_string_equal(r->container.id, CID);
	resource_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_name_from_environment),
		cmocka_unit_test(test_service_name_from_resource_attributes),
		cmocka_unit_test(test_service_name_from_executable),
		cmocka_unit_test(test_variable_names_match_exactly),
		cmocka_unit_test(test_environment_cut_short),
		cmocka_unit_test(test_agent_attributes_do_not_override),
		cmocka_unit_test(test_process_facts_are_not_overridden),
		cmocka_unit_test(test_malformed_attributes_keep_what_parsed),
		cmocka_unit_test(test_many_attributes_keep_identity),
		cmocka_unit_test(test_attributes_are_valid_utf8),
		cmocka_unit_test(test_reference_counting),
		cmocka_unit_test(test_pod_attributes),
		cmocka_unit_test(test_pod_service_name_order),
		cmocka_unit_test(test_pod_annotations_become_attributes),
		cmocka_unit_test(test_pod_not_known_yet),
	};

	return cmocka_run_group_tests_name("resource", tests, NULL, NULL);
}
