/* SPDX-License-Identifier: MIT */
/*
 * Where the Kubernetes API server is and how to authenticate to it, and the
 * pure half of getting there: a kubeconfig's text into a kube_config, an exec
 * plugin's output into a credential. Finding and reading the files (in-cluster,
 * $KUBECONFIG, ~/.kube/config) is kube_config_load.h's; running exec plugins is
 * kube_credentials.c's.
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

#define KUBE_URL_LEN	   512
#define KUBE_EXEC_MAX_ARGS 32
#define KUBE_EXEC_MAX_ENV  32
#define KUBE_EXEC_V1	   "client.authentication.k8s.io/v1"
#define KUBE_EXEC_V1BETA1  "client.authentication.k8s.io/v1beta1"

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

/* The files a kubeconfig names, as a kube_file_check_fn is asked about them. */
enum kube_file {
	KUBE_FILE_TOKEN, /* users[].user.tokenFile: must hold a token now */
	KUBE_FILE_PEM,	 /* a CA, client certificate or key: must be readable */
};

/* Can path be used as what? 0, or -errno with the reason ("No such file or
 * directory", "the file is empty") in why. */
typedef int (*kube_file_check_fn)(void *arg, const char *path, enum kube_file what, char *why,
				  size_t whylen);

/*
 * A kubeconfig's text (len bytes); path is where it came from, for messages and
 * for the paths in it, which are relative to its directory. context NULL = its
 * current-context. Every file it names is put to check (NULL = none is
 * checked): a certificate or key that fails is that -errno, a token file -EINVAL,
 * with err naming the field and the file; -EINVAL for anything else wrong.
 */
int kube_config_parse(struct kube_config *c, const char *text, size_t len, const char *path,
		      const char *context, kube_file_check_fn check, void *check_arg, char *err,
		      size_t errlen);

/* ExecCredential JSON from a plugin's stdout. want_api_version: what the
 * kubeconfig asked for (the plugin must answer in kind). */
int kube_exec_cred_parse(const char *json, size_t len, const char *want_api_version,
			 struct kube_exec_cred *out, char *err, size_t errlen);

/* RFC 3339 (2024-05-01T12:00:00Z, fractions and offsets allowed) → time_t. */
int kube_parse_time(const char *s, time_t *out);

#endif /* SONDE_K8S_KUBE_CONFIG_H */
