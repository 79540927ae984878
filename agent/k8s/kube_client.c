/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes API over libcurl, HTTP/1.1. A watch is a long GET whose chunked
 * body is one JSON WatchEvent per line (API concepts, "Efficient detection of
 * changes"); it is cut by the stop flag through the progress callback, which
 * curl calls about once a second even when no data moves. Credentials come from
 * kube_credentials.c for every request.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "k8s/kube_client.h"
#include "k8s/kube_credentials.h"
#include "k8s/pod_json.h"
#include "util/byte_buf.h"

#ifdef SONDE_VERSION
#define USER_AGENT "sonde/" SONDE_VERSION
#else
#define USER_AGENT "sonde"
#endif

#define ERR_BODY_MAX (64u << 10) /* an error Status body is small */

struct kube_client {
	struct kube_config cfg;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	const atomic_bool *stop;
	unsigned timeout_ms;
	struct kube_cred_cache *cache;
	/* This request's credentials (the exec plugin's certificate for the TLS
	 * options; the token is wiped once it is in the header). */
	struct kube_request_cred cred;
};

/* Per-transfer state for the write callbacks. */
struct xfer {
	struct kube_client *c;
	struct byte_buf b;
	/* watch */
	bool watch;
	long status;
	kube_line_fn fn;
	void *arg;
	bool fn_stopped;
};

void kube_err(char *err, size_t errlen, const char *fmt, ...)
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

void kube_client_share_credentials(struct kube_client *dst, struct kube_client *src)
{
	if (dst->cache == src->cache)
		return;
	kube_cred_cache_put(dst->cache);
	kube_cred_cache_hold(src->cache);
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
	c->cache = kube_cred_cache_new();
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
	kube_request_cred_free(&c->cred);
	kube_cred_cache_put(c->cache);
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
		return byte_buf_add(&x->b, data, n) ? 0 : n;
	if (x->status != 200) {
		/* An error Status is small; keep its start, drop the rest. */
		size_t take = x->b.len < ERR_BODY_MAX ? ERR_BODY_MAX - x->b.len : 0;

		if (take > n)
			take = n;
		return !take || !byte_buf_add(&x->b, data, take) ? n : 0;
	}

	for (size_t off = 0; off < n;) {
		char *nl = memchr(data + off, '\n', n - off);
		size_t take = nl ? (size_t)(nl - (data + off)) : n - off;

		if (byte_buf_add(&x->b, data + off, take))
			return 0;
		off += take;
		if (!nl)
			break;
		off++; /* the newline */
		while (x->b.len && x->b.data[x->b.len - 1] == '\r')
			x->b.data[--x->b.len] = '\0';
		if (x->b.len && x->fn(x->b.data, x->b.len, x->arg)) {
			x->fn_stopped = true;
			return 0;
		}
		x->b.len = 0;
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
	if (!rc && c->cred.has_exec && c->cred.exec.cert_data && c->cred.exec.key_data) {
		struct curl_blob cb = { c->cred.exec.cert_data, strlen(c->cred.exec.cert_data),
					CURL_BLOB_COPY };
		struct curl_blob kb = { c->cred.exec.key_data, strlen(c->cred.exec.key_data),
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
	if (!rc && !(c->cred.has_exec && c->cred.exec.key_data)) {
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
		kube_err(err, errlen, "request path too long");
		return -EINVAL;
	}
	ret = kube_request_cred_get(&c->cred, &c->cfg, c->cache, c->stop, err, errlen);
	if (ret)
		return ret;
	token = c->cred.token;
	c->cred.token = NULL;
	*headers = curl_slist_append(NULL, "Accept: application/json");
	if (token) {
		if (strpbrk(token, "\r\n")) {
			free(token);
			curl_slist_free_all(*headers);
			*headers = NULL;
			kube_err(err, errlen, "the bearer token has a line break in it");
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
		kube_err(err, errlen, "%s: cannot set up the request: %s", c->cfg.server,
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
	if (status == 401 && c->cred.has_exec)
		kube_cred_cache_forget(c->cache);
}

/* What every request does first: clear the outputs, honour a stop, set up. */
static int begin(struct kube_client *c, const char *path_and_query, struct xfer *x,
		 struct curl_slist **headers, char **body, long *http_status, char *err,
		 size_t errlen)
{
	*body = NULL;
	*http_status = 0;
	if (stopped(c)) {
		kube_err(err, errlen, "cancelled");
		return -ECANCELED;
	}
	return prepare(c, path_and_query, x, headers, err, errlen);
}

/* Runs the request begin() set up; the headers go with it. */
static CURLcode perform(struct kube_client *c, struct curl_slist *headers, long *http_status)
{
	CURLcode rc = curl_easy_perform(c->curl);

	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, http_status);
	curl_slist_free_all(headers);
	return rc;
}

/* What curl said about a failed transfer. */
static const char *curl_reason(const struct kube_client *c, CURLcode rc)
{
	return c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
}

/* A transfer that failed: its -errno, with err naming the server and the reason. */
static int transfer_error(const struct kube_client *c, CURLcode rc, char *err, size_t errlen)
{
	int ret = curl_errno(rc);

	kube_err(err, errlen, "%s: %s", c->cfg.server,
		 ret == -ECANCELED ? "cancelled" : curl_reason(c, rc));
	return ret;
}

int kube_get_json(struct kube_client *c, const char *path_and_query, char **body, long *http_status,
		  char *err, size_t errlen)
{
	struct xfer x = { .c = c, .b.max = KUBE_BODY_MAX };
	struct curl_slist *headers = NULL;
	CURLcode rc;
	int ret;

	ret = begin(c, path_and_query, &x, &headers, body, http_status, err, errlen);
	if (ret)
		return ret;
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	/* Large lists compress well; curl inflates before on_data counts bytes. */
	curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
	rc = perform(c, headers, http_status);
	if (rc != CURLE_OK) {
		free(x.b.data);
		*http_status = 0;
		if (x.b.too_big) {
			kube_err(err, errlen, "%s%s: response larger than %u MiB", c->cfg.server,
				 path_and_query, KUBE_BODY_MAX >> 20);
			return -EMSGSIZE;
		}
		return transfer_error(c, rc, err, errlen);
	}
	after_status(c, *http_status);
	if (!x.b.data) {
		x.b.data = strdup("");
		if (!x.b.data)
			return -ENOMEM;
	}
	*body = x.b.data;
	return 0;
}

int kube_watch(struct kube_client *c, const char *path_and_query, unsigned idle_timeout_s,
	       unsigned max_s, kube_line_fn fn, void *arg, long *http_status, char **body,
	       char *err, size_t errlen)
{
	struct xfer x = { .c = c, .b.max = KUBE_LINE_MAX, .watch = true, .fn = fn, .arg = arg };
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
	rc = perform(c, headers, http_status);
	if (x.fn_stopped) {
		free(x.b.data);
		return 0;
	}
	if (rc == CURLE_OK && *http_status != 200) {
		after_status(c, *http_status);
		*body = x.b.data ? x.b.data : strdup("");
		return *body ? 0 : -ENOMEM;
	}
	free(x.b.data);
	if (rc == CURLE_OK)
		return 0;
	if (x.b.too_big) {
		kube_err(err, errlen, "%s: watch event longer than %u MiB", c->cfg.server,
			 KUBE_LINE_MAX >> 20);
		return -EMSGSIZE;
	}
	if (curl_errno(rc) == -ETIMEDOUT && *http_status == 200) {
		kube_err(err, errlen, "%s: watch silent for %u s: %s", c->cfg.server,
			 idle_timeout_s, curl_reason(c, rc));
		return -ETIMEDOUT;
	}
	return transfer_error(c, rc, err, errlen);
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
		kube_err(
			err, errlen,
			"unauthorized (401) by %s: the credentials of %s were rejected (expired or "
			"wrong token?)",
			c->cfg.server, c->cfg.source);
	else if (status == 403)
		kube_err(err, errlen, "forbidden (403): RBAC does not allow %s on %s%s%s", verb,
			 resource, message[0] ? ": " : "", message);
	else
		kube_err(err, errlen, "%s %s: HTTP %ld from %s%s%s", verb, resource, status,
			 c->cfg.server, message[0] ? ": " : "", message);
}
