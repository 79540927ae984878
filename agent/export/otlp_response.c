/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "export/otlp_response.h"
#include "protocols/http2/grpc.h"

/* Replaces what would garble a log line. */
static void sanitize(char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
	}
}

void otlp_outcome_set(struct export_outcome *out, enum export_result result,
		      uint32_t retry_after_ms, const char *fmt, ...)
{
	va_list ap;

	out->result = result;
	out->retry_after_ms = retry_after_ms;
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
	sanitize(out->detail);
}

/* --- HTTP-date (RFC 9110 5.6.7) ---------------------------------------------- */

static const char *const month_names[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const day_names[7] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const long_day_names[7] = { "Monday", "Tuesday",  "Wednesday", "Thursday",
					       "Friday", "Saturday", "Sunday" };

/* A cursor over the date; the first mismatch clears ok and every later step
 * then does nothing. */
struct scan {
	const char *p;
	bool ok;
};

static void expect(struct scan *s, const char *text)
{
	size_t n = strlen(text);

	if (s->ok && !strncmp(s->p, text, n))
		s->p += n;
	else
		s->ok = false;
}

/* Exactly ndigits digits. */
static int number(struct scan *s, int ndigits)
{
	int v = 0;

	for (int i = 0; s->ok && i < ndigits; i++, s->p++) {
		if (!isdigit((unsigned char)*s->p)) {
			s->ok = false;
			break;
		}
		v = v * 10 + (*s->p - '0');
	}
	return v;
}

/* One of names, whole (case as senders are lenient about it); its index. */
static int name(struct scan *s, const char *const *names, int count)
{
	for (int i = 0; s->ok && i < count; i++) {
		size_t n = strlen(names[i]);

		if (!strncasecmp(s->p, names[i], n) && !isalpha((unsigned char)s->p[n])) {
			s->p += n;
			return i;
		}
	}
	s->ok = false;
	return 0;
}

static void hms(struct scan *s, struct tm *tm)
{
	tm->tm_hour = number(s, 2);
	expect(s, ":");
	tm->tm_min = number(s, 2);
	expect(s, ":");
	tm->tm_sec = number(s, 2);
}

/*
 * IMF-fixdate, the form senders must use: "Sun, 06 Nov 1994 08:49:37 GMT", and
 * the obsolete RFC 850 form, the same fields with a long day name, dashes and a
 * two-digit year: "Sunday, 06-Nov-94 08:49:37 GMT" (years below 70 are 20xx).
 */
static bool gmt_date(const char *text, bool rfc850, struct tm *tm)
{
	const char *sep = rfc850 ? "-" : " ";
	struct scan s = { text, true };
	int year;

	name(&s, rfc850 ? long_day_names : day_names, 7);
	expect(&s, ", ");
	tm->tm_mday = number(&s, 2);
	expect(&s, sep);
	tm->tm_mon = name(&s, month_names, 12);
	expect(&s, sep);
	year = number(&s, rfc850 ? 2 : 4);
	if (rfc850)
		year += year < 70 ? 2000 : 1900;
	tm->tm_year = year - 1900;
	expect(&s, " ");
	hms(&s, tm);
	expect(&s, " GMT");
	return s.ok && !*s.p;
}

/* Obsolete asctime: "Sun Nov  6 08:49:37 1994" (a one-digit day after two spaces). */
static bool asctime_date(const char *text, struct tm *tm)
{
	struct scan s = { text, true };

	name(&s, day_names, 7);
	expect(&s, " ");
	tm->tm_mon = name(&s, month_names, 12);
	expect(&s, " ");
	if (s.ok && *s.p == ' ') {
		s.p++;
		tm->tm_mday = number(&s, 1);
	} else {
		tm->tm_mday = number(&s, 2);
	}
	expect(&s, " ");
	hms(&s, tm);
	expect(&s, " ");
	tm->tm_year = number(&s, 4) - 1900;
	return s.ok && !*s.p;
}

static int days_in_month(int year, int mon)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 1 && leap ? 29 : days[mon];
}

