/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes client configuration from the files and the environment: the
 * pod's service account (what rest.InClusterConfig reads) or a kubeconfig file,
 * parsed by kube_config.c. Nothing is run here.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/kube_config_load.h"
#include "k8s/pod_json.h"
#include "util/file.h"

/* A kubeconfig with a few embedded certificates is tens of kilobytes. */
#define KUBECONFIG_MAX (4 << 20)
/* A service-account JWT is about 1 KB; EKS tokens are a few. */
#define TOKEN_MAX (64 << 10)

static void strip_space(char *s)
{
	size_t n = strlen(s);

	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* kube_file_check_fn: a token file must hold a token now (it is read again for
 * every request), a certificate or key file must be readable. */
static int file_usable(void *arg, const char *path, enum kube_file what, char *why, size_t whylen)
{
	char *buf;
	size_t len;
	int ret;

	(void)arg;
	if (what != KUBE_FILE_TOKEN) {
		if (!access(path, R_OK))
			return 0;
		ret = -errno;
		snprintf(why, whylen, "%s", strerror(-ret));
		return ret;
	}
	ret = file_read_all(path, TOKEN_MAX, &buf, &len);
	if (ret) {
		snprintf(why, whylen, "%s", strerror(-ret));
		return ret;
	}
	strip_space(buf);
	if (!buf[0])
		ret = k8s_fail(why, whylen, "the file is empty");
	free(buf);
	return ret;
}

/* file_usable() with the message "FIELD PATH: why". */
static int check_file(const char *path, enum kube_file what, const char *field, char *err,
		      size_t errlen)
{
	char why[256];
	int ret = file_usable(NULL, path, what, why, sizeof(why));

	if (ret)
		k8s_fail(err, errlen, "%s %s: %s", field, path, why);
	return ret;
}

int kube_config_in_cluster(struct kube_config *c, const char *sa_dir, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[PATH_MAX];
	char *ns = NULL;
	size_t len;
	int ret;

	memset(c, 0, sizeof(*c));
	if (!sa_dir || !*sa_dir)
		sa_dir = KUBE_SA_DIR_DEFAULT;
	if (!host || !*host) {
		k8s_fail(err, errlen, "in-cluster: KUBERNETES_SERVICE_HOST is not set");
		return -ENOENT;
	}
	if (!port || !*port)
		return k8s_fail(err, errlen, "in-cluster: KUBERNETES_SERVICE_PORT is not set");
	if (strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 || atoi(port) > 65535)
		return k8s_fail(err, errlen, "in-cluster: KUBERNETES_SERVICE_PORT=%s is not a port",
				port);
	/* An IPv6 literal needs brackets in a URL (RFC 3986 3.2.2). */
	if (strchr(host, ':') && host[0] != '[')
		snprintf(c->server, sizeof(c->server), "https://[%s]:%s", host, port);
	else
		snprintf(c->server, sizeof(c->server), "https://%s:%s", host, port);
	snprintf(c->source, sizeof(c->source), "in-cluster (%s)", sa_dir);

	snprintf(c->token_file, sizeof(c->token_file), "%s/token", sa_dir);
	ret = check_file(c->token_file, KUBE_FILE_TOKEN, "in-cluster: token", err, errlen);
	if (ret)
		goto fail;
	snprintf(c->ca_file, sizeof(c->ca_file), "%s/ca.crt", sa_dir);
	ret = check_file(c->ca_file, KUBE_FILE_PEM, "in-cluster: ca.crt", err, errlen);
	if (ret)
		goto fail;

	snprintf(path, sizeof(path), "%s/namespace", sa_dir);
	if (!file_read_all(path, 1024, &ns, &len)) {
		strip_space(ns);
		snprintf(c->namespace_, sizeof(c->namespace_), "%.*s",
			 (int)sizeof(c->namespace_) - 1, ns);
		free(ns);
	}
	if (!c->namespace_[0])
		snprintf(c->namespace_, sizeof(c->namespace_), "default");
	return 0;
fail:
	kube_config_free(c);
	return ret;
}

int kube_config_load_kubeconfig(struct kube_config *c, const char *path, const char *context,
				char *err, size_t errlen)
{
	char *text;
	size_t len;
	int ret;

	memset(c, 0, sizeof(*c));
	ret = file_read_all(path, KUBECONFIG_MAX, &text, &len);
	if (ret) {
		k8s_fail(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = kube_config_parse(c, text, len, path, context, file_usable, NULL, err, errlen);
	free(text);
	return ret;
}

int kube_config_auto(struct kube_config *c, const char *explicit_kubeconfig, const char *sa_dir,
		     char *err, size_t errlen)
{
	const char *env = getenv("KUBECONFIG");
	const char *home = getenv("HOME");
	char tried[3][512] = { "KUBERNETES_SERVICE_HOST is not set", "KUBECONFIG is not set", "" };
	char path[PATH_MAX];
	int ret;

	if (explicit_kubeconfig && *explicit_kubeconfig)
		return kube_config_load_kubeconfig(c, explicit_kubeconfig, NULL, err, errlen);
	if (getenv("KUBERNETES_SERVICE_HOST")) {
		ret = kube_config_in_cluster(c, sa_dir, tried[0], sizeof(tried[0]));
		if (!ret)
			return 0;
	}
	if (env && *env) {
		/* Only the first file of the list: merging kubeconfigs is kubectl's
		 * business, an agent is given one. */
		size_t n = strcspn(env, ":");

		snprintf(path, sizeof(path), "%.*s", (int)n, env);
		return kube_config_load_kubeconfig(c, path, NULL, err, errlen);
	}
	if (home && *home) {
		snprintf(path, sizeof(path), "%s/.kube/config", home);
		ret = kube_config_load_kubeconfig(c, path, NULL, tried[2], sizeof(tried[2]));
		if (!ret)
			return 0;
		if (ret != -ENOENT) {
			snprintf(err, errlen, "%s", tried[2]);
			return ret;
		}
	} else {
		snprintf(tried[2], sizeof(tried[2]), "HOME is not set");
	}
	k8s_fail(err, errlen, "no kubernetes api configuration: %s; %s; %s", tried[0], tried[1],
		 tried[2]);
	return -ENOENT;
}
