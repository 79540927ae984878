/* SPDX-License-Identifier: MIT */
/*
 * Which request is this execution unit serving right now, and so: each span's
 * trace id, span id and parent (docs/ARCHITECTURE.md, "Request context").
 *
 * - A server exchange that begins makes its span current for the execution
 *   unit that read the request (a thread, a goroutine), and for its
 *   connection, until it is emitted.
 * - A client exchange that begins is the child of: the request a runtime hook
 *   named for its connection (SONDE_EV_LINK); else the current request of the
 *   unit that wrote it; else the request its unit's creator was serving when
 *   it started it (SONDE_EV_UNIT_SPAWN). A thread that has served two
 *   requests at once is an event loop: it links nothing from then on.
 * - A server exchange continues the caller's traceparent; else, when the
 *   client at the other end of its connection is traced here, it is that
 *   client span's child: the client's local address and port and where the
 *   request starts in the TCP stream (or its stream ids) are the same
 *   at both ends. The client's event can reach the agent after the server's
 *   (they are written on different CPUs), so a server whose peer is a traced
 *   client's socket (announced at connect) waits for it, up to a bound; its
 *   trace's spans are held meanwhile.
 * - Nothing is linked from timing; what cannot be known stays a root and is
 *   counted.
 *
 * Pure code: times are the kernel's monotonic ns, randomness is seeded.
 */
#ifndef SONDE_LINKER_H
#define SONDE_LINKER_H

#include <stdbool.h>
#include <stdint.h>

#include "sonde_event.h"
#include "spans/span.h"
#include "spans/trace_context.h"
#include "util/lru_map.h"

/* How long a server waits for the client at the other end of its
 * connection: the client's write and the server's read are reported from
 * different CPUs, and a busy machine can run the server first. */
#define LINKER_WAIT_NS (200 * 1000 * 1000ull)
/* How long a span's record outlives its end, for children that end later. */
#define LINKER_KEEP_NS (30 * 1000 * 1000 * 1000ull)

struct linker_stats {
	uint64_t links[SPAN_LINK__COUNT]; /* spans by how their parent was found */
	uint64_t roots_expected;	  /* a parent was expected and not found: left a root */
	uint64_t roots_waited;		  /* ... of which a server waited for its client in vain */
	uint64_t roots_no_request;	  /* a hook said the call serves no request: a root, as
				       * known (not counted in roots_expected) */
	uint64_t event_loop_units;	  /* threads found serving two requests at once */
	uint64_t unlinked_event_loop;	  /* client calls of such threads (or of processes
				       * whose hooks name async contexts), left roots */
	uint64_t hints;			  /* SONDE_EV_LINK events */
	uint64_t hints_unused;		  /* ... replaced or gone before a request used them */
	uint64_t spawns;		  /* SONDE_EV_UNIT_SPAWN events */
	uint64_t held;			  /* spans held while their trace waited */
	uint64_t held_full;		  /* ... sent on unresolved: the hold was full */
	uint64_t evicted;		  /* entries the bounded tables evicted */
	uint64_t logs_in_request;	  /* log writes made while serving a request */
	uint64_t logs_event_loop;	  /* ... by a unit serving several: not told apart */
};

/* What the core knows of the exchange's connection and of the event whose
 * bytes began it. */
struct linker_where {
	uint32_t tgid;
	uint32_t fd;
	uint32_t tid;
	uint64_t unit; /* with unit_kind SONDE_UNIT_GOROUTINE; else the thread */
	uint8_t unit_kind;
	const struct span_endpoint *local;
	const struct span_endpoint *peer;
	uint64_t ts; /* kernel monotonic */
};

struct held;

/* The request a log write was made in: its span and trace. */
struct linker_ctx {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t trace_flags; /* W3C flags of a traceparent parent */
};

enum linker_ctx_state {
	LINKER_CTX_NONE = 0, /* made outside any request (or cannot be told) */
	LINKER_CTX_FINAL,    /* in this request, of this trace */
	/* in this request, whose trace is not known yet: a server on the way
	 * waits for its client's side (linker_context_of() later) */
	LINKER_CTX_PENDING,
};

struct linker {
	struct id_rng rng;
	struct lru_map records;	     /* span id → struct ctx_record */
	struct lru_map units;	     /* unit → struct unit_state */
	struct lru_map serving;	     /* (tgid, fd) → span id of its request in flight */
	struct lru_map clients;	     /* exchange at a client address → client span id */
	struct lru_map waiting;	     /* the same key → server span id waiting for it */
	struct lru_map hints;	     /* (tgid, fd) → struct sonde_link */
	struct lru_map spawned;	     /* unit → span id served by its creator */
	struct lru_map client_ports; /* address and port of traced clients' sockets */
	struct lru_map async_procs;  /* processes whose hooks name async contexts */
	struct held *held;	     /* ring of spans waiting for their trace */
	uint32_t held_cap, held_head, held_count;
	uint64_t now; /* latest kernel monotonic time seen */
	void (*out)(void *ctx, const struct span *sp);
	void *out_ctx;
	struct linker_stats stats;
};

/* out receives every span once its identity is final. Returns 0 or -errno. */
int linker_init(struct linker *l, uint64_t seed, void (*out)(void *ctx, const struct span *sp),
		void *out_ctx);
/* Hands out every held span first. */
void linker_destroy(struct linker *l);

/* A traced client connected from local (SONDE_EV_CONN_CONNECT), or a followed
 * connection opened or closed: a server whose peer is a traced client's
 * local address and port waits for that client's side of each request. */
void linker_conn_open(struct linker *l, uint8_t role, const struct span_endpoint *local);
void linker_conn_close(struct linker *l, uint8_t role, const struct span_endpoint *local);

/* An exchange began (struct span_sink's begin): sets sp->span_id and, when
 * known now, its parent and trace. */
void linker_begin(struct linker *l, struct span *sp, const struct linker_where *w);

/* A finished span (times already wall clock): its identity is completed and
 * it goes to out, now or once its trace is known. tgid, fd: its connection;
 * now: kernel monotonic. */
void linker_end(struct linker *l, struct span *sp, uint32_t tgid, uint32_t fd, uint64_t now);

/*
 * The request the unit in w (tgid, tid or goroutine, fd) is serving now, for
 * its output on fd (a log line): what a runtime hook named for that fd (used
 * up: Node.js says so before each write to fd 1 or 2), else the unit's
 * current request, else the one its creator served when it started it. Fills
 * out's ids unless NONE. Changes nothing but the hint it used.
 */
enum linker_ctx_state linker_current(struct linker *l, const struct linker_where *w,
				     struct linker_ctx *out);
/* The trace of request span_id as known now (after linker_current() said
 * PENDING): FINAL once its trace is settled or the wait is over, NONE when
 * its record is gone. */
enum linker_ctx_state linker_context_of(struct linker *l, const uint8_t span_id[8],
					struct linker_ctx *out);

void linker_hint(struct linker *l, const struct sonde_link *ev);
void linker_spawn(struct linker *l, const struct sonde_unit_spawn *ev);
/* A process exited: its units and hints are forgotten. */
void linker_exit(struct linker *l, uint32_t tgid);

/* Ends waits that are over and sends on what they held. Call once per loop;
 * now is kernel monotonic. force: everything (at exit). */
void linker_tick(struct linker *l, uint64_t now, bool force);

#endif /* SONDE_LINKER_H */
