/* SPDX-License-Identifier: MIT */
/* /proc/PID/cgroup → container id and pod uid, for every layout we claim. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cgroup_path.h"

#define ID  "0f6e5d4c3b2a19081726354453627180a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4"
#define UID "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
#define USC "1a2b3c4d_5e6f_4a8b_9c0d_1e2f3a4b5c6d"

static void expect(const char *text, const char *id, const char *uid, const char *runtime)
{
	struct container_ref r;
	bool found = cgroup_container_parse(text, strlen(text), &r);

	if (strcmp(r.id, id) || strcmp(r.pod_uid, uid) || strcmp(r.runtime, runtime))
		fail_msg("%s\n got id=%s uid=%s runtime=%s\nwant id=%s uid=%s runtime=%s", text,
			 r.id, r.pod_uid, r.runtime, id, uid, runtime);
	assert_int_equal(found, id[0] || uid[0]);
}

static void test_cgroup_v2_systemd_driver(void **state)
{
	(void)state;
	/* EKS AL2023 / containerd */
	expect("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" USC
	       ".slice/cri-containerd-" ID ".scope\n",
	       ID, UID, "containerd");
	/* Guaranteed QoS: no QoS slice */
	expect("0::/kubepods.slice/kubepods-pod" USC ".slice/cri-containerd-" ID ".scope\n", ID,
	       UID, "containerd");
	expect("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" USC
	       ".slice/crio-" ID ".scope",
	       ID, UID, "cri-o");
	expect("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" USC
	       ".slice/crio-conmon-" ID ".scope",
	       ID, UID, "cri-o");
	expect("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" USC
	       ".slice/docker-" ID ".scope",
	       ID, UID, "docker");
}

static void test_cgroup_v2_cgroupfs_driver(void **state)
{
	(void)state;
	expect("0::/kubepods/burstable/pod" UID "/" ID "\n", ID, UID, "");
	expect("0::/kubepods/pod" UID "/" ID "\n", ID, UID, "");
	expect("0::/kubepods/besteffort/pod" UID "/crio-" ID "\n", ID, UID, "cri-o");
}

static void test_cgroup_namespace_relative_paths(void **state)
{
	(void)state;
	/* What a DaemonSet with its own cgroup namespace reads for a host pid. */
	expect("0::/../../kubepods-besteffort-pod" USC ".slice/cri-containerd-" ID ".scope\n", ID,
	       UID, "containerd");
}

static void test_cgroup_v1(void **state)
{
	(void)state;
	expect("12:pids:/kubepods/burstable/pod" UID "/" ID "\n"
	       "11:memory:/kubepods/burstable/pod" UID "/" ID "\n"
	       "1:name=systemd:/kubepods/burstable/pod" UID "/" ID "\n",
	       ID, UID, "");
	/* hybrid: the v2 line says little, a v1 line says it all */
	expect("12:cpu,cpuacct:/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" USC
	       ".slice/cri-containerd-" ID ".scope\n"
	       "0::/\n",
	       ID, UID, "containerd");
}

static void test_outside_kubernetes(void **state)
{
	(void)state;
	expect("0::/docker/" ID "\n", ID, "", "docker");
	expect("0::/system.slice/docker-" ID ".scope\n", ID, "", "docker");
	expect("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope\n",
	       ID, "", "podman");
	expect("0::/user.slice/user-0.slice/session-3.scope\n", "", "", "");
	expect("0::/system.slice/nginx.service\n", "", "", "");
	expect("0::/\n", "", "", "");
	expect("", "", "", "");
}

static void test_pod_without_container_yet(void **state)
{
	(void)state;
	/* The pause (sandbox) process sits in the pod cgroup on some setups. */
	expect("0::/kubepods/burstable/pod" UID "\n", "", UID, "");
	/* static pods: the uid is a 32-digit hash */
	expect("0::/kubepods/burstable/pod0123456789abcdef0123456789ABCDEF/" ID "\n", ID,
	       "0123456789abcdef0123456789abcdef", "");
}

