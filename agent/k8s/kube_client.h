/* SPDX-License-Identifier: MIT */
/*
 * A small Kubernetes API client over libcurl: JSON GETs and a line-by-line
 * watch stream (the lookups built on them are in kube_owners.h). One client is
 * one curl handle: use it from one thread at a time, and not from inside its own
 * watch callback (take a second client for that).
 *
 * Credentials are fetched for every request (kube_credentials.h): the token file
 * is read again (it rotates), an exec plugin is run again once its credential
 * has expired or the server answered 401.
 */
#ifndef SONDE_K8S_KUBE_CLIENT_H
#define SONDE_K8S_KUBE_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "k8s/kube_config.h"

#define KUBE_BODY_MAX		(64u << 20) /* a GET response; a list page of 500 pods is a few MB */
#define KUBE_LINE_MAX		(16u << 20) /* one watch event */
#define KUBE_TIMEOUT_MS		30000u	    /* a GET, connection included */
#define KUBE_CONNECT_TIMEOUT_MS 10000u
#define KUBE_EXEC_TIMEOUT_MS	30000u /* an exec credential plugin */
#define KUBE_CLIENT_ERR_LEN	512

struct kube_client;

/* Copies cfg. NULL and errno on failure. */
struct kube_client *kube_client_new(const struct kube_config *cfg);
void kube_client_free(struct kube_client *c);

/* dst uses src's exec-plugin credential from now on (both must be alive): the
 * plugin then runs once for both connections. */
void kube_client_share_credentials(struct kube_client *dst, struct kube_client *src);

/* A flag that, once true, makes the transfer in progress (or the exec plugin
 * being waited for) end with -ECANCELED within about a second. NULL = none. */
void kube_client_set_stop(struct kube_client *c, const atomic_bool *stop);
/* Total time a GET may take, in ms (0 = KUBE_TIMEOUT_MS). */
void kube_client_set_timeout(struct kube_client *c, unsigned timeout_ms);
const char *kube_client_server(const struct kube_client *c);

/*
 * GET server + path_and_query. Returns 0 when the server answered (any status:
 * *http_status; *body is the NUL-terminated body, free() it), or -errno when it
 * did not: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -EPROTO (TLS), -EMSGSIZE
 * (body over KUBE_BODY_MAX), -ECANCELED (stop flag), -EACCES (credentials could
 * not be obtained), -EIO; err says what, naming the server.
 */
int kube_get_json(struct kube_client *c, const char *path_and_query, char **body, long *http_status,
		  char *err, size_t errlen);

/* Called per complete line of a watch stream (without the newline); nonzero
 * ends the watch (kube_watch then returns 0). */
typedef int (*kube_line_fn)(const char *line, size_t len, void *arg);

/*
 * A watch: GET that streams newline-delimited JSON. When the server answers 200,
 * fn sees each line until the server ends the stream (0), fn asks to stop (0),
 * the stop flag is set (-ECANCELED), nothing at all arrives for idle_timeout_s
 * (-ETIMEDOUT: the connection died silently; pick more than the bookmark
 * interval), max_s passes (-ETIMEDOUT) or the connection breaks (-ECONNRESET).
 * Any other status: 0, *http_status, and *body the error body (free it).
 */
int kube_watch(struct kube_client *c, const char *path_and_query, unsigned idle_timeout_s,
	       unsigned max_s, kube_line_fn fn, void *arg, long *http_status, char **body,
	       char *err, size_t errlen);

/*
 * A one-line message for a non-2xx answer: 401 says the credentials were
 * rejected, 403 which verb on which resource RBAC lacks, with the server's
 * Status message. verb/resource: "list"/"pods", "get"/"replicasets.apps"…
 */
void kube_status_message(const struct kube_client *c, long status, const char *body,
			 const char *verb, const char *resource, char *err, size_t errlen);

/* Writes a one-line message into err: control characters that a server or a
 * plugin put in it become spaces. */
__attribute__((format(printf, 3, 4))) void kube_err(char *err, size_t errlen, const char *fmt, ...);

#endif /* SONDE_K8S_KUBE_CLIENT_H */
