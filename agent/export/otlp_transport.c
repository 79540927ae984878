/* SPDX-License-Identifier: MIT */
/*
 * OTLP/HTTP (protobuf) and OTLP/gRPC with one reused libcurl easy handle per
 * transport, so the connection to the collector stays open between exports.
 *
 * OTLP/gRPC needs no gRPC library: a unary call is an HTTP/2 POST of one
 * length-prefixed message whose outcome is in the grpc-status header or trailer
 * (gRPC over HTTP/2, doc/PROTOCOL-HTTP2.md in grpc/grpc).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "export/gzip.h"
#include "export/otlp_response.h"
#include "export/otlp_transport.h"
#include "util/log.h"
#include "util/url.h"

/* The part of a response body kept for the error detail. A collector's error
 * message fits; a hostile one cannot make us buffer more. */
#define RESP_KEEP 4096
/* Past this much body the transfer is cut: the status is known by then and
 * reading on would only hold the exporter thread until the timeout. */
#define RESP_ABORT	   (1024 * 1024)
#define DEFAULT_TIMEOUT_MS 10000u /* the OTLP exporter default */

/* gRPC length-prefixed message: 1 byte compressed flag, 4 bytes big-endian size. */
#define GRPC_PREFIX_LEN 5

#ifdef SONDE_VERSION
#define USER_AGENT "sonde/" SONDE_VERSION
#else
#define USER_AGENT "sonde"
#endif

struct otlp_transport {
	CURL *curl;
	struct curl_slist *headers;
	enum otlp_protocol protocol;
	bool gzip;
	char errbuf[CURL_ERROR_SIZE];

	/* Per-request response state, reset by otlp_transport_send(). */
	char body[RESP_KEEP];
	size_t body_len;
	size_t body_total;
	bool body_cut;
	char content_type[64];
	char retry_after[64];
	int grpc_status; /* -1: not seen */
	char grpc_message[160];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int otlp_transport_global_init(void)
{
	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK) {
		log_error("failed to initialise libcurl: %s", curl_easy_strerror(global_rc));
		return -EIO;
	}
	return 0;
}

