/* SPDX-License-Identifier: MIT */
/*
 * The credentials of each Kubernetes API request: a bearer token (a literal,
 * or a token file read again every time because projected service-account
 * tokens rotate) or what an exec credential plugin (client.authentication.k8s.io)
 * printed: a token or a client certificate and key.
 *
 * A plugin's credential is cached in a kube_cred_cache that the clients of one
 * agent share, so the plugin runs once per expiry and not once per connection;
 * it runs again once status.expirationTimestamp has passed or the server
 * answered 401.
 */
#ifndef SONDE_K8S_KUBE_CREDENTIALS_H
#define SONDE_K8S_KUBE_CREDENTIALS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "k8s/kube_config.h"

struct kube_cred_cache;

/* One reference; NULL when out of memory. */
struct kube_cred_cache *kube_cred_cache_new(void);
/* Another reference to k. */
void kube_cred_cache_hold(struct kube_cred_cache *k);
/* Drops a reference; the last one frees. NULL-safe. */
void kube_cred_cache_put(struct kube_cred_cache *k);
/* The server rejected the cached credential (401): run the plugin again next time. */
void kube_cred_cache_forget(struct kube_cred_cache *k);

/* What one request authenticates with. */
struct kube_request_cred {
	char *token;		    /* bearer token, NULL for none; kube_request_cred_free() */
	struct kube_exec_cred exec; /* a copy of the plugin's credential, when has_exec */
	bool has_exec;
};

/*
 * The credentials for the next request under cfg into out (freed first). Runs
 * the exec plugin when the cache holds no valid credential; stop (NULL = none)
 * cancels waiting for it. Returns 0, -EACCES (a token file that cannot be read
 * or is empty, a plugin that failed: err says why), -ECANCELED, -ETIMEDOUT or
 * -ENOMEM.
 */
int kube_request_cred_get(struct kube_request_cred *out, const struct kube_config *cfg,
			  struct kube_cred_cache *cache, const atomic_bool *stop, char *err,
			  size_t errlen);
/* Frees and zeroes (the token is wiped first). NULL-safe. */
void kube_request_cred_free(struct kube_request_cred *cred);

#endif /* SONDE_K8S_KUBE_CREDENTIALS_H */
