/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "k8s/kube_client.h"
#include "k8s/kube_credentials.h"
#include "util/byte_buf.h"

#define EXEC_OUTPUT_MAX (1u << 20)

extern char **environ;

struct kube_cred_cache {
	pthread_mutex_t lock;
	int refs;
	struct kube_exec_cred cred;
	bool has;
};

struct kube_cred_cache *kube_cred_cache_new(void)
{
	struct kube_cred_cache *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->refs = 1;
	return k;
}

void kube_cred_cache_hold(struct kube_cred_cache *k)
{
	pthread_mutex_lock(&k->lock);
	k->refs++;
	pthread_mutex_unlock(&k->lock);
}

void kube_cred_cache_put(struct kube_cred_cache *k)
{
	int refs;

	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	refs = --k->refs;
	pthread_mutex_unlock(&k->lock);
	if (refs)
		return;
	kube_exec_cred_free(&k->cred);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void kube_cred_cache_forget(struct kube_cred_cache *k)
{
	pthread_mutex_lock(&k->lock);
	kube_exec_cred_free(&k->cred);
	k->has = false;
	pthread_mutex_unlock(&k->lock);
}

void kube_request_cred_free(struct kube_request_cred *cred)
{
	if (!cred)
		return;
	if (cred->token) {
		explicit_bzero(cred->token, strlen(cred->token));
		free(cred->token);
	}
	kube_exec_cred_free(&cred->exec);
	memset(cred, 0, sizeof(*cred));
}

static bool stopped(const atomic_bool *stop)
{
	return stop && atomic_load(stop);
}

/* Runs the plugin and reads an ExecCredential from its stdout into the cache.
 * Called with the cache's lock held. */
static int exec_plugin(const struct kube_exec *ex, struct kube_cred_cache *cache,
		       const atomic_bool *stop, char *err, size_t errlen)
{
	char *argv[KUBE_EXEC_MAX_ARGS + 2];
	char **envp = NULL;
	char info[256];
	char errout[512] = "";
	struct byte_buf out = { .max = EXEC_OUTPUT_MAX };
	size_t nenv = 0, errlen_used = 0;
	posix_spawn_file_actions_t fa;
	int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
	pid_t pid = -1;
	uint64_t deadline;
	int ret, status = 0;
	bool fa_init = false;

	kube_exec_cred_free(&cache->cred);
	cache->has = false;

	argv[0] = ex->command;
	for (int i = 0; i < ex->nargs; i++)
		argv[i + 1] = ex->args[i];
	argv[ex->nargs + 1] = NULL;

	/* The agent's environment, the kubeconfig's additions, and
	 * KUBERNETES_EXEC_INFO, which plugins (aws eks get-token among them) read
	 * to pick the apiVersion to answer in. */
	while (environ && environ[nenv])
		nenv++;
	envp = calloc(nenv + (size_t)ex->nenv + 2, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	nenv = 0;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "KUBERNETES_EXEC_INFO=", 21))
			envp[nenv++] = *e;
	}
	for (int i = 0; i < ex->nenv; i++)
		envp[nenv++] = ex->env[i];
	snprintf(info, sizeof(info),
		 "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
		 "\"spec\":{\"interactive\":false}}",
		 ex->api_version);
	envp[nenv++] = info;
	envp[nenv] = NULL;

	if (pipe2(opipe, O_CLOEXEC) || pipe2(epipe, O_CLOEXEC)) {
		ret = -errno;
		kube_err(err, errlen, "exec plugin %s: pipe: %s", ex->command, strerror(-ret));
		goto out;
	}
	ret = posix_spawn_file_actions_init(&fa);
	if (ret) {
		ret = -ret;
		goto out;
	}
	fa_init = true;
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, opipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, epipe[1], 2);
	ret = posix_spawnp(&pid, ex->command, &fa, NULL, argv, envp);
	if (ret) {
		pid = -1;
		kube_err(err, errlen, "exec plugin %s: %s", ex->command, strerror(ret));
		ret = -ret;
		goto out;
	}
	close(opipe[1]);
	close(epipe[1]);
	opipe[1] = epipe[1] = -1;

	deadline = clock_mono_ms() + KUBE_EXEC_TIMEOUT_MS;
	while (opipe[0] >= 0 || epipe[0] >= 0) {
		struct pollfd p[2] = { { .fd = opipe[0], .events = POLLIN },
				       { .fd = epipe[0], .events = POLLIN } };
		char chunk[4096];
		ssize_t n;

		if (stopped(stop)) {
			ret = -ECANCELED;
			kube_err(err, errlen, "exec plugin %s: cancelled", ex->command);
			goto out;
		}
		if (clock_mono_ms() >= deadline) {
			ret = -ETIMEDOUT;
			kube_err(err, errlen, "exec plugin %s: no answer after %u s", ex->command,
				 KUBE_EXEC_TIMEOUT_MS / 1000);
			goto out;
		}
		/* Short polls so that the stop flag is seen promptly. */
		if (poll(p, 2, 200) < 0 && errno != EINTR) {
			ret = -errno;
			goto out;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i ? &epipe[0] : &opipe[0];

			if (*fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(*fd, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(*fd);
				*fd = -1;
				continue;
			}
			if (i == 0 && byte_buf_add(&out, chunk, (size_t)n)) {
				ret = -EMSGSIZE;
				kube_err(err, errlen,
					 "exec plugin %s: more than %u bytes of output",
					 ex->command, EXEC_OUTPUT_MAX);
				goto out;
			}
			if (i == 1 && errlen_used < sizeof(errout) - 1) {
				size_t take = sizeof(errout) - 1 - errlen_used;

				if (take > (size_t)n)
					take = (size_t)n;
				memcpy(errout + errlen_used, chunk, take);
				errlen_used += take;
				errout[errlen_used] = '\0';
			}
		}
	}
	/* Output closed; the plugin may still linger (a daemonised child holds
	 * nothing of ours, but its parent must exit before the deadline). */
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			kube_err(err, errlen, "exec plugin %s: waitpid: %s", ex->command,
				 strerror(-ret));
			pid = -1;
			goto out;
		}
		if (stopped(stop) || clock_mono_ms() >= deadline) {
			ret = stopped(stop) ? -ECANCELED : -ETIMEDOUT;
			kube_err(err, errlen, "exec plugin %s: %s", ex->command,
				 ret == -ECANCELED ? "cancelled" : "did not exit in time");
			goto out;
		}
		usleep(10000);
	}
	pid = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char *nl = strchr(errout, '\n');

		if (nl)
			*nl = '\0';
		kube_err(err, errlen, "exec plugin %s: %s %d%s%s", ex->command,
			 WIFEXITED(status) ? "exited with status" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			 errout[0] ? ": " : "", errout);
		ret = -EACCES;
		goto out;
	}
	{
		char why[256];

		ret = kube_exec_cred_parse(out.data ? out.data : "", out.len, ex->api_version,
					   &cache->cred, why, sizeof(why));
		if (ret) {
			kube_err(err, errlen, "exec plugin %s: %s", ex->command, why);
			ret = -EACCES;
			goto out;
		}
	}
	cache->has = true;
	ret = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	for (int i = 0; i < 2; i++) {
		if (opipe[i] >= 0)
			close(opipe[i]);
		if (epipe[i] >= 0)
			close(epipe[i]);
	}
	if (fa_init)
		posix_spawn_file_actions_destroy(&fa);
	free(envp);
	free(out.data);
	return ret;
}

