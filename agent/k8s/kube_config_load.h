/* SPDX-License-Identifier: MIT */
/*
 * A kube_config from where Kubernetes puts one: the pod's service account
 * (in-cluster) or a kubeconfig file. Reads the files it is given and the
 * KUBERNETES_SERVICE_* / KUBECONFIG / HOME variables; checks now that the
 * token, CA and client certificate files named can be used. Runs nothing.
 */
#ifndef SONDE_K8S_KUBE_CONFIG_LOAD_H
#define SONDE_K8S_KUBE_CONFIG_LOAD_H

#include <stddef.h>

#include "k8s/kube_config.h"

#define KUBE_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * In-cluster: KUBERNETES_SERVICE_HOST/PORT (an IPv6 host gets brackets),
 * SA_DIR/token (read on every request), SA_DIR/ca.crt, SA_DIR/namespace.
 * sa_dir NULL = KUBE_SA_DIR_DEFAULT. -ENOENT when KUBERNETES_SERVICE_HOST is unset.
 */
int kube_config_in_cluster(struct kube_config *c, const char *sa_dir, char *err, size_t errlen);

/* A kubeconfig file (kube_config_parse()); context NULL = its current-context. */
int kube_config_load_kubeconfig(struct kube_config *c, const char *path, const char *context,
				char *err, size_t errlen);

/*
 * The first that applies: explicit_kubeconfig (its failure is final), in-cluster
 * when KUBERNETES_SERVICE_HOST is set, the first file of $KUBECONFIG,
 * ~/.kube/config. When none works, err names what was tried.
 */
int kube_config_auto(struct kube_config *c, const char *explicit_kubeconfig, const char *sa_dir,
		     char *err, size_t errlen);

#endif /* SONDE_K8S_KUBE_CONFIG_LOAD_H */
