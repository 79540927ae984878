/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes API over libcurl, HTTP/1.1. A watch is a long GET whose chunked
 * body is one JSON WatchEvent per line (API concepts, "Efficient detection of
 * changes"); it is cut by the stop flag through the progress callback, which
 * curl calls about once a second even when no data moves.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "k8s/kube_client.h"

#ifdef SONDE_VERSION
#define USER_AGENT "sonde/" SONDE_VERSION
#else
#define USER_AGENT "sonde"
#endif

#define ERR_BODY_MAX	(64u << 10) /* an error Status body is small */
#define EXEC_OUTPUT_MAX (1u << 20)

extern char **environ;

/* The exec plugin's last credential, shared by the clients of one agent
 * (kube_client_share_credentials) so that the plugin runs once per expiry, not
 * once per connection. */
struct cred_cache {
	pthread_mutex_t lock;
	int refs;
	struct kube_exec_cred cred;
	bool has;
};

struct kube_client {
	struct kube_config cfg;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	const atomic_bool *stop;
	unsigned timeout_ms;
	struct cred_cache *cache;
	/* This request's copy of the cached credential (for the TLS options). */
	struct kube_exec_cred cred;
	bool has_cred;
};

/* Per-transfer state for the write callbacks. */
struct xfer {
	struct kube_client *c;
	char *buf;
	size_t len, cap, max;
	bool too_big;
	/* watch */
	bool watch;
	long status;
	kube_line_fn fn;
	void *arg;
	bool fn_stopped;
};

__attribute__((format(printf, 3, 4))) static void say(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* One line, whatever a server or plugin put in it. */
	for (char *p = err; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static struct cred_cache *cache_new(void)
{
	struct cred_cache *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	k->refs = 1;
	return k;
}

static void cache_put(struct cred_cache *k)
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

void kube_client_share_credentials(struct kube_client *dst, struct kube_client *src)
{
	if (dst->cache == src->cache)
		return;
	cache_put(dst->cache);
	pthread_mutex_lock(&src->cache->lock);
	src->cache->refs++;
	pthread_mutex_unlock(&src->cache->lock);
	dst->cache = src->cache;
}

struct kube_client *kube_client_new(const struct kube_config *cfg)
{
	struct kube_client *c;
	int err;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		errno = EIO;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	err = kube_config_copy(&c->cfg, cfg);
	if (err) {
		free(c);
		errno = -err;
		return NULL;
	}
	c->curl = curl_easy_init();
	c->cache = cache_new();
	if (!c->curl || !c->cache) {
		kube_client_free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->timeout_ms = KUBE_TIMEOUT_MS;
	return c;
}

void kube_client_free(struct kube_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	kube_config_free(&c->cfg);
	kube_exec_cred_free(&c->cred);
	cache_put(c->cache);
	free(c);
}

void kube_client_set_stop(struct kube_client *c, const atomic_bool *stop)
{
	c->stop = stop;
}

void kube_client_set_timeout(struct kube_client *c, unsigned timeout_ms)
{
	c->timeout_ms = timeout_ms ? timeout_ms : KUBE_TIMEOUT_MS;
}

const char *kube_client_server(const struct kube_client *c)
{
	return c->cfg.server;
}

static bool stopped(const struct kube_client *c)
{
	return c->stop && atomic_load(c->stop);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Appends to a bounded buffer that stays NUL-terminated. */
static int buf_add(struct xfer *x, const char *data, size_t n)
{
	if (x->len + n > x->max) {
		x->too_big = true;
		return -EMSGSIZE;
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		char *b;

		while (cap < x->len + n + 1)
			cap *= 2;
		if (cap > x->max + 1)
			cap = x->max + 1;
		b = realloc(x->buf, cap);
		if (!b)
			return -ENOMEM;
		x->buf = b;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return 0;
}

/* Exec credential plugins (client.authentication.k8s.io): run the command, read
 * an ExecCredential from its stdout into the cache. Called with its lock held. */
static int exec_plugin(struct kube_client *c, char *err, size_t errlen)
{
	const struct kube_exec *ex = &c->cfg.exec;
	char *argv[KUBE_EXEC_MAX_ARGS + 2];
	char **envp = NULL;
	char info[256];
	char errout[512] = "";
	struct xfer out = { .max = EXEC_OUTPUT_MAX };
	size_t nenv = 0, errlen_used = 0;
	posix_spawn_file_actions_t fa;
	int opipe[2] = { -1, -1 }, epipe[2] = { -1, -1 };
	pid_t pid = -1;
	uint64_t deadline;
	int ret, status = 0;
	bool fa_init = false;

	kube_exec_cred_free(&c->cache->cred);
	c->cache->has = false;

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
		say(err, errlen, "exec plugin %s: pipe: %s", ex->command, strerror(-ret));
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
		say(err, errlen, "exec plugin %s: %s", ex->command, strerror(ret));
		ret = -ret;
		goto out;
	}
	close(opipe[1]);
	close(epipe[1]);
	opipe[1] = epipe[1] = -1;

	deadline = now_ms() + KUBE_EXEC_TIMEOUT_MS;
	while (opipe[0] >= 0 || epipe[0] >= 0) {
		struct pollfd p[2] = { { .fd = opipe[0], .events = POLLIN },
				       { .fd = epipe[0], .events = POLLIN } };
		char chunk[4096];
		ssize_t n;

		if (stopped(c)) {
			ret = -ECANCELED;
			say(err, errlen, "exec plugin %s: cancelled", ex->command);
			goto out;
		}
		if (now_ms() >= deadline) {
			ret = -ETIMEDOUT;
			say(err, errlen, "exec plugin %s: no answer after %u s", ex->command,
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
			if (i == 0 && buf_add(&out, chunk, (size_t)n)) {
				ret = -EMSGSIZE;
				say(err, errlen, "exec plugin %s: more than %u bytes of output",
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
			say(err, errlen, "exec plugin %s: waitpid: %s", ex->command,
			    strerror(-ret));
			pid = -1;
			goto out;
		}
		if (stopped(c) || now_ms() >= deadline) {
			ret = stopped(c) ? -ECANCELED : -ETIMEDOUT;
			say(err, errlen, "exec plugin %s: %s", ex->command,
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
		say(err, errlen, "exec plugin %s: %s %d%s%s", ex->command,
		    WIFEXITED(status) ? "exited with status" : "killed by signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
		    errout[0] ? ": " : "", errout);
		ret = -EACCES;
		goto out;
	}
	{
		char why[256];

		ret = kube_exec_cred_parse(out.buf ? out.buf : "", out.len, ex->api_version,
					   &c->cache->cred, why, sizeof(why));
		if (ret) {
			say(err, errlen, "exec plugin %s: %s", ex->command, why);
			ret = -EACCES;
			goto out;
		}
	}
	c->cache->has = true;
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
	free(out.buf);
	return ret;
}

/* The bearer token for the next request into *token (free it), or NULL when the
 * config has none (client certificates, anonymous). */
static int bearer_token(struct kube_client *c, char **token, char *err, size_t errlen)
{
	const struct kube_config *cfg = &c->cfg;

	*token = NULL;
	if (cfg->has_exec) {
		struct cred_cache *k = c->cache;
		const struct kube_exec_cred *kc = &k->cred;
		int ret = 0;

		kube_exec_cred_free(&c->cred);
		c->has_cred = false;
		pthread_mutex_lock(&k->lock);
		/* As kubectl: run again once status.expirationTimestamp has passed. */
		if (!k->has || (kc->has_expiry && time(NULL) >= kc->expiry))
			ret = exec_plugin(c, err, errlen);
		if (!ret) {
			c->cred.has_expiry = kc->has_expiry;
			c->cred.expiry = kc->expiry;
			if ((kc->token && !(c->cred.token = strdup(kc->token))) ||
			    (kc->cert_data && !(c->cred.cert_data = strdup(kc->cert_data))) ||
			    (kc->key_data && !(c->cred.key_data = strdup(kc->key_data))))
				ret = -ENOMEM;
		}
		pthread_mutex_unlock(&k->lock);
		if (ret) {
			kube_exec_cred_free(&c->cred);
			return ret;
		}
		c->has_cred = true;
		if (c->cred.token) {
			*token = strdup(c->cred.token);
			return *token ? 0 : -ENOMEM;
		}
		return 0;
	}
	if (cfg->token_file[0]) {
		FILE *f = fopen(cfg->token_file, "re");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;

		if (!f) {
			int ret = -errno;

			say(err, errlen, "token file %s: %s", cfg->token_file, strerror(-ret));
			return -EACCES;
		}
		n = getline(&line, &cap, f);
		fclose(f);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		if (n <= 0) {
			free(line);
			say(err, errlen, "token file %s: empty", cfg->token_file);
			return -EACCES;
		}
		*token = line;
		return 0;
	}
	if (cfg->token) {
		*token = strdup(cfg->token);
		return *token ? 0 : -ENOMEM;
	}
	return 0;
}

static int xferinfo(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		    curl_off_t ulnow)
{
	const struct kube_client *c = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return stopped(c) ? 1 : 0;
}

/* Watch bodies are fed to the line callback once the status is 200; anything
 * else (and every GET) is collected. */
static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;

	if (x->watch && !x->status)
		curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (!x->watch)
		return buf_add(x, data, n) ? 0 : n;
	if (x->status != 200) {
		/* An error Status is small; keep its start, drop the rest. */
		size_t take = x->len < ERR_BODY_MAX ? ERR_BODY_MAX - x->len : 0;

		if (take > n)
			take = n;
		return !take || !buf_add(x, data, take) ? n : 0;
	}

	for (size_t off = 0; off < n;) {
		char *nl = memchr(data + off, '\n', n - off);
		size_t take = nl ? (size_t)(nl - (data + off)) : n - off;

		if (buf_add(x, data + off, take))
			return 0;
		off += take;
		if (!nl)
			break;
		off++; /* the newline */
		while (x->len && x->buf[x->len - 1] == '\r')
			x->buf[--x->len] = '\0';
		if (x->len && x->fn(x->buf, x->len, x->arg)) {
			x->fn_stopped = true;
			return 0;
		}
		x->len = 0;
	}
	return n;
}

static int set_tls(struct kube_client *c)
{
	const struct kube_config *cfg = &c->cfg;
	CURL *h = c->curl;
	CURLcode rc = CURLE_OK;

	if (cfg->ca_data) {
		struct curl_blob b = { cfg->ca_data, cfg->ca_data_len, CURL_BLOB_COPY };

		rc = curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
	} else if (cfg->ca_file[0]) {
		rc = curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	}
	/* A cluster CA is the only one to trust: not the system directory too. */
	if (!rc && (cfg->ca_data || cfg->ca_file[0]))
		rc = curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	if (!rc && cfg->insecure) {
		rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		if (!rc)
			rc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (!rc && c->has_cred && c->cred.cert_data && c->cred.key_data) {
		struct curl_blob cb = { c->cred.cert_data, strlen(c->cred.cert_data),
					CURL_BLOB_COPY };
		struct curl_blob kb = { c->cred.key_data, strlen(c->cred.key_data),
					CURL_BLOB_COPY };

		rc = curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
		if (!rc)
			rc = curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
	} else if (!rc && cfg->cert_data) {
		struct curl_blob cb = { cfg->cert_data, cfg->cert_data_len, CURL_BLOB_COPY };

		rc = curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
	} else if (!rc && cfg->cert_file[0]) {
		rc = curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->cert_file);
	}
	if (!rc && !(c->has_cred && c->cred.key_data)) {
		if (cfg->key_data) {
			struct curl_blob kb = { cfg->key_data, cfg->key_data_len, CURL_BLOB_COPY };

			rc = curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
		} else if (cfg->key_file[0]) {
			rc = curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->key_file);
		}
	}
	return rc == CURLE_OK ? 0 : -EINVAL;
}

/* Sets up the handle for one request. */
static int prepare(struct kube_client *c, const char *path, struct xfer *x,
		   struct curl_slist **headers, char *err, size_t errlen)
{
	char url[KUBE_URL_LEN + 4096];
	char *token = NULL, *auth = NULL;
	CURL *h = c->curl;
	CURLcode rc = CURLE_OK;
	int ret;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->cfg.server, path) >= sizeof(url)) {
		say(err, errlen, "request path too long");
		return -EINVAL;
	}
	ret = bearer_token(c, &token, err, errlen);
	if (ret)
		return ret;
	*headers = curl_slist_append(NULL, "Accept: application/json");
	if (token) {
		if (strpbrk(token, "\r\n")) {
			free(token);
			curl_slist_free_all(*headers);
			*headers = NULL;
			say(err, errlen, "the bearer token has a line break in it");
			return -EACCES;
		}
		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0)
			auth = NULL;
		/* The token must not outlive the request in our memory. */
		explicit_bzero(token, strlen(token));
		free(token);
		if (!auth) {
			curl_slist_free_all(*headers);
			*headers = NULL;
			return -ENOMEM;
		}
		if (*headers) {
			struct curl_slist *n = curl_slist_append(*headers, auth);

			if (!n)
				curl_slist_free_all(*headers);
			*headers = n;
		}
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (!*headers)
		return -ENOMEM;

	/* reset keeps the connection cache: the next request reuses the socket. */
	curl_easy_reset(h);
	c->errbuf[0] = '\0';
#define SET(opt, val)                                       \
	do {                                                \
		if (rc == CURLE_OK)                         \
			rc = curl_easy_setopt(h, opt, val); \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_HTTPHEADER, *headers);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)KUBE_CONNECT_TIMEOUT_MS);
	/* Keepalive probes notice a peer that vanished without a FIN sooner than
	 * the idle limit would. */
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 30L);
	SET(CURLOPT_TCP_KEEPINTVL, 10L);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_NOPROGRESS, 0L);
	SET(CURLOPT_XFERINFOFUNCTION, xferinfo);
	SET(CURLOPT_XFERINFODATA, c);
#undef SET
	if (rc == CURLE_OK && set_tls(c))
		rc = CURLE_BAD_FUNCTION_ARGUMENT;
	if (rc != CURLE_OK) {
		say(err, errlen, "%s: cannot set up the request: %s", c->cfg.server,
		    curl_easy_strerror(rc));
		curl_slist_free_all(*headers);
		*headers = NULL;
		return -EINVAL;
	}
	return 0;
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
		return -EPROTO;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return -ECONNRESET;
	default:
		return -EIO;
	}
}

/* After a 401, an exec credential is run again before the next request. */
static void after_status(struct kube_client *c, long status)
{
	if (status == 401 && c->has_cred) {
		pthread_mutex_lock(&c->cache->lock);
		kube_exec_cred_free(&c->cache->cred);
		c->cache->has = false;
		pthread_mutex_unlock(&c->cache->lock);
	}
}

/* What every request does first: clear the outputs, honour a stop, set up. */
static int begin(struct kube_client *c, const char *path_and_query, struct xfer *x,
		 struct curl_slist **headers, char **body, long *http_status, char *err,
		 size_t errlen)
{
	*body = NULL;
	*http_status = 0;
	if (stopped(c)) {
		say(err, errlen, "cancelled");
		return -ECANCELED;
	}
	return prepare(c, path_and_query, x, headers, err, errlen);
}

int kube_get_json(struct kube_client *c, const char *path_and_query, char **body, long *http_status,
		  char *err, size_t errlen)
{
	struct xfer x = { .c = c, .max = KUBE_BODY_MAX };
	struct curl_slist *headers = NULL;
	CURLcode rc;
	int ret;

	ret = begin(c, path_and_query, &x, &headers, body, http_status, err, errlen);
	if (ret)
		return ret;
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	/* Large lists compress well; curl inflates before on_data counts bytes. */
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http_status);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		free(x.buf);
		*http_status = 0;
		if (x.too_big) {
			say(err, errlen, "%s%s: response larger than %u MiB", c->cfg.server,
			    path_and_query, KUBE_BODY_MAX >> 20);
			return -EMSGSIZE;
		}
		ret = curl_errno(rc);
		say(err, errlen, "%s: %s", c->cfg.server,
		    ret == -ECANCELED ? "cancelled"
				      : (c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc)));
		return ret;
	}
	after_status(c, *http_status);
	if (!x.buf) {
		x.buf = strdup("");
		if (!x.buf)
			return -ENOMEM;
	}
	*body = x.buf;
	return 0;
}

