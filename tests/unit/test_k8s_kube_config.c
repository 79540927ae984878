/* SPDX-License-Identifier: MIT */
/* Kubeconfig and in-cluster settings, from temporary files; ExecCredential output. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "k8s/kube_config_load.h"

static char dir[256];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sonde-kubecfg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("KUBECONFIG");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Writes dir/name; returns its path (static buffer rotation). */
static const char *put(const char *name, const char *text)
{
	static char paths[8][512];
	static int i;
	char *p = paths[i = (i + 1) % 8];
	FILE *f;

	snprintf(p, sizeof(paths[0]), "%s/%s", dir, name);
	if (strchr(name, '/')) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s", p);
		*strrchr(sub, '/') = '\0';
		mkdir(sub, 0755);
	}
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

#define PEM_CA "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
/* base64 of PEM_CA */
#define PEM_CA_B64                                                                     \
	"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJmYWtlCi0tLS0tRU5EIENFUlRJRklDQVRF" \
	"LS0tLS0K"

static void test_token_and_ca_data(void **state)
{
	struct kube_config c;
	char err[512] = "";
	const char *path =
		put("config", "apiVersion: v1\n"
			      "kind: Config\n"
			      "current-context: prod\n"
			      "clusters:\n"
			      "- name: prod-cluster\n"
			      "  cluster:\n"
			      "    server: https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com/\n"
			      "    certificate-authority-data: " PEM_CA_B64 "\n"
			      "contexts:\n"
			      "- name: prod\n"
			      "  context:\n"
			      "    cluster: prod-cluster\n"
			      "    user: admin\n"
			      "    namespace: shop\n"
			      "users:\n"
			      "- name: admin\n"
			      "  user:\n"
			      "    token: abc.def.ghi\n");

	(void)state;
	assert_int_equal(kube_config_load_kubeconfig(&c, path, NULL, err, sizeof(err)), 0);
	/* the trailing slash goes: paths are appended to it */
	assert_string_equal(c.server, "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com");
	assert_string_equal(c.token, "abc.def.ghi");
	assert_int_equal(c.ca_data_len, strlen(PEM_CA));
	assert_memory_equal(c.ca_data, PEM_CA, strlen(PEM_CA));
	assert_string_equal(c.ca_file, "");
	assert_string_equal(c.namespace_, "shop");
	assert_false(c.insecure);
	assert_false(c.has_exec);
	assert_non_null(strstr(c.source, "context prod"));
	kube_config_free(&c);
	kube_config_free(NULL);
}

static const char *two_contexts(void)
{
	return put("kube/config", "current-context: a\n"
				  "clusters:\n"
				  "- name: ca\n"
				  "  cluster:\n"
				  "    server: https://10.0.0.1:6443\n"
				  "    certificate-authority: pki/ca.crt\n"
				  "- name: cb\n"
				  "  cluster:\n"
				  "    server: http://127.0.0.1:8001\n"
				  "    insecure-skip-tls-verify: true\n"
				  "contexts:\n"
				  "- name: a\n"
				  "  context: {cluster: ca, user: ua}\n"
				  "- name: b\n"
				  "  context: {cluster: cb, user: ub}\n"
				  "- name: broken\n"
				  "  context: {cluster: nowhere, user: ua}\n"
				  "users:\n"
				  "- name: ua\n"
				  "  user:\n"
				  "    tokenFile: secrets/token\n"
				  "- name: ub\n"
				  "  user:\n"
				  "    client-certificate: /etc/nonexistent/client.crt\n"
				  "    client-key: /etc/nonexistent/client.key\n");
}

