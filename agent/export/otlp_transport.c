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
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "protocols/http2/grpc.h"
#include "util/log.h"
#include "export/gzip.h"
#include "export/otlp_transport.h"

/* The part of a response body kept for the error detail. A collector's error
 * message fits; a hostile one cannot make us buffer more. */
#define RESP_KEEP 4096
/* Past this much body the transfer is cut: the status is known by then and
 * reading on would only hold the exporter thread until the timeout. */
#define RESP_ABORT (1024 * 1024)
/* OTLP leaves the cap on server-requested delays to the client; five minutes
 * keeps a misconfigured collector from parking the exporter for hours. */
#define RETRY_AFTER_MAX_MS (5u * 60u * 1000u)
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

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3), in ms, capped. */
static uint32_t retry_after_ms(const char *v)
{
	uint64_t secs = 0;
	const char *p = v;

	if (!*v)
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		secs = secs * 10 + (uint64_t)(*p - '0');
		if (secs > RETRY_AFTER_MAX_MS / 1000)
			return RETRY_AFTER_MAX_MS;
	}
	if (p == v || *p) {
		time_t when = curl_getdate(v, NULL);
		time_t now = time(NULL);

		if (when == -1 || when <= now)
			return 0;
		if ((uint64_t)(when - now) > RETRY_AFTER_MAX_MS / 1000)
			return RETRY_AFTER_MAX_MS;
		secs = (uint64_t)(when - now);
	}
	return (uint32_t)(secs * 1000);
}

/* Replaces what would garble a log line. */
static void sanitize(char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
	}
}

/* grpc-message is percent-encoded (PROTOCOL-HTTP2.md, Responses). */
static void percent_decode(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], '\0' };

			*out++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/*
 * OTLP/HTTP error bodies are a google.rpc.Status (OTLP spec, "Failures"); its
 * field 2 is the message. Finds it in what was kept of the body, or gives up.
 */
static bool status_message(const uint8_t *p, size_t len, char *dst, size_t size)
{
	const uint8_t *end = p + len;
	uint64_t key, n;

	while (p < end) {
		if (!read_varint(&p, end, &key))
			return false;
		switch (key & 7) {
		case 0:
			if (!read_varint(&p, end, &n))
				return false;
			break;
		case 1:
		case 5:
			n = (key & 7) == 1 ? 8 : 4;
			if ((uint64_t)(end - p) < n)
				return false;
			p += n;
			break;
		case 2:
			if (!read_varint(&p, end, &n) || (uint64_t)(end - p) < n)
				return false;
			if (key >> 3 == 2) {
				if (n >= size)
					n = size - 1;
				memcpy(dst, p, n);
				dst[n] = '\0';
				return true;
			}
			p += n;
			break;
		default:
			return false;
		}
	}
	return false;
}

/* A short reason from an HTTP error body: Status.message for protobuf, the start
 * of the text for JSON or plain text, nothing for anything else. */
static void body_reason(const struct otlp_transport *t, char *dst, size_t size)
{
	dst[0] = '\0';
	if (!t->body_len)
		return;
	if (!strncasecmp(t->content_type, "application/x-protobuf", 22) ||
	    !strncasecmp(t->content_type, "application/protobuf", 20)) {
		if (!status_message((const uint8_t *)t->body, t->body_len, dst, size))
			dst[0] = '\0';
	} else if (!strncasecmp(t->content_type, "text/", 5) ||
		   !strncasecmp(t->content_type, "application/json", 16)) {
		size_t n = t->body_len < size - 1 ? t->body_len : size - 1;

		memcpy(dst, t->body, n);
		dst[n] = '\0';
		/* A body with a NUL would end the string early; that is fine. */
	}
	sanitize(dst);
}

/* The codes the OTLP specification lists as retryable for OTLP/gRPC. */
static bool grpc_retryable(int code)
{
	switch (code) {
	case 1:	 /* CANCELLED */
	case 4:	 /* DEADLINE_EXCEEDED */
	case 8:	 /* RESOURCE_EXHAUSTED */
	case 10: /* ABORTED */
	case 11: /* OUT_OF_RANGE */
	case 14: /* UNAVAILABLE */
	case 15: /* DATA_LOSS */
		return true;
	default:
		return false;
	}
}

static bool http_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
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

static void outcome_set(struct export_outcome *out, enum export_result result, uint32_t after,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void outcome_set(struct export_outcome *out, enum export_result result, uint32_t after,
			const char *fmt, ...)
{
	va_list ap;

	out->result = result;
	out->retry_after_ms = after;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
	sanitize(out->detail);
}

static void classify_http(struct otlp_transport *t, long status, struct export_outcome *out)
{
	char reason[160];

	if (status >= 200 && status < 300) {
		outcome_set(out, EXPORT_OK, 0, "HTTP %ld", status);
		return;
	}
	body_reason(t, reason, sizeof(reason));
	outcome_set(out, http_retryable(status) ? EXPORT_RETRY : EXPORT_FAIL,
		    http_retryable(status) ? retry_after_ms(t->retry_after) : 0, "HTTP %ld%s%s",
		    status, reason[0] ? ": " : "", reason);
}

static void classify_grpc(struct otlp_transport *t, long status, struct export_outcome *out)
{
	int code = t->grpc_status;

	if (code < 0) {
		/* No gRPC answer at all: a proxy or load balancer in the way. Its 5xx
		 * "try later" statuses still mean try later. */
		outcome_set(out, http_retryable(status) ? EXPORT_RETRY : EXPORT_FAIL,
			    http_retryable(status) ? retry_after_ms(t->retry_after) : 0,
			    "HTTP %ld, no grpc-status", status);
		return;
	}
	percent_decode(t->grpc_message);
	/* The retry delay a server may put in google.rpc.RetryInfo (the
	 * grpc-status-details-bin trailer) is ignored: decoding it needs a protobuf
	 * Any parser for one optional hint, and the exporter's own backoff is fine. */
	if (code == 0)
		outcome_set(out, EXPORT_OK, 0, "grpc-status 0");
	else
		outcome_set(out, grpc_retryable(code) ? EXPORT_RETRY : EXPORT_FAIL, 0,
			    "grpc-status %d %s%s%s", code, grpc_status_name(code),
			    t->grpc_message[0] ? ": " : "", t->grpc_message);
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
	if ((unsigned)signal > OTLP_SIGNAL_METRICS) {
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
		size_t n = strlen(target->url);

		/* The target URL is scheme://host:port; tolerate a trailing slash. */
		while (n && target->url[n - 1] == '/')
			n--;
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
		outcome_set(out, EXPORT_FAIL, 0, "cannot prepare request: %s", strerror(-err));
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

		outcome_set(out, curl_error_permanent(rc) ? EXPORT_FAIL : EXPORT_RETRY, 0, "%s",
			    why);
		return;
	}
	if (t->protocol == OTLP_PROTOCOL_GRPC)
		classify_grpc(t, status, out);
	else
		classify_http(t, status, out);
}
