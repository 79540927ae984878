/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "pipeline/metrics.h"
#include "spans/span_attrs.h"

const double metrics_duration_bounds[DURATION_BOUNDS] = {
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
};
const double metrics_size_bounds[SIZE_BOUNDS] = {
	0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
};
const double metrics_db_bounds[DB_BOUNDS] = {
	0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
};
const double metrics_rpc_bounds[RPC_BOUNDS] = {
	0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000,
};

struct metrics {
	uint32_t limit;
	uint32_t nbuckets; /* hash buckets, a power of two */
	struct series **buckets;
	struct series *list, *list_tail;
	struct metrics_stats stats;
};

struct metrics *metrics_new(uint32_t series_limit)
{
	struct metrics *m = calloc(1, sizeof(*m));
	uint32_t n = 64;

	if (!m)
		return NULL;
	while (n < series_limit)
		n *= 2;
	m->buckets = calloc(n, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	m->limit = series_limit;
	m->nbuckets = n;
	return m;
}

static void series_free(struct series *s)
{
	resource_put(s->key.res);
	free(s);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (struct series *s = m->list, *next; s; s = next) {
		next = s->list_next;
		series_free(s);
	}
	free(m->buckets);
	free(m);
}

/* Eight bytes at a time (a byte-at-a-time FNV-1a was half the cost of
 * recording a request); the low bits, which pick the bucket, get the high
 * ones folded in at every step. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t v;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&v, b, 8);
		h = (h ^ v) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	if (n) {
		v = 0;
		memcpy(&v, b, n);
		h = (h ^ v ^ (uint64_t)n << 56) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	return h;
}

static uint64_t key_hash(const struct series_key *k)
{
	uint64_t h = 1469598103934665603ull;
	uintptr_t r = (uintptr_t)k->res;
	int32_t small[9] = { k->kind, k->overflow,    k->status, k->server_port, k->tls,
			     k->rpc,  k->grpc_status, k->db,	 k->db_system };

	h = mix(h, &r, sizeof(r));
	h = mix(h, small, sizeof(small));
	h = mix(h, k->rpc_service, strlen(k->rpc_service));
	h = mix(h, k->rpc_method, strlen(k->rpc_method));
	h = mix(h, k->method, strlen(k->method));
	h = mix(h, k->protocol_version, strlen(k->protocol_version));
	h = mix(h, k->route, strlen(k->route));
	h = mix(h, k->error_type, strlen(k->error_type));
	h = mix(h, k->db_operation, strlen(k->db_operation));
	h = mix(h, k->db_collection, strlen(k->db_collection));
	h = mix(h, k->db_namespace, strlen(k->db_namespace));
	return mix(h, k->server_address, strlen(k->server_address));
}

/* Keys are canonical: metrics_key() zeroes them first and copies each string
 * only up to its NUL, so equal keys are equal bytes (padding included). One
 * memcmp costs a fifth of comparing field by field with strcmp. */
static bool key_eq(const struct series_key *a, const struct series_key *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

/* server.address/port are "Opt-In" on server metrics (cardinality) and
 * "Required" on client metrics in the HTTP and RPC semantic conventions. */
static void client_server_endpoint(struct series_key *k, const struct span *sp)
{
	char addr[SPAN_HOST_LEN];

	if (sp->kind != SPAN_CLIENT)
		return;
	span_server_endpoint(sp, addr, sizeof(addr), &k->server_port);
	utf8_sanitize(k->server_address, sizeof(k->server_address), addr, strlen(addr));
}

/* A gRPC call's series: rpc.system, rpc.service, rpc.method,
 * rpc.grpc.status_code (the RPC conventions' metric attributes). */
static void rpc_key(struct series_key *k, const struct span *sp)
{
	const char *svc, *method;
	size_t svc_len, method_len;

	k->rpc = true;
	k->grpc_status = sp->flags & SPAN_F_GRPC_STATUS ? sp->grpc_status : -1;
	if (span_rpc_parts(sp, &svc, &svc_len, &method, &method_len)) {
		utf8_sanitize(k->rpc_service, sizeof(k->rpc_service), svc, svc_len);
		utf8_sanitize(k->rpc_method, sizeof(k->rpc_method), method, method_len);
	}
	client_server_endpoint(k, sp);
}

/* A database command's series: the attributes the database conventions give
 * db.client.operation.duration. The strings were made valid UTF-8 when the
 * span was built (protocols/); copied up to their NUL. */
static void db_key(struct series_key *k, const struct span *sp)
{
	const struct span_db *db = &sp->db;

	k->db = true;
	k->db_system = db->system;
	utf8_sanitize(k->db_operation, sizeof(k->db_operation), db->operation,
		      strnlen(db->operation, sizeof(db->operation)));
	utf8_sanitize(k->db_collection, sizeof(k->db_collection), db->collection,
		      strnlen(db->collection, sizeof(db->collection)));
	utf8_sanitize(k->db_namespace, sizeof(k->db_namespace), db->name_space,
		      strnlen(db->name_space, sizeof(db->name_space)));
	span_error_type(sp, k->error_type, sizeof(k->error_type));
	client_server_endpoint(k, sp);
}

void metrics_key(struct series_key *k, struct resource *res, const struct span *sp,
		 const char *route)
{
	memset(k, 0, sizeof(*k));
	k->res = res;
	k->kind = sp->kind;
	k->grpc_status = -1;
	if (sp->flags & SPAN_F_DB) {
		db_key(k, sp);
		return;
	}
	if (sp->flags & SPAN_F_GRPC) {
		rpc_key(k, sp);
		return;
	}
	k->status = sp->status;
	k->tls = (sp->flags & SPAN_F_TLS) != 0;
	/* "2" or "1.<minor>", NUL-terminated by the memset above. */
	if (sp->version_major == 2) {
		k->protocol_version[0] = '2';
	} else {
		k->protocol_version[0] = '1';
		k->protocol_version[1] = '.';
		k->protocol_version[2] = (char)('0' + sp->version_minor % 10);
	}
	memcpy(k->method, span_method(sp), strnlen(span_method(sp), sizeof(k->method) - 1));
	if (route)
		utf8_sanitize(k->route, sizeof(k->route), route, strlen(route));
	span_error_type(sp, k->error_type, sizeof(k->error_type));
	client_server_endpoint(k, sp);
}

int metrics_bucket(const double *bounds, int nbounds, double v)
{
	int i = 0;

	while (i < nbounds && v > bounds[i]) /* buckets are (prev, bound] */
		i++;
	return i;
}

/* Counts v; returns its bucket. */
static int observe(struct histogram *h, const double *bounds, int nbounds, double v)
{
	int i = metrics_bucket(bounds, nbounds, v);

	h->buckets[i]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	return i;
}

static void keep_exemplar(struct series *s, int bucket, const struct span *sp, double v)
{
	struct exemplar *e = &s->exemplars[bucket];

	memcpy(e->trace_id, sp->trace_id, sizeof(e->trace_id));
	memcpy(e->span_id, sp->span_id, sizeof(e->span_id));
	e->value = v;
	e->time_ns = sp->end_ns ? sp->end_ns : 1;
}

static struct series *lookup(struct metrics *m, const struct series_key *k, uint64_t hash)
{
	for (struct series *s = m->buckets[hash & (m->nbuckets - 1)]; s; s = s->next)
		if (key_eq(&s->key, k))
			return s;
	return NULL;
}

static struct series *insert(struct metrics *m, const struct series_key *k, uint64_t hash,
			     uint64_t now)
{
	struct series *s = calloc(1, sizeof(*s));
	uint32_t b = hash & (m->nbuckets - 1);

	if (!s)
		return NULL;
	memcpy(&s->key, k, sizeof(*k)); /* padding too: key_eq compares bytes */
	resource_get(k->res);
	s->start_ns = now;
	s->next = m->buckets[b];
	m->buckets[b] = s;
	if (m->list_tail)
		m->list_tail->list_next = s;
	else
		m->list = s;
	m->list_tail = s;
	m->stats.series++;
	return s;
}

void metrics_record(struct metrics *m, struct resource *res, const struct span *sp,
		    const char *route)
{
	metrics_record_sampled(m, res, sp, route, false);
}

void metrics_record_sampled(struct metrics *m, struct resource *res, const struct span *sp,
			    const char *route, bool sampled)
{
	struct series_key k;
	struct series *s;
	uint64_t hash;
	double v;
	int b;

	metrics_key(&k, res, sp, route);
	hash = key_hash(&k);
	s = lookup(m, &k, hash);
	if (!s && m->stats.series >= m->limit) {
		/* One overflow series per process and kind keeps the totals right. */
		memset(&k, 0, sizeof(k));
		k.res = res;
		k.kind = sp->kind;
		k.overflow = true;
		k.rpc = (sp->flags & SPAN_F_GRPC) != 0;
		k.db = (sp->flags & SPAN_F_DB) != 0;
		k.grpc_status = -1;
		hash = key_hash(&k);
		s = lookup(m, &k, hash);
		m->stats.overflowed++;
	}
	if (!s)
		s = insert(m, &k, hash, sp->start_ns);
	if (!s)
		return;
	if (sp->start_ns < s->start_ns)
		s->start_ns = sp->start_ns;
	if (k.rpc) {
		v = (double)(sp->end_ns - sp->start_ns) / 1e6;
		b = observe(&s->duration, metrics_rpc_bounds, RPC_BOUNDS, v);
	} else {
		v = (double)(sp->end_ns - sp->start_ns) / 1e9;
		b = k.db ? observe(&s->duration, metrics_db_bounds, DB_BOUNDS, v)
			 : observe(&s->duration, metrics_duration_bounds, DURATION_BOUNDS, v);
	}
	if (sampled)
		keep_exemplar(s, b, sp, v);
	if (k.rpc || k.db)
		return;
	observe(&s->req_size, metrics_size_bounds, SIZE_BOUNDS, (double)sp->request_body_bytes);
	if (sp->status)
		observe(&s->resp_size, metrics_size_bounds, SIZE_BOUNDS,
			(double)sp->response_body_bytes);
}

void metrics_expire(struct metrics *m, uint64_t before_mono)
{
	struct series **pp = &m->list, *prev = NULL;

	while (*pp) {
		struct series *s = *pp;
		struct resource *r = s->key.res;

		if (!(r && r->exited && r->exited_ns < before_mono)) {
			prev = s;
			pp = &s->list_next;
			continue;
		}
		*pp = s->list_next;
		if (m->list_tail == s)
			m->list_tail = prev;
		/* Unlink from its hash chain. */
		for (struct series **hp = &m->buckets[key_hash(&s->key) & (m->nbuckets - 1)]; *hp;
		     hp = &(*hp)->next) {
			if (*hp == s) {
				*hp = s->next;
				break;
			}
		}
		series_free(s);
		m->stats.series--;
		m->stats.expired++;
	}
}

const struct series *metrics_first(const struct metrics *m)
{
	return m->list;
}

void metrics_stats(const struct metrics *m, struct metrics_stats *out)
{
	*out = m->stats;
}