int kube_watch(struct kube_client *c, const char *path_and_query, unsigned idle_timeout_s,
	       unsigned max_s, kube_line_fn fn, void *arg, long *http_status, char **body,
	       char *err, size_t errlen)
{
	struct xfer x = { .c = c, .max = KUBE_LINE_MAX, .watch = true, .fn = fn, .arg = arg };
	struct curl_slist *headers = NULL;
	CURLcode rc;
	int ret;

	ret = begin(c, path_and_query, &x, &headers, body, http_status, err, errlen);
	if (ret)
		return ret;
	/* A quiet node sends nothing but bookmarks for minutes: only a stream
	 * silent for longer than idle_timeout_s is taken for dead. */
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME,
			 (long)(idle_timeout_s ? idle_timeout_s : 1));
	if (max_s)
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)max_s);
	rc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http_status);
	curl_slist_free_all(headers);
	if (x.fn_stopped) {
		free(x.buf);
		return 0;
	}
	if (rc == CURLE_OK && *http_status != 200) {
		after_status(c, *http_status);
		*body = x.buf ? x.buf : strdup("");
		return *body ? 0 : -ENOMEM;
	}
	free(x.buf);
	if (rc == CURLE_OK)
		return 0;
	if (x.too_big) {
		say(err, errlen, "%s: watch event longer than %u MiB", c->cfg.server,
		    KUBE_LINE_MAX >> 20);
		return -EMSGSIZE;
	}
	ret = curl_errno(rc);
	if (ret == -ETIMEDOUT && *http_status == 200)
		say(err, errlen, "%s: watch silent for %u s: %s", c->cfg.server, idle_timeout_s,
		    c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	else
		say(err, errlen, "%s: %s", c->cfg.server,
		    ret == -ECANCELED ? "cancelled"
				      : (c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc)));
	return ret;
}

