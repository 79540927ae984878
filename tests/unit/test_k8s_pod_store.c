/* SPDX-License-Identifier: MIT */
/* The pod store: finds, tombstones, mark and sweep, eviction, the generation,
 * readers on other threads than the writer's (also built with TSan). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "k8s/pod_store.h"

struct clock {
	uint64_t ms;
};

static uint64_t fake_now(void *arg)
{
	return ((struct clock *)arg)->ms;
}

/* Pod number n: uid u<n>, name pod-<n> in ns, one container with id c<n>… */
static struct k8s_pod_meta pod(int n, const char *ns)
{
	struct k8s_pod_meta m;

	memset(&m, 0, sizeof(m));
	snprintf(m.uid, sizeof(m.uid), "u%d", n);
	snprintf(m.namespace_, sizeof(m.namespace_), "%s", ns);
	snprintf(m.name, sizeof(m.name), "pod-%d", n);
	snprintf(m.containers[0].name, sizeof(m.containers[0].name), "main");
	snprintf(m.containers[0].id, sizeof(m.containers[0].id), "%064d", n);
	snprintf(m.containers[1].name, sizeof(m.containers[1].name), "sidecar");
	snprintf(m.containers[1].id, sizeof(m.containers[1].id), "%064d", 100000 + n);
	m.ncontainers = 2;
	return m;
}

static const char *cid(int n)
{
	static char buf[4][K8S_CONTAINER_ID_LEN];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%064d", n);
	return buf[i];
}

static struct pod_store *new_store(struct clock *clk, unsigned max)
{
	struct pod_store_opts o = {
		.max_pods = max, .tombstone_ms = 60000, .now_ms = fake_now, .now_arg = clk
	};
	struct pod_store *s = pod_store_new(&o);

	assert_non_null(s);
	return s;
}

static void test_find(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct k8s_pod_meta a = pod(1, "shop"), b = pod(2, "pay"), out;
	bool deleted = true;

	(void)state;
	snprintf(a.deployment, sizeof(a.deployment), "checkout");
	assert_int_equal(pod_store_upsert(s, &a), 0);
	assert_int_equal(pod_store_upsert(s, &b), 0);

	assert_int_equal(pod_store_find_container(s, cid(100001), &out, &deleted), 0);
	assert_string_equal(out.name, "pod-1");
	assert_string_equal(out.deployment, "checkout");
	assert_false(deleted);
	assert_int_equal(pod_store_find_uid(s, "u2", &out, NULL), 0);
	assert_string_equal(out.namespace_, "pay");
	assert_int_equal(pod_store_find_name(s, "pay", "pod-2", &out, NULL), 0);
	assert_string_equal(out.uid, "u2");

	assert_int_equal(pod_store_find_name(s, "shop", "pod-2", &out, NULL), -ENOENT);
	assert_int_equal(pod_store_find_uid(s, "u3", &out, NULL), -ENOENT);
	assert_int_equal(pod_store_find_container(s, cid(3), &out, NULL), -ENOENT);
	/* a container not started yet has no id: "" must not match it */
	a.containers[1].id[0] = '\0';
	pod_store_upsert(s, &a);
	assert_int_equal(pod_store_find_container(s, "", &out, NULL), -ENOENT);
	assert_int_equal(pod_store_find_container(s, cid(100001), &out, NULL), -ENOENT);
	assert_int_equal(pod_store_upsert(s, &(struct k8s_pod_meta){ 0 }), -EINVAL);
	pod_store_free(s);
	pod_store_free(NULL);
}

static void test_update_replaces(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct k8s_pod_meta a = pod(1, "shop"), out;
	struct pod_store_stats st;

	(void)state;
	pod_store_upsert(s, &a);
	/* a container restarted: its id changed */
	snprintf(a.containers[0].id, sizeof(a.containers[0].id), "%064d", 777);
	pod_store_upsert(s, &a);
	assert_int_equal(pod_store_find_container(s, cid(777), &out, NULL), 0);
	assert_int_equal(pod_store_find_container(s, cid(1), &out, NULL), -ENOENT);
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 1);
	pod_store_free(s);
}

static void test_tombstone(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct k8s_pod_meta a = pod(1, "shop"), out;
	struct pod_store_stats st;
	bool deleted = false;

	(void)state;
	pod_store_upsert(s, &a);
	assert_int_equal(pod_store_delete(s, "u1"), 0);
	assert_int_equal(pod_store_delete(s, "nope"), -ENOENT);
	/* spans of a terminating pod arrive late: still found, marked deleted */
	clk.ms += 59999;
	assert_int_equal(pod_store_find_container(s, cid(1), &out, &deleted), 0);
	assert_true(deleted);
	assert_string_equal(out.name, "pod-1");
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 1);
	assert_int_equal(st.deleted, 1);
	/* then gone */
	clk.ms += 1;
	assert_int_equal(pod_store_find_container(s, cid(1), &out, &deleted), -ENOENT);
	assert_int_equal(pod_store_find_uid(s, "u1", &out, NULL), -ENOENT);
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 0);
	assert_int_equal(st.expired, 1);
	pod_store_free(s);
}

