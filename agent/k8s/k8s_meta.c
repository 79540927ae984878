/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/k8s_meta.h"
#include "k8s/kube_config_load.h"
#include "k8s/pod_store.h"
#include "k8s/pod_watch.h"
#include "util/log.h"

struct k8s_meta {
	struct pod_store *store;
	struct k8s_lookup lookup;
	char node[K8S_NAME_LEN];
};

static bool find_pod(void *ctx, const struct container_ref *c, struct k8s_pod_meta *out)
{
	struct k8s_meta *m = ctx;

	/* The container id is exact; the pod uid alone still names the pod
	 * while the kubelet has not reported the container's id yet. */
	if (c->id[0] && !pod_store_find_container(m->store, c->id, out, NULL))
		return true;
	return c->pod_uid[0] && !pod_store_find_uid(m->store, c->pod_uid, out, NULL);
}

static uint64_t store_generation(void *ctx)
{
	struct k8s_meta *m = ctx;

	return pod_store_generation(m->store);
}

static int load_credentials(const struct sonde_config *cfg, struct kube_config *kc, char *why,
			    size_t len)
{
	if (cfg->k8s_kubeconfig[0])
		return kube_config_load_kubeconfig(kc, cfg->k8s_kubeconfig, NULL, why, len);
	return kube_config_in_cluster(kc, cfg->k8s_service_account_dir, why, len);
}

int k8s_meta_start(const struct sonde_config *cfg, struct k8s_meta **out)
{
	struct kube_config kc = { 0 };
	struct pod_store_opts so = { .max_pods = cfg->k8s_max_pods };
	struct k8s_meta *m;
	char why[512];
	int err;

	*out = NULL;
	if (cfg->k8s_mode == K8S_OFF)
		return 0;
	if (cfg->k8s_mode == K8S_AUTO && !getenv("KUBERNETES_SERVICE_HOST") &&
	    !cfg->k8s_kubeconfig[0])
		return 0;
	err = load_credentials(cfg, &kc, why, sizeof(why));
	if (err) {
		kube_config_free(&kc);
		if (cfg->k8s_mode == K8S_ON) {
			log_error("kubernetes: %s", why);
			return err;
		}
		log_warn("kubernetes: %s; running without pod metadata (k8s.enabled=false "
			 "silences this)",
			 why);
		return 0;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		kube_config_free(&kc);
		return -ENOMEM;
	}
	if (cfg->k8s_node_name[0])
		snprintf(m->node, sizeof(m->node), "%s", cfg->k8s_node_name);
	else if (gethostname(m->node, sizeof(m->node) - 1))
		snprintf(m->node, sizeof(m->node), "localhost");
	m->store = pod_store_new(&so);
	if (!m->store) {
		err = -errno;
		goto fail;
	}
	err = pod_watch_start(&kc, m->node, m->store);
	if (err) {
		log_error("kubernetes: cannot start the pod watcher: %s", strerror(-err));
		goto fail;
	}
	log_info("kubernetes: watching the pods of node %s through %s", m->node, kc.server);
	kube_config_free(&kc);
	m->lookup = (struct k8s_lookup){
		.find = find_pod, .generation = store_generation, .ctx = m, .node_name = m->node
	};
	*out = m;
	return 0;
fail:
	kube_config_free(&kc);
	pod_store_free(m->store);
	free(m);
	return err;
}

void k8s_meta_stop(struct k8s_meta *m)
{
	if (!m)
		return;
	pod_watch_stop();
	pod_store_free(m->store);
	free(m);
}

const struct k8s_lookup *k8s_meta_lookup(struct k8s_meta *m)
{
	return m ? &m->lookup : NULL;
}

const char *k8s_meta_node(const struct k8s_meta *m)
{
	return m->node;
}

void k8s_meta_health(struct k8s_meta *m, struct k8s_meta_health *out)
{
	struct pod_store_stats ss;
	struct pod_watch_stats ws;

	memset(out, 0, sizeof(*out));
	if (!m)
		return;
	pod_store_stats(m->store, &ss);
	pod_watch_stats(&ws);
	*out = (struct k8s_meta_health){ .pods = ss.pods,
					 .evicted = ss.evicted,
					 .relists = ws.relists_410,
					 .watch_drops = ws.watch_drops,
					 .errors = ws.errors,
					 .synced = pod_watch_synced() };
}