static const char *const grpc_paths[] = {
	[OTLP_SIGNAL_TRACES] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	[OTLP_SIGNAL_METRICS] = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	[OTLP_SIGNAL_LOGS] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

/* Headers the transport sets itself; a user header of the same name would make
 * the request ambiguous or break the framing. */
static const char *const reserved_headers[] = {
	"content-type",
	"content-length",
	"content-encoding",
	"transfer-encoding",
	"te",
	"connection",
	"expect",
	"grpc-encoding",
	"grpc-accept-encoding",
	"grpc-timeout",
};

static bool header_reserved(const char *name)
{
	for (size_t i = 0; i < sizeof(reserved_headers) / sizeof(reserved_headers[0]); i++) {
		if (!strcasecmp(name, reserved_headers[i]))
			return true;
	}
	return false;
}

/* RFC 9110 5.1 field-name token, and a value without CR, LF or NUL: anything else
 * could smuggle a second header line into the request. */
static bool header_valid(const char *name, const char *value)
{
	if (!*name)
		return false;
	for (const char *p = name; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return false;
	}
	for (const char *p = value; *p; p++) {
		if (*p == '\r' || *p == '\n')
			return false;
	}
	return true;
}

static int headers_append(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (!n)
		return -ENOMEM;
	*list = n;
	return 0;
}

/* grpc-timeout: at most 8 digits and a unit (PROTOCOL-HTTP2.md, Timeout). */
static void grpc_timeout_header(char *buf, size_t size, uint32_t timeout_ms)
{
	if (timeout_ms <= 99999999u)
		snprintf(buf, size, "grpc-timeout: %um", timeout_ms);
	else
		snprintf(buf, size, "grpc-timeout: %uS", timeout_ms / 1000u);
}

static int build_headers(struct otlp_transport *t, const struct otlp_target *target,
			 uint32_t timeout_ms)
{
	char line[CONFIG_KEY_LEN + CONFIG_VALUE_LEN + 4];
	char timeout[32];
	const char *fixed[5];
	int nfixed = 0;
	int err;

	if (t->protocol == OTLP_PROTOCOL_GRPC) {
		grpc_timeout_header(timeout, sizeof(timeout), timeout_ms);
		fixed[nfixed++] = "content-type: application/grpc";
		/* Required by gRPC: it tells proxies the client understands trailers. */
		fixed[nfixed++] = "te: trailers";
		fixed[nfixed++] = timeout;
		if (t->gzip)
			fixed[nfixed++] = "grpc-encoding: gzip";
		/* Drops the Accept header curl adds by default; gRPC has no use for it. */
		fixed[nfixed++] = "Accept:";
	} else {
		fixed[nfixed++] = "Content-Type: application/x-protobuf";
		if (t->gzip)
			fixed[nfixed++] = "Content-Encoding: gzip";
		/* curl waits for "100 Continue" before large HTTP/1.1 bodies; collectors
		 * do not need the round trip. */
		fixed[nfixed++] = "Expect:";
	}
	for (int i = 0; i < nfixed; i++) {
		err = headers_append(&t->headers, fixed[i]);
		if (err)
			return err;
	}

	for (int i = 0; i < target->headers.n; i++) {
		const struct config_kv *kv = &target->headers.items[i];

		if (!header_valid(kv->key, kv->value)) {
			log_warn("otlp: ignoring header %s: not a valid HTTP header", kv->key);
			continue;
		}
		if (header_reserved(kv->key)) {
			log_warn("otlp: ignoring header %s: the exporter sets it", kv->key);
			continue;
		}
		/* "name;" is curl's spelling of a header with an empty value ("name:"
		 * would remove it). gRPC metadata keys are lowercase (PROTOCOL-HTTP2.md). */
		if (kv->value[0])
			snprintf(line, sizeof(line), "%s: %s", kv->key, kv->value);
		else
			snprintf(line, sizeof(line), "%s;", kv->key);
		if (t->protocol == OTLP_PROTOCOL_GRPC) {
			for (char *p = line; *p && *p != ':' && *p != ';'; p++)
				*p = (char)tolower((unsigned char)*p);
		}
		err = headers_append(&t->headers, line);
		if (err)
			return err;
	}
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct otlp_transport *t = arg;
	size_t n = size * nmemb;

	if (t->body_len < sizeof(t->body)) {
		size_t take = sizeof(t->body) - t->body_len;

		if (take > n)
			take = n;
		memcpy(t->body + t->body_len, data, take);
		t->body_len += take;
	}
	t->body_total += n;
	if (t->body_total > RESP_ABORT) {
		t->body_cut = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return n;
}

/* Copies a header value without leading/trailing white space and the CRLF. */
static void header_value(char *dst, size_t size, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
		      size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n))
		return false;
	*value = line + n + 1;
	*vlen = len - n - 1;
	return true;
}

/* libcurl calls this for every header line of every response on the transfer, and
 * for HTTP/2 trailers too, which is where grpc-status normally is. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *arg)
{
	struct otlp_transport *t = arg;
	size_t len = size * nmemb;
	const char *v;
	size_t vlen;
	char num[16];

	if (len >= 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new response (after a 1xx): forget the previous one's headers. */
		t->content_type[0] = '\0';
		t->retry_after[0] = '\0';
	} else if (header_is(line, len, "content-type", &v, &vlen)) {
		header_value(t->content_type, sizeof(t->content_type), v, vlen);
	} else if (header_is(line, len, "retry-after", &v, &vlen)) {
		header_value(t->retry_after, sizeof(t->retry_after), v, vlen);
	} else if (header_is(line, len, "grpc-status", &v, &vlen)) {
		char *end;
		long code;

		header_value(num, sizeof(num), v, vlen);
		errno = 0;
		code = strtol(num, &end, 10);
		if (!errno && end != num && !*end && code >= 0 && code <= INT_MAX)
			t->grpc_status = (int)code;
	} else if (header_is(line, len, "grpc-message", &v, &vlen)) {
		header_value(t->grpc_message, sizeof(t->grpc_message), v, vlen);
	}
	return len;
}