/* An HTTP-date in any of its three forms as seconds since the epoch. */
static bool http_date(const char *text, time_t *out)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (!gmt_date(text, false, &tm) && !gmt_date(text, true, &tm) && !asctime_date(text, &tm))
		return false;
	/* 60 is a leap second. */
	if (tm.tm_mday < 1 || tm.tm_mday > days_in_month(tm.tm_year + 1900, tm.tm_mon) ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = t;
	return true;
}

/* --- classification -------------------------------------------------------- */

uint32_t otlp_retry_after_ms(const char *value, time_t now)
{
	uint64_t secs = 0;
	const char *p = value;
	time_t when;

	if (!*value)
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		secs = secs * 10 + (uint64_t)(*p - '0');
		if (secs > OTLP_RETRY_AFTER_MAX_MS / 1000)
			return OTLP_RETRY_AFTER_MAX_MS;
	}
	if (p == value || *p) {
		if (!http_date(value, &when) || when <= now)
			return 0;
		if ((uint64_t)(when - now) > OTLP_RETRY_AFTER_MAX_MS / 1000)
			return OTLP_RETRY_AFTER_MAX_MS;
		secs = (uint64_t)(when - now);
	}
	return (uint32_t)(secs * 1000);
}

bool otlp_grpc_retryable(int code)
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

bool otlp_http_retryable(long status)
{
	return status == 429 || status == 502 || status == 503 || status == 504;
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
static void body_reason(const struct otlp_response *r, char *dst, size_t size)
{
	const char *type = r->content_type;

	dst[0] = '\0';
	if (!r->body_len)
		return;
	if (!strncasecmp(type, "application/x-protobuf", 22) ||
	    !strncasecmp(type, "application/protobuf", 20)) {
		if (!status_message(r->body, r->body_len, dst, size))
			dst[0] = '\0';
	} else if (!strncasecmp(type, "text/", 5) || !strncasecmp(type, "application/json", 16)) {
		size_t n = r->body_len < size - 1 ? r->body_len : size - 1;

		memcpy(dst, r->body, n);
		dst[n] = '\0';
		/* A body with a NUL would end the string early; that is fine. */
	}
	sanitize(dst);
}

static void classify_http(const struct otlp_response *r, time_t now, struct export_outcome *out)
{
	long status = r->http_status;
	bool retry = otlp_http_retryable(status);
	char reason[160];

	if (status >= 200 && status < 300) {
		otlp_outcome_set(out, EXPORT_OK, 0, "HTTP %ld", status);
		return;
	}
	body_reason(r, reason, sizeof(reason));
	otlp_outcome_set(out, retry ? EXPORT_RETRY : EXPORT_FAIL,
			 retry ? otlp_retry_after_ms(r->retry_after, now) : 0, "HTTP %ld%s%s",
			 status, reason[0] ? ": " : "", reason);
}

static void classify_grpc(const struct otlp_response *r, time_t now, struct export_outcome *out)
{
	bool http_retry = otlp_http_retryable(r->http_status);
	int code = r->grpc_status;
	char message[160];

	if (code < 0) {
		/* No gRPC answer at all: a proxy or load balancer in the way. Its 5xx
		 * "try later" statuses still mean try later. */
		otlp_outcome_set(out, http_retry ? EXPORT_RETRY : EXPORT_FAIL,
				 http_retry ? otlp_retry_after_ms(r->retry_after, now) : 0,
				 "HTTP %ld, no grpc-status", r->http_status);
		return;
	}
	snprintf(message, sizeof(message), "%s", r->grpc_message);
	percent_decode(message);
	/* The retry delay a server may put in google.rpc.RetryInfo (the
	 * grpc-status-details-bin trailer) is ignored: decoding it needs a protobuf
	 * Any parser for one optional hint, and the exporter's own backoff is fine. */
	if (code == 0)
		otlp_outcome_set(out, EXPORT_OK, 0, "grpc-status 0");
	else
		otlp_outcome_set(out, otlp_grpc_retryable(code) ? EXPORT_RETRY : EXPORT_FAIL, 0,
				 "grpc-status %d %s%s%s", code, grpc_status_name(code),
				 message[0] ? ": " : "", message);
}

void otlp_response_classify(const struct otlp_response *r, bool grpc, time_t now,
			    struct export_outcome *out)
{
	if (grpc)
		classify_grpc(r, now, out);
	else
		classify_http(r, now, out);
}
