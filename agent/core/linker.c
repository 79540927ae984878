/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/linker.h"

/* Table bounds: entries live while their exchange is in flight (records,
 * serving, clients), so these cover that many concurrent requests. */
#define RECORDS_MAX 16384
#define UNITS_MAX   16384
#define HINTS_MAX   4096
#define SPAWNS_MAX  8192
#define PROCS_MAX   1024
#define HELD_MAX    256
/* Parents followed up a chain to its trace (a request crosses this many
 * processes at most before its spans are sent on as they are). */
#define CHAIN_MAX 32

struct unit_key {
	uint32_t tgid;
	uint8_t kind; /* enum sonde_unit_kind */
	uint8_t pad[3];
	uint64_t id; /* tid or goroutine id */
};

struct fd_key {
	uint32_t tgid;
	uint32_t fd;
};

/* An exchange as seen from its client: the client's address and port, and
 * where the request starts. */
struct exchange_key {
	uint8_t addr[16];
	uint16_t port;
	uint8_t kind; /* enum span_exchange_kind */
	uint8_t pad;
	uint32_t value;
};

struct port_key {
	uint8_t addr[16];
	uint16_t port;
	uint8_t pad[2];
};

struct ctx_record {
	uint64_t parent;      /* span id of a local parent, or 0 */
	uint8_t parent_id[8]; /* the parent span id exported (local or header) */
	uint8_t trace_id[16]; /* own for roots and header parents, else the parent's */
	uint8_t link;	      /* enum span_link */
	uint8_t trace_flags;  /* from a header parent */
	bool from_header;     /* its trace came with a traceparent */
	bool server;
	bool waiting; /* a server waiting for the client at the other end */
	bool ended;
	bool registered;	      /* a client whose exchange is in `clients` */
	bool waited;		      /* its trace was not known at first: children may
				    * have begun with a provisional one, so the record
				    * outlives the span (until evicted) */
	uint64_t wait_until;	      /* kernel monotonic */
	struct unit_key unit;	      /* server: the unit it is current for */
	struct fd_key conn;	      /* server: its connection in `serving` */
	struct exchange_key exchange; /* registered or waited for */
};

struct unit_state {
	uint64_t current; /* span id of the request it serves, or 0 */
	bool event_loop;  /* it served two at once: links nothing by unit */
};

struct held {
	struct span sp;
	uint64_t span_id;
};

static uint64_t id_of(const uint8_t b[8])
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static void random_id(struct linker *l, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v;

		/* All-zero ids are invalid (W3C): draw again. */
		do
			v = id_rng_next(&l->rng);
		while (!v);
		memcpy(out + i, &v, 8);
	}
}