static void test_live_pod_wins_over_deleted_one(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct k8s_pod_meta old = pod(1, "shop"), now = pod(2, "shop"), out;
	bool deleted;

	(void)state;
	/* a StatefulSet pod is recreated under the same name, new uid */
	snprintf(now.name, sizeof(now.name), "pod-1");
	pod_store_upsert(s, &old);
	pod_store_delete(s, "u1");
	pod_store_upsert(s, &now);
	assert_int_equal(pod_store_find_name(s, "shop", "pod-1", &out, &deleted), 0);
	assert_string_equal(out.uid, "u2");
	assert_false(deleted);
	/* a deleted pod that comes back (an ADDED after a re-list) is live again */
	pod_store_upsert(s, &old);
	assert_int_equal(pod_store_find_uid(s, "u1", &out, &deleted), 0);
	assert_false(deleted);
	pod_store_free(s);
}

static void test_mark_and_sweep(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct k8s_pod_meta out;
	struct pod_store_stats st;
	bool deleted;

	(void)state;
	for (int i = 1; i <= 4; i++) {
		struct k8s_pod_meta m = pod(i, "ns");

		pod_store_upsert(s, &m);
	}
	pod_store_delete(s, "u4");
	/* the re-list returns 1 and 3 (2 went while the watch was down) and 5 */
	pod_store_mark(s);
	for (int i = 1; i <= 5; i += 2) {
		struct k8s_pod_meta m = pod(i, "ns");

		pod_store_upsert(s, &m);
	}
	assert_int_equal(pod_store_sweep(s), 1);
	assert_int_equal(pod_store_find_uid(s, "u2", &out, &deleted), 0);
	assert_true(deleted);
	assert_int_equal(pod_store_find_uid(s, "u1", &out, &deleted), 0);
	assert_false(deleted);
	assert_int_equal(pod_store_find_uid(s, "u5", &out, &deleted), 0);
	assert_false(deleted);
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 5);
	assert_int_equal(st.deleted, 2);
	/* the swept pod gets the same grace as a deleted one */
	clk.ms += 60000;
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 3);
	assert_int_equal(st.deleted, 0);
	/* a sweep without a mark removes nothing */
	assert_int_equal(pod_store_sweep(s), 0);
	pod_store_free(s);
}

static void test_eviction(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 4);
	struct k8s_pod_meta out;
	struct pod_store_stats st;

	(void)state;
	for (int i = 1; i <= 4; i++) {
		struct k8s_pod_meta m = pod(i, "ns");

		clk.ms++;
		pod_store_upsert(s, &m);
	}
	/* 1 is refreshed, 3 deleted: 3 goes first, then the least recently
	 * updated, 2 */
	clk.ms++;
	{
		struct k8s_pod_meta m = pod(1, "ns");

		pod_store_upsert(s, &m);
	}
	pod_store_delete(s, "u3");
	for (int i = 5; i <= 6; i++) {
		struct k8s_pod_meta m = pod(i, "ns");

		clk.ms++;
		pod_store_upsert(s, &m);
	}
	assert_int_equal(pod_store_find_uid(s, "u3", &out, NULL), -ENOENT);
	assert_int_equal(pod_store_find_uid(s, "u2", &out, NULL), -ENOENT);
	assert_int_equal(pod_store_find_uid(s, "u1", &out, NULL), 0);
	assert_int_equal(pod_store_find_uid(s, "u4", &out, NULL), 0);
	assert_int_equal(pod_store_find_uid(s, "u6", &out, NULL), 0);
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 4);
	assert_int_equal(st.evicted, 2);

	/* a thousand more: still four, all counted */
	for (int i = 100; i < 1100; i++) {
		struct k8s_pod_meta m = pod(i, "ns");

		clk.ms++;
		pod_store_upsert(s, &m);
	}
	pod_store_stats(s, &st);
	assert_int_equal(st.pods, 4);
	assert_int_equal(st.evicted, 1002);
	assert_int_equal(pod_store_find_uid(s, "u1099", &out, NULL), 0);
	pod_store_free(s);
}

