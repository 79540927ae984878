/* SPDX-License-Identifier: MIT */
/* A kubeconfig's text into settings with no file touched: the files it names go
 * to the caller's check, which here is a stand-in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "k8s/kube_config.h"

static const char kubeconfig[] = "current-context: a\n"
				 "clusters:\n"
				 "- name: k\n"
				 "  cluster:\n"
				 "    server: https://10.0.0.1:6443//\n"
				 "    certificate-authority: pki/ca.crt\n"
				 "contexts:\n"
				 "- name: a\n"
				 "  context: {cluster: k, user: u, namespace: shop}\n"
				 "users:\n"
				 "- name: u\n"
				 "  user:\n"
				 "    tokenFile: /var/run/token\n"
				 "    client-certificate: client.crt\n"
				 "    client-key: /etc/k/client.key\n";

/* Records what it is asked; fails the file named fail_path with fail_ret. */
struct checks {
	char asked[8][160];
	int n;
	const char *fail_path;
	int fail_ret;
	const char *why;
};

static int check(void *arg, const char *path, enum kube_file what, char *why, size_t whylen)
{
	struct checks *c = arg;

	if (c->n < 8)
		snprintf(c->asked[c->n++], sizeof(c->asked[0]), "%s %s",
			 what == KUBE_FILE_TOKEN ? "token" : "pem", path);
	if (!c->fail_path || strcmp(path, c->fail_path))
		return 0;
	snprintf(why, whylen, "%s", c->why);
	return c->fail_ret;
}

static void test_no_check_no_files(void **state)
{
	struct kube_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(kube_config_parse(&c, kubeconfig, strlen(kubeconfig),
					   "/home/me/.kube/config", NULL, NULL, NULL, err,
					   sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.ca_file, "/home/me/.kube/pki/ca.crt");
	assert_string_equal(c.token_file, "/var/run/token");
	assert_string_equal(c.cert_file, "/home/me/.kube/client.crt");
	assert_string_equal(c.key_file, "/etc/k/client.key");
	assert_string_equal(c.namespace_, "shop");
	assert_string_equal(c.source, "/home/me/.kube/config context a");
	kube_config_free(&c);

	/* a bare file name: paths relative to the current directory */
	assert_int_equal(kube_config_parse(&c, kubeconfig, strlen(kubeconfig), "config", NULL, NULL,
					   NULL, err, sizeof(err)),
			 0);
	assert_string_equal(c.ca_file, "./pki/ca.crt");
	kube_config_free(&c);
}

static void test_every_file_is_checked(void **state)
{
	struct checks k = { 0 };
	struct kube_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(kube_config_parse(&c, kubeconfig, strlen(kubeconfig), "/k/config", NULL,
					   check, &k, err, sizeof(err)),
			 0);
	assert_int_equal(k.n, 4);
	assert_string_equal(k.asked[0], "pem /k/pki/ca.crt");
	assert_string_equal(k.asked[1], "token /var/run/token");
	assert_string_equal(k.asked[2], "pem /k/client.crt");
	assert_string_equal(k.asked[3], "pem /etc/k/client.key");
	kube_config_free(&c);
}

static void test_failed_checks(void **state)
{
	struct checks k = { .fail_path = "/k/pki/ca.crt",
			    .fail_ret = -EACCES,
			    .why = "Permission denied" };
	struct kube_config c;
	char err[256] = "";

	(void)state;
	/* a certificate keeps the check's errno */
	assert_int_equal(kube_config_parse(&c, kubeconfig, strlen(kubeconfig), "/k/config", NULL,
					   check, &k, err, sizeof(err)),
			 -EACCES);
	assert_string_equal(err, "/k/config: clusters[k].cluster.certificate-authority "
				 "/k/pki/ca.crt: Permission denied");
	/* a token file that cannot be used makes the kubeconfig invalid */
	k = (struct checks){ .fail_path = "/var/run/token",
			     .fail_ret = -EINVAL,
			     .why = "the file is empty" };
	assert_int_equal(kube_config_parse(&c, kubeconfig, strlen(kubeconfig), "/k/config", NULL,
					   check, &k, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "/k/config: users[u].user.tokenFile /var/run/token: the file is "
				 "empty");
	k = (struct checks){ .fail_path = "/var/run/token", .fail_ret = -ENOENT, .why = "gone" };
	assert_int_equal(kube_config_parse(&c, kubeconfig, strlen(kubeconfig), "/k/config", NULL,
					   check, &k, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "tokenFile /var/run/token: gone"));
}

static void test_text_is_not_a_string(void **state)
{
	static const char text[] = "current-context: x\n"
				   "clusters: [{name: k, cluster: {server: 'https://h'}}]\n"
				   "contexts: [{name: x, context: {cluster: k}}]\n"
				   "JUNK THAT IS NOT PART OF IT: [";
	struct kube_config c;
	char err[256] = "";

	(void)state;
	/* only len bytes are read */
	assert_int_equal(kube_config_parse(&c, text,
					   strlen(text) - strlen("JUNK THAT IS NOT PART OF IT: ["),
					   "mem", NULL, NULL, NULL, err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://h");
	kube_config_free(&c);
	assert_int_equal(kube_config_parse(&c, text, strlen(text), "mem", NULL, NULL, NULL, err,
					   sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "mem:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_check_no_files),
		cmocka_unit_test(test_every_file_is_checked),
		cmocka_unit_test(test_failed_checks),
		cmocka_unit_test(test_text_is_not_a_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