/* The address with IPv4-mapped IPv6 written as IPv4, so both ends agree. */
static void addr_norm(const struct span_endpoint *e, uint8_t out[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(out, 0, 16);
	if (e->family == AF_INET6 && !memcmp(e->addr, v4mapped, sizeof(v4mapped)))
		memcpy(out, e->addr + 12, 4);
	else if (e->family == AF_INET)
		memcpy(out, e->addr, 4);
	else
		memcpy(out, e->addr, 16);
}

static bool endpoint_known(const struct span_endpoint *e)
{
	return e && (e->family == AF_INET || e->family == AF_INET6) && e->port;
}

static struct exchange_key exchange_at(const struct span_endpoint *client, const struct span *sp)
{
	struct exchange_key k;

	memset(&k, 0, sizeof(k));
	addr_norm(client, k.addr);
	k.port = client->port;
	k.kind = sp->exchange_kind;
	k.value = sp->exchange;
	return k;
}

static struct unit_key unit_of(const struct linker_where *w)
{
	struct unit_key k;

	memset(&k, 0, sizeof(k));
	k.tgid = w->tgid;
	k.kind = w->unit_kind;
	k.id = w->unit_kind == SONDE_UNIT_THREAD ? w->tid : w->unit;
	return k;
}

static struct fd_key fd_at(uint32_t tgid, uint32_t fd)
{
	return (struct fd_key){ .tgid = tgid, .fd = fd };
}

int linker_init(struct linker *l, uint64_t seed, void (*out)(void *ctx, const struct span *sp),
		void *out_ctx)
{
	int err;

	memset(l, 0, sizeof(*l));
	id_rng_seed(&l->rng, seed);
	l->out = out;
	l->out_ctx = out_ctx;
	l->held_cap = HELD_MAX;
	l->held = calloc(l->held_cap, sizeof(*l->held));
	if (!l->held)
		return -ENOMEM;
	if ((err = lru_map_init(&l->records, sizeof(uint64_t), sizeof(struct ctx_record),
				RECORDS_MAX)) ||
	    (err = lru_map_init(&l->units, sizeof(struct unit_key), sizeof(struct unit_state),
				UNITS_MAX)) ||
	    (err = lru_map_init(&l->serving, sizeof(struct fd_key), sizeof(uint64_t), UNITS_MAX)) ||
	    (err = lru_map_init(&l->clients, sizeof(struct exchange_key), sizeof(uint64_t),
				RECORDS_MAX)) ||
	    (err = lru_map_init(&l->waiting, sizeof(struct exchange_key), sizeof(uint64_t),
				HELD_MAX)) ||
	    (err = lru_map_init(&l->hints, sizeof(struct fd_key), sizeof(struct sonde_link),
				HINTS_MAX)) ||
	    (err = lru_map_init(&l->spawned, sizeof(struct unit_key), sizeof(uint64_t),
				SPAWNS_MAX)) ||
	    (err = lru_map_init(&l->client_ports, sizeof(struct port_key), sizeof(uint8_t),
				RECORDS_MAX)) ||
	    (err = lru_map_init(&l->async_procs, sizeof(uint32_t), sizeof(uint8_t), PROCS_MAX))) {
		linker_destroy(l);
		return err;
	}
	return 0;
}

void linker_destroy(struct linker *l)
{
	if (l->held)
		linker_tick(l, UINT64_MAX, true);
	free(l->held);
	l->held = NULL;
	lru_map_destroy(&l->records);
	lru_map_destroy(&l->units);
	lru_map_destroy(&l->serving);
	lru_map_destroy(&l->clients);
	lru_map_destroy(&l->waiting);
	lru_map_destroy(&l->hints);
	lru_map_destroy(&l->spawned);
	lru_map_destroy(&l->client_ports);
	lru_map_destroy(&l->async_procs);
}

static struct port_key port_at(const struct span_endpoint *e)
{
	struct port_key k;

	memset(&k, 0, sizeof(k));
	addr_norm(e, k.addr);
	k.port = e->port;
	return k;
}

void linker_conn_open(struct linker *l, uint8_t role, const struct span_endpoint *local)
{
	struct port_key k;
	bool evicted;

	if (role != SONDE_ROLE_CLIENT || !endpoint_known(local))
		return;
	k = port_at(local);
	lru_map_put(&l->client_ports, &k, &evicted);
	if (evicted)
		l->stats.evicted++;
}

void linker_conn_close(struct linker *l, uint8_t role, const struct span_endpoint *local)
{
	struct port_key k;

	if (role != SONDE_ROLE_CLIENT || !endpoint_known(local))
		return;
	k = port_at(local);
	lru_map_del(&l->client_ports, &k);
}

static bool client_traced(struct linker *l, const struct span_endpoint *peer)
{
	struct port_key k = port_at(peer);

	return lru_map_get(&l->client_ports, &k, false) != NULL;
}

/* The record of a request still in flight, or NULL. */
static struct ctx_record *in_flight(struct linker *l, uint64_t span_id)
{
	struct ctx_record *r = span_id ? lru_map_get(&l->records, &span_id, false) : NULL;

	return r && !r->ended ? r : NULL;
}

static void set_parent(struct ctx_record *r, uint64_t parent_span, const struct ctx_record *p,
		       uint8_t link)
{
	r->parent = parent_span;
	memcpy(r->parent_id, &parent_span, sizeof(r->parent_id));
	memcpy(r->trace_id, p->trace_id, sizeof(r->trace_id));
	r->trace_flags = p->trace_flags;
	r->from_header = p->from_header;
	r->link = link;
}

/* How the request a unit's call or write belongs to was found. */
enum found {
	FOUND_NONE = 0,	  /* none: a root, or output outside any request */
	FOUND,		  /* *id is in flight */
	FOUND_GONE,	  /* a hint named a request no longer in flight */
	FOUND_EVENT_LOOP, /* the unit serves several requests at once: it cannot be told */
	FOUND_NO_REQUEST, /* a hint said the call serves no request: a root by design */
};

/* The request an execution unit's call (or write) on fd belongs to: what a
 * hint named for fd (used up), else what the unit serves, else what its
 * creator served when it started it. *link says which. */
static enum found request_of(struct linker *l, const struct linker_where *w, uint64_t *id,
			     uint8_t *link)
{
	struct fd_key fk = fd_at(w->tgid, w->fd);
	struct sonde_link *hint = lru_map_get(&l->hints, &fk, false);
	struct unit_key uk = unit_of(w);
	struct unit_state *u;
	uint64_t *idp;

	*id = 0;
	*link = SPAN_LINK_ROOT;
	if (hint) {
		if (hint->kind == SONDE_LINK_UNIT) {
			struct unit_key hk = { .tgid = w->tgid,
					       .kind = hint->unit_kind,
					       .id = hint->unit };

			u = lru_map_get(&l->units, &hk, false);
			*id = u ? u->current : 0;
			*link = SPAN_LINK_HANDOFF;
		} else if (hint->server_fd == SONDE_LINK_NO_REQUEST) {
			/* Known to serve no request: a root by design. */
			lru_map_del(&l->hints, &fk);
			return FOUND_NO_REQUEST;
		} else {
			/* ffffffff, "outside any request", is no fd in serving. */
			fk = fd_at(w->tgid, hint->server_fd);
			idp = lru_map_get(&l->serving, &fk, false);
			*id = idp ? *idp : 0;
			*link = SPAN_LINK_ASYNC;
		}
		lru_map_del(&l->hints, &(struct fd_key){ w->tgid, w->fd });
		return in_flight(l, *id) ? FOUND : FOUND_GONE;
	}
	u = lru_map_get(&l->units, &uk, false);
	if (u && u->current) {
		if (u->event_loop || lru_map_get(&l->async_procs, &w->tgid, false))
			return FOUND_EVENT_LOOP;
		if (in_flight(l, u->current)) {
			*id = u->current;
			*link = w->unit_kind == SONDE_UNIT_GOROUTINE ? SPAN_LINK_GOROUTINE
								     : SPAN_LINK_THREAD;
			return FOUND;
		}
	}
	idp = lru_map_get(&l->spawned, &uk, false);
	if (idp && in_flight(l, *idp)) {
		*id = *idp;
		*link = SPAN_LINK_SPAWN;
		return FOUND;
	}
	return FOUND_NONE;
}

/* The client span's parent: what a hint named, else what its unit serves,
 * else what its unit's creator served when it started it. */
static void find_client_parent(struct linker *l, struct ctx_record *r, const struct linker_where *w)
{
	uint64_t id;
	uint8_t link;

	switch (request_of(l, w, &id, &link)) {
	case FOUND:
		set_parent(r, id, in_flight(l, id), link);
		break;
	case FOUND_GONE:
		l->stats.roots_expected++;
		break;
	case FOUND_EVENT_LOOP:
		l->stats.unlinked_event_loop++;
		break;
	case FOUND_NO_REQUEST:
		l->stats.roots_no_request++;
		break;
	case FOUND_NONE:
		break;
	}
}

/* A client exchange that a waiting server was looking for. */
static void wake_server(struct linker *l, const struct exchange_key *k, uint64_t client_span,
			const struct ctx_record *client)
{
	uint64_t *sid = lru_map_get(&l->waiting, k, false);
	struct ctx_record *s;

	if (!sid)
		return;
	s = lru_map_get(&l->records, sid, false);
	lru_map_del(&l->waiting, k);
	if (!s || !s->waiting)
		return;
	s->waiting = false;
	set_parent(s, client_span, client, SPAN_LINK_CONNECTION);
	linker_tick(l, l->now, false); /* its held spans may go now */
}

static void begin_client(struct linker *l, struct span *sp, struct ctx_record *r, uint64_t id,
			 const struct linker_where *w)
{
	find_client_parent(l, r, w);
	if (!sp->exchange_kind || !endpoint_known(w->local))
		return;
	r->exchange = exchange_at(w->local, sp);
	*(uint64_t *)lru_map_put(&l->clients, &r->exchange, NULL) = id;
	r->registered = true;
	wake_server(l, &r->exchange, id, r);
}

static void begin_server(struct linker *l, struct span *sp, struct ctx_record *r, uint64_t id,
			 const struct linker_where *w)
{
	struct traceparent tp;
	struct unit_state *u;
	struct ctx_record *prev;
	uint64_t *cid;

	r->server = true;
	r->unit = unit_of(w);
	r->conn = fd_at(w->tgid, w->fd);
	if (!(sp->flags & SPAN_F_DB) && sp->traceparent[0] &&
	    !traceparent_parse(sp->traceparent, &tp)) {
		memcpy(r->trace_id, tp.trace_id, sizeof(r->trace_id));
		memcpy(r->parent_id, tp.parent_id, sizeof(r->parent_id));
		r->trace_flags = tp.flags;
		r->from_header = true;
		r->link = SPAN_LINK_HEADER;
	} else if (sp->exchange_kind && endpoint_known(w->peer)) {
		struct exchange_key k = exchange_at(w->peer, sp);
		struct ctx_record *c;

		cid = lru_map_get(&l->clients, &k, false);
		c = cid ? lru_map_get(&l->records, cid, false) : NULL;
		if (c) {
			set_parent(r, *cid, c, SPAN_LINK_CONNECTION);
			c->registered = false;
			lru_map_del(&l->clients, &k);
		} else if (client_traced(l, w->peer)) {
			bool evicted;
			uint64_t *slot = lru_map_put(&l->waiting, &k, &evicted);

			/* An evicted waiter's record ends its wait at its deadline. */
			if (evicted)
				l->stats.evicted++;
			*slot = id;
			r->waiting = r->waited = true;
			r->exchange = k;
			r->wait_until = w->ts + LINKER_WAIT_NS;
		}
	}
	/* Current for its unit and its connection. A thread already serving
	 * another request is an event loop: its calls cannot be told apart. */
	u = lru_map_put(&l->units, &r->unit, NULL);
	prev = in_flight(l, u->current);
	if (prev && prev->server && r->unit.kind == SONDE_UNIT_THREAD && !u->event_loop) {
		u->event_loop = true;
		l->stats.event_loop_units++;
	}
	u->current = id;
	*(uint64_t *)lru_map_put(&l->serving, &r->conn, NULL) = id;
}

void linker_begin(struct linker *l, struct span *sp, const struct linker_where *w)
{
	struct ctx_record *r;
	bool evicted;
	uint64_t id;

	if (w->ts > l->now)
		l->now = w->ts;
	random_id(l, sp->span_id, sizeof(sp->span_id));
	id = id_of(sp->span_id);
	r = lru_map_put(&l->records, &id, &evicted);
	if (evicted)
		l->stats.evicted++;
	random_id(l, r->trace_id, sizeof(r->trace_id));
	if (sp->kind == SPAN_SERVER)
		begin_server(l, sp, r, id, w);
	else
		begin_client(l, sp, r, id, w);
	/* What is known now travels with the span, in case its record is
	 * evicted before it ends. */
	memcpy(sp->trace_id, r->trace_id, sizeof(sp->trace_id));
	memcpy(sp->parent_span_id, r->parent_id, sizeof(sp->parent_span_id));
	sp->link = r->link;
	sp->trace_flags = r->trace_flags;
	if (r->from_header)
		sp->flags |= SPAN_F_TRACE_FROM_HEADER;
}

/* Follows parents up to the record that owns the trace. Returns false while
 * one of them waits for its client; else fills the trace id, its W3C flags
 * and whether it came with a traceparent. */
static bool trace_walk(struct linker *l, struct ctx_record *r, uint8_t trace_id[16],
		       uint8_t *trace_flags, bool *from_header)
{
	for (int depth = 0; r && depth < CHAIN_MAX; depth++) {
		struct ctx_record *p;

		if (r->waiting && r->wait_until > l->now)
			return false;
		memcpy(trace_id, r->trace_id, 16);
		*trace_flags = r->trace_flags;
		*from_header = r->from_header;
		p = r->parent ? lru_map_get(&l->records, &r->parent, false) : NULL;
		if (!p)
			return true;
		r = p;
	}
	return true;
}

static bool trace_of(struct linker *l, struct ctx_record *r, struct span *sp)
{
	bool from_header = false,
	     known = trace_walk(l, r, sp->trace_id, &sp->trace_flags, &from_header);

	if (from_header)
		sp->flags |= SPAN_F_TRACE_FROM_HEADER;
	else
		sp->flags &= ~SPAN_F_TRACE_FROM_HEADER;
	return known;
}

/* The span's identity from its record, then out; or held (false). */
static bool finish(struct linker *l, struct span *sp, bool force)
{
	uint64_t id = id_of(sp->span_id);
	struct ctx_record *r = lru_map_get(&l->records, &id, false);

	if (r) {
		if (!trace_of(l, r, sp) && !force)
			return false;
		memcpy(sp->parent_span_id, r->parent_id, sizeof(sp->parent_span_id));
		sp->link = r->waiting ? SPAN_LINK_ROOT : r->link;
		if (r->ended && !r->waited)
			lru_map_del(&l->records, &id);
	}
	l->stats.links[sp->link < SPAN_LINK__COUNT ? sp->link : 0]++;
	l->out(l->out_ctx, sp);
	return true;
}

static void hold(struct linker *l, const struct span *sp)
{
	struct held *h;

	if (l->held_count == l->held_cap) {
		struct span copy = *sp;

		l->stats.held_full++;
		finish(l, &copy, true);
		return;
	}
	h = &l->held[(l->held_head + l->held_count) % l->held_cap];
	h->sp = *sp;
	h->span_id = id_of(sp->span_id);
	l->held_count++;
	l->stats.held++;
}

void linker_end(struct linker *l, struct span *sp, uint32_t tgid, uint32_t fd, uint64_t now)
{
	uint64_t id = id_of(sp->span_id);
	struct ctx_record *r;

	if (now > l->now)
		l->now = now;
	if (!id) {
		/* Never begun (a protocol that found it mid-stream): a root. */
		random_id(l, sp->span_id, sizeof(sp->span_id));
		random_id(l, sp->trace_id, sizeof(sp->trace_id));
		memset(sp->parent_span_id, 0, sizeof(sp->parent_span_id));
		sp->link = SPAN_LINK_ROOT;
		finish(l, sp, true);
		return;
	}
	r = lru_map_get(&l->records, &id, false);
	if (r) {
		r->ended = true;
		if (r->server) {
			struct unit_state *u = lru_map_get(&l->units, &r->unit, false);
			struct fd_key fk = fd_at(tgid, fd);
			uint64_t *cur = lru_map_get(&l->serving, &fk, false);

			if (u && u->current == id)
				u->current = 0;
			if (cur && *cur == id)
				lru_map_del(&l->serving, &fk);
		} else if (r->registered) {
			lru_map_del(&l->clients, &r->exchange);
			r->registered = false;
		}
	}
	if (!finish(l, sp, false))
		hold(l, sp);
}

void linker_hint(struct linker *l, const struct sonde_link *ev)
{
	struct fd_key k = fd_at(ev->hdr.tgid, ev->hdr.fd);
	bool evicted;
	struct sonde_link *h;

	l->stats.hints++;
	if (ev->kind == SONDE_LINK_SERVER_FD)
		*(uint8_t *)lru_map_put(&l->async_procs, &ev->hdr.tgid, NULL) = 1;
	if (lru_map_get(&l->hints, &k, false))
		l->stats.hints_unused++;
	h = lru_map_put(&l->hints, &k, &evicted);
	if (evicted) {
		l->stats.evicted++;
		l->stats.hints_unused++;
	}
	*h = *ev;
}

void linker_spawn(struct linker *l, const struct sonde_unit_spawn *ev)
{
	struct unit_key parent = { .tgid = ev->hdr.tgid, .kind = ev->unit_kind, .id = ev->parent };
	struct unit_key child = { .tgid = ev->hdr.tgid, .kind = ev->unit_kind, .id = ev->child };
	struct unit_state *u = lru_map_get(&l->units, &parent, false);
	uint64_t *inherited = lru_map_get(&l->spawned, &parent, false);
	uint64_t id = u && u->current ? u->current : inherited ? *inherited : 0;
	bool evicted;

	l->stats.spawns++;
	if (!in_flight(l, id)) {
		lru_map_del(&l->spawned, &child);
		return;
	}
	*(uint64_t *)lru_map_put(&l->spawned, &child, &evicted) = id;
	if (evicted)
		l->stats.evicted++;
}

static bool of_process(void *ctx, const void *key, void *value)
{
	(void)value;
	return *(const uint32_t *)key == *(const uint32_t *)ctx; /* tgid comes first */
}

void linker_exit(struct linker *l, uint32_t tgid)
{
	lru_map_sweep(&l->units, of_process, &tgid);
	lru_map_sweep(&l->hints, of_process, &tgid);
	lru_map_sweep(&l->spawned, of_process, &tgid);
	lru_map_sweep(&l->serving, of_process, &tgid);
	lru_map_del(&l->async_procs, &tgid);
}

struct wait_sweep {
	struct linker *l;
	uint64_t now;
};

/* Waits that are over: the server stays a root. */
static bool wait_over(void *ctx, const void *key, void *value)
{
	struct wait_sweep *ws = ctx;
	struct ctx_record *r = lru_map_get(&ws->l->records, value, false);

	(void)key;
	if (r && r->waiting && r->wait_until > ws->now)
		return false;
	if (r && r->waiting) {
		r->waiting = false;
		ws->l->stats.roots_expected++;
		ws->l->stats.roots_waited++;
	}
	return true;
}

void linker_tick(struct linker *l, uint64_t now, bool force)
{
	struct wait_sweep ws = { l, force ? UINT64_MAX : now };
	uint32_t n = l->held_count;

	if (!force && now > l->now)
		l->now = now;
	if (l->waiting.count)
		lru_map_sweep(&l->waiting, wait_over, &ws);
	/* Held spans in order: those whose trace is known go, the rest wait. */
	for (uint32_t i = 0; i < n; i++) {
		struct held *h = &l->held[l->held_head];

		l->held_head = (l->held_head + 1) % l->held_cap;
		l->held_count--;
		if (finish(l, &h->sp, force))
			continue;
		l->held[(l->held_head + l->held_count) % l->held_cap] = *h;
		l->held_count++;
	}
}

/* The trace of the request record id, as far as it is known now. */
static enum linker_ctx_state trace_now(struct linker *l, uint64_t id, struct linker_ctx *out)
{
	struct ctx_record *r = lru_map_get(&l->records, &id, false);
	bool from_header = false;

	if (!r)
		return LINKER_CTX_NONE;
	memcpy(out->span_id, &id, sizeof(out->span_id));
	if (!trace_walk(l, r, out->trace_id, &out->trace_flags, &from_header))
		return LINKER_CTX_PENDING;
	return LINKER_CTX_FINAL;
}

enum linker_ctx_state linker_current(struct linker *l, const struct linker_where *w,
				     struct linker_ctx *out)
{
	enum linker_ctx_state st;
	uint64_t id;
	uint8_t link;

	memset(out, 0, sizeof(*out));
	if (w->ts > l->now)
		l->now = w->ts;
	switch (request_of(l, w, &id, &link)) {
	case FOUND:
		break;
	case FOUND_EVENT_LOOP:
		l->stats.logs_event_loop++;
		return LINKER_CTX_NONE;
	default:
		return LINKER_CTX_NONE;
	}
	st = trace_now(l, id, out);
	if (st != LINKER_CTX_NONE)
		l->stats.logs_in_request++;
	return st;
}

enum linker_ctx_state linker_context_of(struct linker *l, const uint8_t span_id[8],
					struct linker_ctx *out)
{
	memset(out, 0, sizeof(*out));
	return trace_now(l, id_of(span_id), out);
}