static void test_generation(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct k8s_pod_meta a = pod(1, "ns"), out;
	uint64_t g0 = pod_store_generation(s), g;

	(void)state;
	pod_store_upsert(s, &a);
	g = pod_store_generation(s);
	assert_true(g != g0);
	/* the same pod again (a resync, a MODIFIED of fields we do not keep):
	 * nothing new for readers */
	pod_store_upsert(s, &a);
	assert_true(pod_store_generation(s) == g);
	pod_store_find_uid(s, "u1", &out, NULL);
	assert_true(pod_store_generation(s) == g);
	snprintf(a.deployment, sizeof(a.deployment), "web");
	pod_store_upsert(s, &a);
	assert_true(pod_store_generation(s) != g);
	g = pod_store_generation(s);
	pod_store_delete(s, "u1");
	assert_true(pod_store_generation(s) != g);
	g = pod_store_generation(s);
	clk.ms += 60000; /* expiry is a change too */
	pod_store_find_uid(s, "u1", &out, NULL);
	assert_true(pod_store_generation(s) != g);
	pod_store_free(s);
}

static void test_snapshot(void **state)
{
	struct clock clk = { 1000 };
	struct pod_store *s = new_store(&clk, 16);
	struct pod_store_entry e[8];

	(void)state;
	for (int i = 1; i <= 3; i++) {
		struct k8s_pod_meta m = pod(i, "ns");

		pod_store_upsert(s, &m);
	}
	pod_store_delete(s, "u1");
	assert_int_equal(pod_store_snapshot(s, e, 8), 3);
	assert_false(e[0].deleted);
	assert_false(e[1].deleted);
	assert_true(e[2].deleted);
	assert_string_equal(e[2].meta.uid, "u1");
	assert_int_equal(pod_store_snapshot(s, e, 2), 2);
	pod_store_free(s);
}

#define READERS 3

struct race {
	struct pod_store *s;
	int errors;
};

/* Whether a copied pod is one whole pod, never half of two: its uid, name and
 * container ids all say the same number. */
static bool whole(const struct k8s_pod_meta *m)
{
	int n;
	char want[K8S_CONTAINER_ID_LEN];

	if (sscanf(m->uid, "u%d", &n) != 1)
		return false;
	snprintf(want, sizeof(want), "pod-%d", n);
	if (strcmp(m->name, want))
		return false;
	snprintf(want, sizeof(want), "%064d", n);
	return m->ncontainers == 2 && !strcmp(m->containers[0].id, want);
}

/* A reader as the event loop is one: every find, the generation, the stats
 * and a dump, while the writer changes the store under it. */
static void *reader(void *arg)
{
	struct race *r = arg;
	struct k8s_pod_meta out;
	struct pod_store_entry dump[8];
	struct pod_store_stats st;
	char id[K8S_CONTAINER_ID_LEN], uid[16], name[16];
	int errors = 0;

	for (int i = 0; i < 5000; i++) {
		int n = i % 50;
		size_t got;

		snprintf(id, sizeof(id), "%064d", n);
		snprintf(uid, sizeof(uid), "u%d", n);
		snprintf(name, sizeof(name), "pod-%d", n);
		(void)pod_store_generation(r->s);
		if (!pod_store_find_container(r->s, id, &out, NULL))
			errors += !whole(&out) || strcmp(out.uid, uid);
		if (!pod_store_find_uid(r->s, uid, &out, NULL))
			errors += !whole(&out) || strcmp(out.name, name);
		if (!pod_store_find_name(r->s, "ns", name, &out, NULL))
			errors += !whole(&out) || strcmp(out.uid, uid);
		pod_store_stats(r->s, &st);
		errors += st.pods > 32;
		got = pod_store_snapshot(r->s, dump, 8);
		for (size_t k = 0; k < got; k++)
			errors += !whole(&dump[k].meta);
	}
	__atomic_add_fetch(&r->errors, errors, __ATOMIC_RELAXED);
	return NULL;
}

/* Readers on three threads and one writer (the pod watcher: upserts, deletes,
 * re-lists by mark and sweep, evictions in a store of 32 for 50 pods). */
static void test_concurrent_readers_and_writer(void **state)
{
	struct pod_store *s = pod_store_new(&(struct pod_store_opts){ .max_pods = 32 });
	struct race r = { .s = s };
	pthread_t t[READERS];

	(void)state;
	for (int k = 0; k < READERS; k++)
		assert_int_equal(pthread_create(&t[k], NULL, reader, &r), 0);
	for (int i = 0; i < 20000; i++) {
		struct k8s_pod_meta m = pod(i % 50, "ns");

		if (i % 500 == 0)
			pod_store_mark(s);
		pod_store_upsert(s, &m);
		if (i % 7 == 0)
			pod_store_delete(s, m.uid);
		if (i % 500 == 499)
			pod_store_sweep(s);
	}
	for (int k = 0; k < READERS; k++)
		pthread_join(t[k], NULL);
	assert_int_equal(r.errors, 0);
	pod_store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_update_replaces),
		cmocka_unit_test(test_tombstone),
		cmocka_unit_test(test_live_pod_wins_over_deleted_one),
		cmocka_unit_test(test_mark_and_sweep),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_concurrent_readers_and_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