static void test_relative_paths_and_contexts(void **state)
{
	struct kube_config c;
	char err[512] = "", want[512];
	const char *path = two_contexts();

	(void)state;
	/* the CA file is not there yet: the error names the file and the field */
	put("kube/secrets/token", "tok-from-file\n");
	assert_int_equal(kube_config_load_kubeconfig(&c, path, NULL, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "%s: clusters[ca].cluster.certificate-authority %s/kube/pki/ca.crt: No such file "
		 "or directory",
		 path, dir);
	assert_string_equal(err, want);

	put("kube/pki/ca.crt", PEM_CA);
	assert_int_equal(kube_config_load_kubeconfig(&c, path, NULL, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/kube/pki/ca.crt", dir);
	assert_string_equal(c.ca_file, want);
	snprintf(want, sizeof(want), "%s/kube/secrets/token", dir);
	assert_string_equal(c.token_file, want);
	assert_null(c.token);
	assert_string_equal(c.namespace_, "default");
	kube_config_free(&c);

	/* another context than the current one */
	assert_int_equal(kube_config_load_kubeconfig(&c, path, "b", err, sizeof(err)), -ENOENT);
	assert_non_null(
		strstr(err, "users[ub].user.client-certificate /etc/nonexistent/client.crt"));

	assert_int_equal(kube_config_load_kubeconfig(&c, path, "nope", err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: context 'nope' not found in contexts", path);
	assert_string_equal(err, want);
	assert_int_equal(kube_config_load_kubeconfig(&c, path, "broken", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cluster 'nowhere' (of context 'broken') not found"));

	/* an empty token file is refused now, not at the first request */
	put("kube/secrets/token", "\n");
	assert_int_equal(kube_config_load_kubeconfig(&c, path, "a", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "users[ua].user.tokenFile"));
	assert_non_null(strstr(err, "the file is empty"));
}

static void test_client_cert_data(void **state)
{
	struct kube_config c;
	char err[512] = "";
	const char *ok =
		put("c1", "current-context: x\n"
			  "clusters: [{name: k, cluster: {server: 'https://[::1]:6443'}}]\n"
			  "contexts: [{name: x, context: {cluster: k, user: u}}]\n"
			  "users:\n"
			  "- name: u\n"
			  "  user:\n"
			  "    client-certificate-data: " PEM_CA_B64 "\n"
			  "    client-key-data: " PEM_CA_B64 "\n");
	const char *half =
		put("c2", "current-context: x\n"
			  "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
			  "contexts: [{name: x, context: {cluster: k, user: u}}]\n"
			  "users: [{name: u, user: {client-certificate-data: " PEM_CA_B64 "}}]\n");
	const char *bad = put("c3", "current-context: x\n"
				    "clusters: [{name: k, cluster: {server: 'https://h', "
				    "certificate-authority-data: 'not*base64'}}]\n"
				    "contexts: [{name: x, context: {cluster: k}}]\n");

	(void)state;
	assert_int_equal(kube_config_load_kubeconfig(&c, ok, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[::1]:6443");
	assert_int_equal(c.cert_data_len, strlen(PEM_CA));
	assert_memory_equal(c.key_data, PEM_CA, strlen(PEM_CA));
	assert_null(c.token);
	kube_config_free(&c);

	assert_int_equal(kube_config_load_kubeconfig(&c, half, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "client certificate without its key"));
	assert_int_equal(kube_config_load_kubeconfig(&c, bad, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "clusters[k].cluster.certificate-authority-data is not valid "
				    "base64"));
}

static void test_exec_plugin_config(void **state)
{
	struct kube_config c, copy;
	char err[512] = "", want[512];
	const char *eks =
		put("eks", "current-context: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n"
			   "clusters:\n"
			   "- cluster:\n"
			   "    certificate-authority-data: " PEM_CA_B64 "\n"
			   "    server: https://ABC.gr7.eu-west-1.eks.amazonaws.com\n"
			   "  name: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n"
			   "contexts:\n"
			   "- context:\n"
			   "    cluster: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n"
			   "    user: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n"
			   "  name: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n"
			   "users:\n"
			   "- name: arn:aws:eks:eu-west-1:123456789012:cluster/prod\n"
			   "  user:\n"
			   "    exec:\n"
			   "      apiVersion: client.authentication.k8s.io/v1beta1\n"
			   "      args:\n"
			   "      - --region\n"
			   "      - eu-west-1\n"
			   "      - eks\n"
			   "      - get-token\n"
			   "      - --cluster-name\n"
			   "      - prod\n"
			   "      command: aws\n"
			   "      env:\n"
			   "      - name: AWS_PROFILE\n"
			   "        value: prod-admin\n"
			   "      interactiveMode: IfAvailable\n"
			   "      provideClusterInfo: false\n");
	const char *rel =
		put("rel", "current-context: x\n"
			   "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
			   "contexts: [{name: x, context: {cluster: k, user: u}}]\n"
			   "users: [{name: u, user: {exec: {apiVersion: "
			   "client.authentication.k8s.io/v1, command: ./bin/get-token}}}]\n");
	const char *noapi = put("noapi", "current-context: x\n"
					 "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
					 "contexts: [{name: x, context: {cluster: k, user: u}}]\n"
					 "users: [{name: u, user: {exec: {command: aws}}}]\n");
	const char *alpha =
		put("alpha", "current-context: x\n"
			     "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
			     "contexts: [{name: x, context: {cluster: k, user: u}}]\n"
			     "users: [{name: u, user: {exec: {command: aws, apiVersion: "
			     "client.authentication.k8s.io/v1alpha1}}}]\n");

	(void)state;
	assert_int_equal(kube_config_load_kubeconfig(&c, eks, NULL, err, sizeof(err)), 0);
	assert_true(c.has_exec);
	assert_string_equal(c.exec.command, "aws");
	assert_int_equal(c.exec.nargs, 6);
	assert_string_equal(c.exec.args[0], "--region");
	assert_string_equal(c.exec.args[5], "prod");
	assert_int_equal(c.exec.nenv, 1);
	assert_string_equal(c.exec.env[0], "AWS_PROFILE=prod-admin");
	assert_string_equal(c.exec.api_version, "client.authentication.k8s.io/v1beta1");
	assert_int_equal(kube_config_copy(&copy, &c), 0);
	kube_config_free(&c);
	/* the copy owns its strings */
	assert_string_equal(copy.exec.args[3], "get-token");
	assert_memory_equal(copy.ca_data, PEM_CA, strlen(PEM_CA));
	kube_config_free(&copy);

	assert_int_equal(kube_config_load_kubeconfig(&c, rel, NULL, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/./bin/get-token", dir);
	assert_string_equal(c.exec.command, want);
	kube_config_free(&c);

	assert_int_equal(kube_config_load_kubeconfig(&c, noapi, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "users[u].user.exec.apiVersion is missing"));
	assert_int_equal(kube_config_load_kubeconfig(&c, alpha, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "v1alpha1 is not supported"));
}

static void test_unsupported_and_missing(void **state)
{
	struct kube_config c;
	char err[512] = "", want[512];
	const char *gcp = put("gcp", "current-context: x\n"
				     "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
				     "contexts: [{name: x, context: {cluster: k, user: u}}]\n"
				     "users:\n"
				     "- name: u\n"
				     "  user:\n"
				     "    auth-provider:\n"
				     "      name: gcp\n"
				     "      config: {access-token: x}\n");
	const char *noserver = put("noserver", "current-context: x\n"
					       "clusters: [{name: k, cluster: {}}]\n"
					       "contexts: [{name: x, context: {cluster: k}}]\n");
	const char *nocurrent = put("nocurrent", "clusters: []\n");
	const char *syntax = put("syntax", "clusters:\n  - name: [unclosed\n");
	const char *scalar = put("scalar", "just a string\n");

	(void)state;
	assert_int_equal(kube_config_load_kubeconfig(&c, gcp, NULL, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: users[u].user.auth-provider (gcp) is not supported: use an exec credential "
		 "plugin",
		 gcp);
	assert_string_equal(err, want);
	assert_int_equal(kube_config_load_kubeconfig(&c, noserver, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s: clusters[k].cluster.server is missing", noserver);
	assert_string_equal(err, want);
	assert_int_equal(kube_config_load_kubeconfig(&c, nocurrent, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "current-context is not set"));
	assert_int_equal(kube_config_load_kubeconfig(&c, syntax, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "syntax:"));
	assert_int_equal(kube_config_load_kubeconfig(&c, scalar, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a kubeconfig"));
	snprintf(want, sizeof(want), "%s/absent", dir);
	assert_int_equal(kube_config_load_kubeconfig(&c, want, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "absent: No such file or directory"));
	/* all errors are one line */
	assert_null(strchr(err, '\n'));
}

static void test_in_cluster(void **state)
{
	struct kube_config c;
	char err[512] = "", sa[300], want[600];

	(void)state;
	snprintf(sa, sizeof(sa), "%s/sa", dir);
	assert_int_equal(kube_config_in_cluster(&c, sa, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "in-cluster: KUBERNETES_SERVICE_HOST is not set");

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_config_in_cluster(&c, sa, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "in-cluster: token %s/token: No such file or directory", sa);
	assert_string_equal(err, want);

	put("sa/token", "eyJhbGciOiJSUzI1NiJ9.e30.sig\n");
	put("sa/ca.crt", PEM_CA);
	put("sa/namespace", "sonde-system");
	assert_int_equal(kube_config_in_cluster(&c, sa, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00:10:96::1]:443");
	snprintf(want, sizeof(want), "%s/token", sa);
	assert_string_equal(c.token_file, want);
	snprintf(want, sizeof(want), "%s/ca.crt", sa);
	assert_string_equal(c.ca_file, want);
	assert_string_equal(c.namespace_, "sonde-system");
	kube_config_free(&c);

	setenv("KUBERNETES_SERVICE_HOST", "10.100.0.1", 1);
	assert_int_equal(kube_config_in_cluster(&c, sa, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://10.100.0.1:443");
	kube_config_free(&c);

	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	assert_int_equal(kube_config_in_cluster(&c, sa, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_PORT=https is not a port"));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

static void test_auto(void **state)
{
	struct kube_config c;
	char err[512] = "", sa[300], home[300];
	const char *cfg =
		put("auto-config", "current-context: x\n"
				   "clusters: [{name: k, cluster: {server: 'https://from-env'}}]\n"
				   "contexts: [{name: x, context: {cluster: k}}]\n");

	(void)state;
	snprintf(sa, sizeof(sa), "%s/sa2", dir);
	snprintf(home, sizeof(home), "%s/home", dir);
	mkdir(home, 0755);
	setenv("HOME", home, 1);

	/* nothing at all: one line naming what was tried */
	assert_int_equal(kube_config_auto(&c, NULL, sa, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no kubernetes api configuration: KUBERNETES_SERVICE_HOST is "
				    "not set; KUBECONFIG is not set; "));
	assert_non_null(strstr(err, "home/.kube/config: No such file or directory"));

	/* ~/.kube/config */
	put("home/.kube/config", "current-context: x\n"
				 "clusters: [{name: k, cluster: {server: 'https://from-home'}}]\n"
				 "contexts: [{name: x, context: {cluster: k}}]\n");
	assert_int_equal(kube_config_auto(&c, NULL, sa, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://from-home");
	kube_config_free(&c);

	/* $KUBECONFIG, first file of the list, wins over ~/.kube/config */
	{
		char list[700];

		snprintf(list, sizeof(list), "%s:/nonexistent/other", cfg);
		setenv("KUBECONFIG", list, 1);
	}
	assert_int_equal(kube_config_auto(&c, NULL, sa, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://from-env");
	kube_config_free(&c);

	/* in-cluster wins over $KUBECONFIG; a broken in-cluster falls through */
	setenv("KUBERNETES_SERVICE_HOST", "10.100.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(kube_config_auto(&c, NULL, sa, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://from-env");
	kube_config_free(&c);
	put("sa2/token", "t");
	put("sa2/ca.crt", PEM_CA);
	assert_int_equal(kube_config_auto(&c, NULL, sa, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://10.100.0.1:443");
	assert_string_equal(c.namespace_, "default");
	kube_config_free(&c);

	/* an explicit file wins over everything, and its failure is final */
	assert_int_equal(kube_config_auto(&c, "/nonexistent/kubeconfig", sa, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/kubeconfig: No such file or directory");
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unsetenv("KUBECONFIG");
}

static void test_exec_credential(void **state)
{
	const char *v1 = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s."
			 "io/v1\",\"spec\":{},\"status\":{\"expirationTimestamp\":\"2024-05-02T08:"
			 "28:14Z\",\"token\":\"k8s-aws-v1.aHR0cHM6Ly9zdHM\"}}\n";
	const char *certs = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication."
			    "k8s.io/v1beta1\",\"status\":{\"clientCertificateData\":\"C\","
			    "\"clientKeyData\":\"K\"}}";
	struct kube_exec_cred cred;
	char err[256];

	(void)state;
	assert_int_equal(
		kube_exec_cred_parse(v1, strlen(v1), KUBE_EXEC_V1, &cred, err, sizeof(err)), 0);
	assert_string_equal(cred.token, "k8s-aws-v1.aHR0cHM6Ly9zdHM");
	assert_true(cred.has_expiry);
	assert_int_equal(cred.expiry, 1714638494);
	kube_exec_cred_free(&cred);

	assert_int_equal(kube_exec_cred_parse(certs, strlen(certs), KUBE_EXEC_V1BETA1, &cred, err,
					      sizeof(err)),
			 0);
	assert_null(cred.token);
	assert_string_equal(cred.cert_data, "C");
	assert_false(cred.has_expiry);
	kube_exec_cred_free(&cred);

	/* answered in another apiVersion than asked */
	assert_int_equal(
		kube_exec_cred_parse(v1, strlen(v1), KUBE_EXEC_V1BETA1, &cred, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "apiVersion client.authentication.k8s.io/v1, the kubeconfig "
				    "asked for client.authentication.k8s.io/v1beta1"));
	assert_int_equal(kube_exec_cred_parse("not json", 8, KUBE_EXEC_V1, &cred, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(kube_exec_cred_parse("", 0, KUBE_EXEC_V1, &cred, err, sizeof(err)),
			 -EINVAL);
	{
		const char *none = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client."
				   "authentication.k8s.io/v1\",\"status\":{}}";
		const char *badtime = "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client."
				      "authentication.k8s.io/v1\",\"status\":{\"token\":\"t\","
				      "\"expirationTimestamp\":\"tomorrow\"}}";
		const char *crlf =
			"{\"kind\":\"ExecCredential\",\"apiVersion\":\"client."
			"authentication.k8s.io/v1\",\"status\":{\"token\":\"t\\r\\nX-Evil: "
			"1\"}}";

		assert_int_equal(kube_exec_cred_parse(none, strlen(none), KUBE_EXEC_V1, &cred, err,
						      sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "neither status.token"));
		assert_int_equal(kube_exec_cred_parse(badtime, strlen(badtime), KUBE_EXEC_V1, &cred,
						      err, sizeof(err)),
				 -EINVAL);
		assert_int_equal(kube_exec_cred_parse(crlf, strlen(crlf), KUBE_EXEC_V1, &cred, err,
						      sizeof(err)),
				 -EINVAL);
	}
}

static void test_parse_time(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(kube_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(kube_parse_time("2024-05-02T08:28:14.123456Z", &t), 0);
	assert_int_equal(t, 1714638494);
	assert_int_equal(kube_parse_time("2024-05-02T10:28:14+02:00", &t), 0);
	assert_int_equal(t, 1714638494);
	assert_int_equal(kube_parse_time("2024-05-02T07:28:14-01:00", &t), 0);
	assert_int_equal(t, 1714638494);
	assert_int_equal(kube_parse_time("2024-05-02T08:28:14", &t), -EINVAL);
	assert_int_equal(kube_parse_time("2024-13-02T08:28:14Z", &t), -EINVAL);
	assert_int_equal(kube_parse_time("2024-05-02T08:28:14Zjunk", &t), -EINVAL);
	assert_int_equal(kube_parse_time("", &t), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_and_ca_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths_and_contexts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_cert_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_plugin_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto, setup, teardown),
		cmocka_unit_test(test_exec_credential),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
