/* SPDX-License-Identifier: MIT */
/*
 * otlp-send: sends one encoded OTLP request with sonde's transport and prints the
 * outcome, so the transport can be tested against a collector without the agent.
 *
 *   otlp-send [--protocol http|grpc] [--signal traces|metrics]
 *             [--compression none|gzip] [--header NAME=VALUE]... [--timeout MS]
 *             [--certificate FILE] [--insecure] [--count N] URL [FILE]
 *
 * FILE holds the protobuf bytes (an Export*ServiceRequest); without it the body is
 * empty, which is a valid empty request. One line per send on stdout:
 * "OK detail", "RETRY after=NNNms detail" or "FAIL detail". Exit status: 0 when
 * the last send was OK, 75 (EX_TEMPFAIL) for RETRY, 1 for FAIL, 2 for usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "export/otlp_transport.h"
#include "util/file.h"

/* Far more than one export request holds (the agent's are a few MB at most). */
#define BODY_MAX (256u << 20)

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "otlp-send: %s\n", why);
	fprintf(stderr, "usage: otlp-send [--protocol http|grpc] [--signal traces|metrics]\n"
			"                 [--compression none|gzip] [--header NAME=VALUE]...\n"
			"                 [--timeout MS] [--certificate FILE] [--insecure]\n"
			"                 [--count N] URL [FILE]\n");
	return 2;
}

static int parse_u32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || end == s || *end || n > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)n;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const results[] = { "OK", "RETRY", "FAIL" };
	struct otlp_target target = { .timeout_ms = 10000 };
	enum otlp_signal signal_kind = OTLP_SIGNAL_TRACES;
	struct otlp_transport *t = NULL;
	struct export_outcome out = { .result = EXPORT_FAIL };
	const char *url = NULL, *file = NULL;
	char *body = NULL;
	size_t len = 0;
	uint32_t count = 1;
	int i, err;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--insecure")) {
			target.insecure = true;
			continue;
		}
		if (a[0] != '-' || a[1] != '-') {
			if (!url)
				url = a;
			else if (!file)
				file = a;
			else
				return usage("too many arguments");
			continue;
		}
		if (!v)
			return usage("option needs a value");
		i++;
		if (!strcmp(a, "--protocol")) {
			if (!strcmp(v, "grpc"))
				target.protocol = OTLP_PROTOCOL_GRPC;
			else if (!strcmp(v, "http") || !strcmp(v, "http/protobuf"))
				target.protocol = OTLP_PROTOCOL_HTTP_PROTOBUF;
			else
				return usage("--protocol: http or grpc");
		} else if (!strcmp(a, "--signal")) {
			if (!strcmp(v, "traces"))
				signal_kind = OTLP_SIGNAL_TRACES;
			else if (!strcmp(v, "metrics"))
				signal_kind = OTLP_SIGNAL_METRICS;
			else
				return usage("--signal: traces or metrics");
		} else if (!strcmp(a, "--compression")) {
			if (!strcmp(v, "gzip"))
				target.compression = OTLP_COMPRESSION_GZIP;
			else if (!strcmp(v, "none"))
				target.compression = OTLP_COMPRESSION_NONE;
			else
				return usage("--compression: none or gzip");
		} else if (!strcmp(a, "--header")) {
			const char *eq = strchr(v, '=');
			struct config_kv *kv;

			if (!eq || target.headers.n == CONFIG_MAX_KV)
				return usage("--header: NAME=VALUE, at most 32");
			kv = &target.headers.items[target.headers.n++];
			snprintf(kv->key, sizeof(kv->key), "%.*s", (int)(eq - v), v);
			snprintf(kv->value, sizeof(kv->value), "%s", eq + 1);
		} else if (!strcmp(a, "--timeout")) {
			if (parse_u32(v, &target.timeout_ms))
				return usage("--timeout: milliseconds");
		} else if (!strcmp(a, "--count")) {
			if (parse_u32(v, &count) || !count)
				return usage("--count: a positive number");
		} else if (!strcmp(a, "--certificate")) {
			snprintf(target.certificate, sizeof(target.certificate), "%s", v);
		} else {
			return usage("unknown option");
		}
	}
	if (!url)
		return usage("no URL");
	snprintf(target.url, sizeof(target.url), "%s", url);

	if (file) {
		err = file_read_all(file, BODY_MAX, &body, &len);
		if (err) {
			fprintf(stderr, "otlp-send: cannot read %s: %s\n", file, strerror(-err));
			return 1;
		}
	}

	/* A collector closing the connection mid-write must not kill the sender;
	 * the agent ignores SIGPIPE the same way. */
	signal(SIGPIPE, SIG_IGN);
	if (otlp_transport_global_init())
		return 1;
	t = otlp_transport_new(&target, signal_kind);
	if (!t) {
		fprintf(stderr, "otlp-send: cannot set up the transport: %s\n", strerror(errno));
		free(body);
		return 1;
	}
	for (uint32_t n = 0; n < count; n++) {
		otlp_transport_send(t, (const uint8_t *)body, len, &out);
		if (out.result == EXPORT_RETRY)
			printf("RETRY after=%ums %s\n", out.retry_after_ms, out.detail);
		else
			printf("%s %s\n", results[out.result], out.detail);
		fflush(stdout);
	}
	otlp_transport_free(t);
	free(body);
	return out.result == EXPORT_OK ? 0 : out.result == EXPORT_RETRY ? 75 : 1;
}
