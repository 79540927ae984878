/* SPDX-License-Identifier: MIT */
/*
 * Where the Kubernetes API server is and how to authenticate to it: from the
 * pod's service account (in-cluster) or a kubeconfig file. Reads the files it is
 * given and the KUBERNETES_SERVICE_* / KUBECONFIG / HOME variables; runs nothing
 * (exec credential plugins are run by kube_client.c, which only finds their
 * settings here).
 *
 * Errors are one line, lowercase, naming the file and the field.
 */
#ifndef SONDE_K8S_KUBE_CONFIG_H
#define SONDE_K8S_KUBE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "k8s/pod_meta.h"

#define KUBE_SA_DIR_DEFAULT "/var/run/secrets/kubernetes.io/serviceaccount"
#define KUBE_URL_LEN	    512
#define KUBE_EXEC_MAX_ARGS  32
#define KUBE_EXEC_MAX_ENV   32
#define KUBE_EXEC_V1	    "client.authentication.k8s.io/v1"
#define KUBE_EXEC_V1BETA1   "client.authentication.k8s.io/v1beta1"

/* An exec credential plugin (kubeconfig users[].user.exec). */
struct kube_exec {
	char *command; /* a bare name is looked up in PATH */
	char *args[KUBE_EXEC_MAX_ARGS];
	int nargs;
	char *env[KUBE_EXEC_MAX_ENV]; /* "NAME=value", added to the agent's environment */
	int nenv;
	char api_version[64];
};

struct kube_config {
	char server[KUBE_URL_LEN]; /* https://host:port[/prefix], no trailing slash */
	/* Bearer token: the file wins over the literal and is read again for every
	 * request, as projected service-account tokens rotate. */
	char *token;
	char token_file[PATH_MAX];
	/* Server CA: PEM data wins over the file; neither = the system store. */
	char ca_file[PATH_MAX];
	char *ca_data;
	size_t ca_data_len;
	/* Client certificate and key (PEM), data or file. */
	char cert_file[PATH_MAX];
	char *cert_data;
	size_t cert_data_len;
	char key_file[PATH_MAX];
	char *key_data;
	size_t key_data_len;
	bool insecure; /* insecure-skip-tls-verify */
	bool has_exec;
	struct kube_exec exec;
	char namespace_[K8S_LABEL_LEN]; /* default namespace; "default" when unset */
	char source[PATH_MAX + 64]; /* "in-cluster (DIR)" or "FILE context NAME", for messages */
};

/* What an exec plugin printed (ExecCredential status). */
struct kube_exec_cred {
	char *token;
	char *cert_data; /* clientCertificateData / clientKeyData, PEM */
	char *key_data;
	bool has_expiry;
	time_t expiry; /* status.expirationTimestamp */
};

/* Frees what the config points to and zeroes it. NULL-safe. */
void kube_config_free(struct kube_config *c);
void kube_exec_cred_free(struct kube_exec_cred *cred);

/* Deep copy; dst is overwritten (not freed first). */
int kube_config_copy(struct kube_config *dst, const struct kube_config *src);

/*
 * In-cluster: KUBERNETES_SERVICE_HOST/PORT (an IPv6 host gets brackets),
 * SA_DIR/token (read on every request), SA_DIR/ca.crt, SA_DIR/namespace.
 * sa_dir NULL = KUBE_SA_DIR_DEFAULT. -ENOENT when KUBERNETES_SERVICE_HOST is unset.
 */
int kube_config_in_cluster(struct kube_config *c, const char *sa_dir, char *err, size_t errlen);

/* A kubeconfig file; context NULL = its current-context. Relative paths in it are
 * relative to the file's directory. */
int kube_config_load_kubeconfig(struct kube_config *c, const char *path, const char *context,
				char *err, size_t errlen);

/*
 * The first that applies: explicit_kubeconfig (its failure is final), in-cluster
 * when KUBERNETES_SERVICE_HOST is set, the first file of $KUBECONFIG,
 * ~/.kube/config. When none works, err names what was tried.
 */
int kube_config_auto(struct kube_config *c, const char *explicit_kubeconfig, const char *sa_dir,
		     char *err, size_t errlen);

/* ExecCredential JSON from a plugin's stdout. want_api_version: what the
 * kubeconfig asked for (the plugin must answer in kind). */
int kube_exec_cred_parse(const char *json, size_t len, const char *want_api_version,
			 struct kube_exec_cred *out, char *err, size_t errlen);

/* RFC 3339 (2024-05-01T12:00:00Z, fractions and offsets allowed) → time_t. */
int kube_parse_time(const char *s, time_t *out);

#endif /* SONDE_K8S_KUBE_CONFIG_H */