/* curl errors that come from our configuration, not from the network or the
 * collector: sending the same request again would fail the same way. */
static bool curl_error_permanent(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_PEER_FAILED_VERIFICATION:
		return true;
	default:
		return false;
	}
}

struct otlp_transport *otlp_transport_new(const struct otlp_target *target, enum otlp_signal signal)
{
	struct otlp_transport *t = NULL;
	const char *what = NULL;
	char url[CONFIG_URL_LEN + 80];
	uint32_t timeout_ms;
	CURLcode rc = CURLE_OK;
	int err;

	err = otlp_transport_global_init();
	if (err) {
		errno = -err;
		return NULL;
	}
	if ((unsigned)signal > OTLP_SIGNAL_LOGS) {
		errno = EINVAL;
		return NULL;
	}
	if (target->protocol == OTLP_PROTOCOL_GRPC &&
	    !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2)) {
		log_error("otlp: libcurl was built without HTTP/2, which OTLP/gRPC needs");
		errno = ENOTSUP;
		return NULL;
	}

	t = calloc(1, sizeof(*t));
	if (!t) {
		err = -ENOMEM;
		goto fail;
	}
	t->protocol = target->protocol;
	t->gzip = target->compression == OTLP_COMPRESSION_GZIP;
	t->grpc_status = -1;

	t->curl = curl_easy_init();
	if (!t->curl) {
		err = -ENOMEM;
		goto fail;
	}
	timeout_ms = target->timeout_ms ? target->timeout_ms : DEFAULT_TIMEOUT_MS;
	err = build_headers(t, target, timeout_ms);
	if (err)
		goto fail;

	if (t->protocol == OTLP_PROTOCOL_GRPC) {
		/* The target URL is scheme://host:port; tolerate a trailing slash. */
		size_t n = url_trimmed_len(target->url);

		snprintf(url, sizeof(url), "%.*s%s", (int)n, target->url, grpc_paths[signal]);
	} else {
		snprintf(url, sizeof(url), "%s", target->url);
	}