void kube_status_message(const struct kube_client *c, long status, const char *body,
			 const char *verb, const char *resource, char *err, size_t errlen)
{
	char reason[64], message[256];
	int code;

	if (!body || pod_json_status(body, strlen(body), &code, reason, sizeof(reason), message,
				     sizeof(message)))
		message[0] = '\0';
	if (status == 401)
		say(err, errlen,
		    "unauthorized (401) by %s: the credentials of %s were rejected (expired or "
		    "wrong token?)",
		    c->cfg.server, c->cfg.source);
	else if (status == 403)
		say(err, errlen, "forbidden (403): RBAC does not allow %s on %s%s%s", verb,
		    resource, message[0] ? ": " : "", message);
	else
		say(err, errlen, "%s %s: HTTP %ld from %s%s%s", verb, resource, status,
		    c->cfg.server, message[0] ? ": " : "", message);
}

bool kube_valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n >= K8S_NAME_LEN)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

int kube_get_controller(struct kube_client *c, const char *kind, const char *ns, const char *name,
			char *kind_out, size_t kindlen, char *name_out, size_t namelen, char *err,
			size_t errlen)
{
	const char *api, *plural, *resource;
	char path[2 * K8S_NAME_LEN + 128];
	char *body = NULL;
	long status;
	int ret;

	kind_out[0] = name_out[0] = '\0';
	if (!strcmp(kind, "ReplicaSet")) {
		api = "/apis/apps/v1";
		plural = "replicasets";
		resource = "replicasets.apps";
	} else if (!strcmp(kind, "Job")) {
		api = "/apis/batch/v1";
		plural = "jobs";
		resource = "jobs.batch";
	} else {
		say(err, errlen, "no owner lookup for kind %s", kind);
		return -EINVAL;
	}
	if (!kube_valid_name(ns) || !kube_valid_name(name)) {
		say(err, errlen, "invalid %s name %s/%s", kind, ns, name);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/namespaces/%s/%s/%s", api, ns, plural, name);
	ret = kube_get_json(c, path, &body, &status, err, errlen);
	if (ret)
		return ret;
	if (status == 200) {
		char why[128];

		ret = pod_json_controller(body, strlen(body), kind_out, kindlen, name_out, namelen,
					  why, sizeof(why));
		if (ret)
			say(err, errlen, "%s %s/%s: %s", kind, ns, name, why);
	} else if (status == 404) {
		say(err, errlen, "%s %s/%s not found", kind, ns, name);
		ret = -ENOENT;
	} else {
		kube_status_message(c, status, body, "get", resource, err, errlen);
		ret = status == 401 || status == 403 ? -EACCES : -EIO;
	}
	free(body);
	return ret;
}

bool kube_deployment_from_hash(const char *replicaset, const char *hash, char out[K8S_NAME_LEN])
{
	size_t rl = strlen(replicaset), hl = hash ? strlen(hash) : 0;

	out[0] = '\0';
	if (!hl || rl < hl + 2 || replicaset[rl - hl - 1] != '-' ||
	    strcmp(replicaset + rl - hl, hash))
		return false;
	snprintf(out, K8S_NAME_LEN, "%.*s", (int)(rl - hl - 1), replicaset);
	return true;
}

int kube_resolve_owners(struct kube_client *c, struct k8s_pod *pod, bool *fallback, char *err,
			size_t errlen)
{
	struct k8s_pod_meta *m = &pod->meta;
	char kind[K8S_KIND_LEN], name[K8S_NAME_LEN];
	int ret = 0;

	*fallback = false;
	if (m->replicaset[0]) {
		ret = kube_get_controller(c, "ReplicaSet", m->namespace_, m->replicaset, kind,
					  sizeof(kind), name, sizeof(name), err, errlen);
		if (!ret && !strcmp(kind, "Deployment"))
			snprintf(m->deployment, sizeof(m->deployment), "%s", name);
		else if (ret && kube_deployment_from_hash(m->replicaset, pod->template_hash,
							  m->deployment))
			*fallback = true;
		if (ret)
			return ret;
	}
	if (m->job[0]) {
		ret = kube_get_controller(c, "Job", m->namespace_, m->job, kind, sizeof(kind), name,
					  sizeof(name), err, errlen);
		if (!ret && !strcmp(kind, "CronJob"))
			snprintf(m->cronjob, sizeof(m->cronjob), "%s", name);
	}
	return ret;
}

int kube_get_pod(const struct kube_config *cfg, const char *ns, const char *name,
		 struct k8s_pod_meta *out, char *err, size_t errlen)
{
	struct kube_client *c;
	struct k8s_pod pod;
	char path[2 * K8S_NAME_LEN + 64], why[KUBE_CLIENT_ERR_LEN];
	char *body = NULL;
	long status;
	bool fallback;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!kube_valid_name(ns) || !kube_valid_name(name)) {
		say(err, errlen, "invalid pod name %s/%s", ns ? ns : "", name ? name : "");
		return -EINVAL;
	}
	c = kube_client_new(cfg);
	if (!c) {
		ret = -errno;
		say(err, errlen, "cannot create a kubernetes client: %s", strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	ret = kube_get_json(c, path, &body, &status, err, errlen);
	if (ret)
		goto out;
	if (status == 404) {
		say(err, errlen, "pod %s/%s not found", ns, name);
		ret = -ENOENT;
	} else if (status != 200) {
		kube_status_message(c, status, body, "get", "pods", err, errlen);
		ret = status == 401 || status == 403 ? -EACCES : -EIO;
	} else if (pod_json_parse(body, strlen(body), &pod, why, sizeof(why))) {
		say(err, errlen, "pod %s/%s: %s", ns, name, why);
		ret = -EINVAL;
	} else {
		/* Owners are a nicety for the CLI: a failed lookup leaves the
		 * fallback's answer (or none) rather than failing the pod. */
		kube_resolve_owners(c, &pod, &fallback, why, sizeof(why));
		*out = pod.meta;
	}
out:
	free(body);
	kube_client_free(c);
	return ret;
}
