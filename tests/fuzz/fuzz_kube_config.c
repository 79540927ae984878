/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the kubeconfig parser (k8s/kube_config.c) and the other
 * parsers there that take bytes: an exec plugin's ExecCredential JSON and RFC
 * 3339 times. Errors must be one line; what parses must be usable (a server
 * URL, NUL-terminated fields, exec arguments within their bounds).
 *
 * Input: a first byte picks the parser (0 kubeconfig with its current-context,
 * 1 kubeconfig with context "dev", 2 ExecCredential, 3 a time); the rest is
 * the text.
 *
 * The kubeconfig goes through kube_config_parse() (text in, no file read) where
 * that exists; before it did (kube_config.c loading files itself), through
 * kube_config_load_kubeconfig() on a memfd.
 * Run: make fuzz FUZZERS_ONLY=kube_config (tests/fuzz/run.py).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "k8s/kube_config.h"

static void check_config(const struct kube_config *c)
{
	FUZZ_CHECK_STR(c->server);
	FUZZ_CHECK_STR(c->token_file);
	FUZZ_CHECK_STR(c->ca_file);
	FUZZ_CHECK_STR(c->cert_file);
	FUZZ_CHECK_STR(c->key_file);
	FUZZ_CHECK_STR(c->namespace_);
	FUZZ_CHECK_STR(c->source);
	FUZZ_CHECK(c->server[0]);
	if (c->has_exec) {
		FUZZ_CHECK(c->exec.command && c->exec.command[0]);
		FUZZ_CHECK(c->exec.nargs >= 0 && c->exec.nargs <= KUBE_EXEC_MAX_ARGS);
		FUZZ_CHECK(c->exec.nenv >= 0 && c->exec.nenv <= KUBE_EXEC_MAX_ENV);
		for (int i = 0; i < c->exec.nenv; i++)
			FUZZ_CHECK(strchr(c->exec.env[i], '='));
		FUZZ_CHECK_STR(c->exec.api_version);
	}
}

#if __has_include("k8s/kube_config_load.h")
/* Files the kubeconfig names: those under /ok/ can be used, others cannot. */
static int check_file(void *arg, const char *path, enum kube_file what, char *why, size_t len)
{
	(void)arg;
	(void)what;
	if (!strncmp(path, "/ok/", 4))
		return 0;
	snprintf(why, len, "No such file or directory");
	return -ENOENT;
}

static int parse_kubeconfig(struct kube_config *c, const uint8_t *data, size_t size,
			    const char *context, char *err, size_t errlen)
{
	char *text = fuzz_copy(data, size, false);
	int ret = kube_config_parse(c, text, size, "/fuzz/kubeconfig", context, check_file, NULL,
				    err, errlen);

	free(text);
	return ret;
}
#else
static int parse_kubeconfig(struct kube_config *c, const uint8_t *data, size_t size,
			    const char *context, char *err, size_t errlen)
{
	static int fd = -1;
	char path[64];

	if (fd < 0)
		fd = memfd_create("kubeconfig", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return kube_config_load_kubeconfig(c, path, context, err, errlen);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t mode = fuzz_byte(&in);
	struct kube_config c;
	struct kube_exec_cred cred;
	char err[512], *text;
	time_t t;

	err[0] = '\0';
	switch (mode % 4) {
	case 0:
	case 1:
		if (parse_kubeconfig(&c, in.p, in.n, mode % 4 ? "dev" : NULL, err, sizeof(err))) {
			fuzz_check_error(err, sizeof(err));
			break;
		}
		check_config(&c);
		kube_config_free(&c);
		break;
	case 2:
		text = fuzz_copy(in.p, in.n, false);
		if (kube_exec_cred_parse(text, in.n, mode & 4 ? NULL : KUBE_EXEC_V1, &cred, err,
					 sizeof(err))) {
			fuzz_check_error(err, sizeof(err));
		} else {
			FUZZ_CHECK(cred.token || (cred.cert_data && cred.key_data));
			kube_exec_cred_free(&cred);
		}
		free(text);
		break;
	case 3:
		text = fuzz_copy(in.p, in.n, true);
		kube_parse_time(text, &t);
		free(text);
		break;
	}
	return 0;
}