#define SET(opt, val)                                     \
	do {                                              \
		rc = curl_easy_setopt(t->curl, opt, val); \
		if (rc != CURLE_OK) {                     \
			what = #opt;                      \
			goto fail;                        \
		}                                         \
	} while (0)

	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_POST, 1L);
	SET(CURLOPT_HTTPHEADER, t->headers);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	/* The exporter runs on its own thread: no SIGALRM for DNS timeouts. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	/* A request body goes through this buffer: at libcurl's 64 KiB a batch of
	 * 512 spans (~260 KiB) took five copy-and-send rounds, at 512 KiB one
	 * (per export, 2 sendto and 5 poll calls instead of 6 and 13). */
	SET(CURLOPT_UPLOAD_BUFFERSIZE, 512 * 1024L);
	/* Only ever talk HTTP(S), even if a redirect or odd URL says otherwise. */
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, t);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, t);
	if (t->protocol == OTLP_PROTOCOL_GRPC) {
		/* gRPC is HTTP/2 only: cleartext collectors speak h2c without an
		 * Upgrade dance (prior knowledge), TLS ones negotiate h2 by ALPN. */
		if (!strncasecmp(target->url, "https://", 8)) {
			SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
		} else {
			SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
			/* libcurl before 8.0.0 (7.88.1 in Debian 12) fails every request
			 * that reuses a prior-knowledge h2c connection with "Error in the
			 * HTTP2 framing layer" (curl issue 10634, fixed by curl PR 10643):
			 * there, take a new connection per export. */
			if (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
				SET(CURLOPT_FORBID_REUSE, 1L);
		}
	}
	if (target->certificate[0])
		SET(CURLOPT_CAINFO, target->certificate);
	if (target->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
#undef SET
	return t;

fail:
	if (what) {
		log_error("otlp: failed to set %s for %s: %s", what, url, curl_easy_strerror(rc));
		err = rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
	} else {
		log_error("otlp: failed to set up libcurl: %s", strerror(-err));
	}
	otlp_transport_free(t);
	errno = -err;
	return NULL;
}

void otlp_transport_free(struct otlp_transport *t)
{
	if (!t)
		return;
	if (t->curl)
		curl_easy_cleanup(t->curl);
	curl_slist_free_all(t->headers);
	free(t);
}

/* Compresses (when asked) and, for gRPC, frames the body. *buf is what to free. */
static int prepare_body(struct otlp_transport *t, const uint8_t *body, size_t len, uint8_t **buf,
			const uint8_t **data, size_t *dlen)
{
	uint8_t *z = NULL;
	size_t zlen = 0;
	int err;

	*buf = NULL;
	*data = body;
	*dlen = len;
	if (t->gzip) {
		err = gzip_compress(body, len, &z, &zlen);
		if (err)
			return err;
		*buf = z;
		*data = z;
		*dlen = zlen;
	}
	if (t->protocol != OTLP_PROTOCOL_GRPC)
		return 0;

	if (*dlen > UINT32_MAX) {
		free(z);
		*buf = NULL;
		return -E2BIG;
	}
	*buf = malloc(GRPC_PREFIX_LEN + *dlen);
	if (!*buf) {
		free(z);
		return -ENOMEM;
	}
	/* Compressed-Flag 1 says the message is in the grpc-encoding of the call. */
	(*buf)[0] = t->gzip ? 1 : 0;
	(*buf)[1] = (uint8_t)(*dlen >> 24);
	(*buf)[2] = (uint8_t)(*dlen >> 16);
	(*buf)[3] = (uint8_t)(*dlen >> 8);
	(*buf)[4] = (uint8_t)*dlen;
	if (*dlen)
		memcpy(*buf + GRPC_PREFIX_LEN, *data, *dlen);
	*data = *buf;
	*dlen += GRPC_PREFIX_LEN;
	free(z);
	return 0;
}

void otlp_transport_send(struct otlp_transport *t, const uint8_t *body, size_t len,
			 struct export_outcome *out)
{
	static const uint8_t empty[1];
	const uint8_t *data;
	uint8_t *buf;
	size_t dlen;
	long status = 0;
	CURLcode rc;
	int err;

	memset(out, 0, sizeof(*out));
	err = prepare_body(t, body ? body : empty, body ? len : 0, &buf, &data, &dlen);
	if (err) {
		otlp_outcome_set(out, EXPORT_FAIL, 0, "cannot prepare request: %s", strerror(-err));
		return;
	}

	t->errbuf[0] = '\0';
	t->body_len = 0;
	t->body_total = 0;
	t->body_cut = false;
	t->content_type[0] = '\0';
	t->retry_after[0] = '\0';
	t->grpc_status = -1;
	t->grpc_message[0] = '\0';

	rc = curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)dlen);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, (const char *)data);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(t->curl);
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	/* POSTFIELDS points into buf: drop it before buf goes. */
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, NULL);
	free(buf);

	if (rc == CURLE_WRITE_ERROR && t->body_cut && status) {
		/* We cut an endless body short; the status line had arrived. */
		rc = CURLE_OK;
	}
	if (rc != CURLE_OK) {
		const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);

		otlp_outcome_set(out, curl_error_permanent(rc) ? EXPORT_FAIL : EXPORT_RETRY, 0,
				 "%s", why);
		return;
	}
	otlp_response_classify(&(struct otlp_response){ .http_status = status,
							.content_type = t->content_type,
							.retry_after = t->retry_after,
							.grpc_status = t->grpc_status,
							.grpc_message = t->grpc_message,
							.body = (const uint8_t *)t->body,
							.body_len = t->body_len },
			       t->protocol == OTLP_PROTOCOL_GRPC, time(NULL), out);
}