static void test_near_misses_are_not_ids(void **state)
{
	(void)state;
	/* 63 and 65 hex digits, a non-hex digit, a uid with a bad separator */
	expect("0::/kubepods/burstable/pod" UID "/" ID "0\n", "", UID, "");
	expect("0::/kubepods/burstable/pod" UID "/cri-containerd-" ID "z.scope\n", "", UID, "");
	expect("0::/kubepods/burstable/pod1a2b3c4d-5e6f+4a8b-9c0d-1e2f3a4b5c6d/x\n", "", "", "");
	expect("0::/kubepods/burstable/podcast/x\n", "", "", "");
	expect("garbage without colons\n::\n:::\n0::", "", "", "");
}

static void test_random_input_stays_in_bounds(void **state)
{
	char buf[512];
	struct container_ref r;

	(void)state;
	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(buf));
		static const char alphabet[] = "0::/-_.podkubesliceabcdef0123456789\n";

		for (size_t i = 0; i < n; i++)
			buf[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		cgroup_container_parse(buf, n, &r);
		assert_true(strlen(r.id) == 0 || strlen(r.id) == 64);
		assert_true(strlen(r.pod_uid) == 0 || strlen(r.pod_uid) == 32 ||
			    strlen(r.pod_uid) == 36);
	}
}

static void test_directory_names(void **state)
{
	char uid[K8S_UID_LEN], id[K8S_CONTAINER_ID_LEN];
	const char *rt;

	(void)state;
	assert_true(cgroup_name_pod_uid("kubepods-burstable-pod" USC ".slice",
					strlen("kubepods-burstable-pod" USC ".slice"), uid));
	assert_string_equal(uid, UID);
	assert_true(cgroup_name_pod_uid("pod" UID, strlen("pod" UID), uid));
	assert_false(cgroup_name_pod_uid("kubepods-burstable.slice",
					 strlen("kubepods-burstable.slice"), uid));
	assert_true(cgroup_name_container_id("cri-containerd-" ID ".scope",
					     strlen("cri-containerd-" ID ".scope"), id, &rt));
	assert_string_equal(id, ID);
	assert_string_equal(rt, "containerd");
	assert_false(cgroup_name_container_id("kubepods.slice", strlen("kubepods.slice"), id, &rt));
}

static void expect_v2(const char *text, const char *want)
{
	const char *path = NULL;
	size_t len = 0;
	bool found = cgroup_v2_path(text, strlen(text), &path, &len);

	if (!want) {
		assert_false(found);
		return;
	}
	assert_true(found);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(path, want, len);
}

static void test_v2_path(void **state)
{
	(void)state;
	expect_v2("0::/system.slice/nginx.service\n", "/system.slice/nginx.service");
	/* no newline at the end, and the root cgroup */
	expect_v2("0::/", "/");
	/* hybrid: v1 hierarchies first, the unified one last */
	expect_v2("12:memory:/kubepods/pod" UID "/" ID "\n"
		  "1:name=systemd:/kubepods/pod" UID "/" ID "\n"
		  "0::/kubepods/pod" UID "/" ID "\n",
		  "/kubepods/pod" UID "/" ID);
	/* inside a cgroup namespace */
	expect_v2("0::/../../kubepods.slice/x.scope\n", "/../../kubepods.slice/x.scope");
	/* cgroup v1 only, or lines that only look alike */
	expect_v2("4:memory:/docker/" ID "\n3:cpu,cpuacct:/docker/" ID "\n", NULL);
	expect_v2("10::/not-the-unified-one\n", NULL);
	expect_v2("0:", NULL);
	expect_v2("", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_v2_systemd_driver),
		cmocka_unit_test(test_cgroup_v2_cgroupfs_driver),
		cmocka_unit_test(test_cgroup_namespace_relative_paths),
		cmocka_unit_test(test_cgroup_v1),
		cmocka_unit_test(test_outside_kubernetes),
		cmocka_unit_test(test_pod_without_container_yet),
		cmocka_unit_test(test_near_misses_are_not_ids),
		cmocka_unit_test(test_random_input_stays_in_bounds),
		cmocka_unit_test(test_directory_names),
		cmocka_unit_test(test_v2_path),
	};

	return cmocka_run_group_tests_name("cgroup_path", tests, NULL, NULL);
}