/* The plugin's credential, run again when there is none or it has expired, copied
 * into out under the cache's lock. */
static int exec_cred(struct kube_request_cred *out, const struct kube_exec *ex,
		     struct kube_cred_cache *k, const atomic_bool *stop, char *err, size_t errlen)
{
	const struct kube_exec_cred *kc = &k->cred;
	int ret = 0;

	pthread_mutex_lock(&k->lock);
	/* As kubectl: run again once status.expirationTimestamp has passed. */
	if (!k->has || (kc->has_expiry && time(NULL) >= kc->expiry))
		ret = exec_plugin(ex, k, stop, err, errlen);
	if (!ret) {
		out->exec.has_expiry = kc->has_expiry;
		out->exec.expiry = kc->expiry;
		if ((kc->token && !(out->exec.token = strdup(kc->token))) ||
		    (kc->cert_data && !(out->exec.cert_data = strdup(kc->cert_data))) ||
		    (kc->key_data && !(out->exec.key_data = strdup(kc->key_data))))
			ret = -ENOMEM;
	}
	pthread_mutex_unlock(&k->lock);
	if (ret) {
		kube_exec_cred_free(&out->exec);
		return ret;
	}
	out->has_exec = true;
	if (out->exec.token) {
		out->token = strdup(out->exec.token);
		return out->token ? 0 : -ENOMEM;
	}
	return 0;
}

/* The first line of the token file, without trailing white space. */
static int token_file(char **token, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		int ret = -errno;

		kube_err(err, errlen, "token file %s: %s", path, strerror(-ret));
		return -EACCES;
	}
	n = getline(&line, &cap, f);
	fclose(f);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (n <= 0) {
		free(line);
		kube_err(err, errlen, "token file %s: empty", path);
		return -EACCES;
	}
	*token = line;
	return 0;
}

int kube_request_cred_get(struct kube_request_cred *out, const struct kube_config *cfg,
			  struct kube_cred_cache *cache, const atomic_bool *stop, char *err,
			  size_t errlen)
{
	kube_request_cred_free(out);
	if (cfg->has_exec)
		return exec_cred(out, &cfg->exec, cache, stop, err, errlen);
	if (cfg->token_file[0])
		return token_file(&out->token, cfg->token_file, err, errlen);
	if (cfg->token) {
		out->token = strdup(cfg->token);
		return out->token ? 0 : -ENOMEM;
	}
	return 0;
}
