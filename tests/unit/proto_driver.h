/* SPDX-License-Identifier: MIT */
/*
 * Drives one protocol session through its interface (protocols/protocol.h)
 * as the core would, and writes each span it emits as one line of text, so a
 * test compares what a user would see with one string:
 *
 *   OPERATION [coll=C] q=QUERY [ns=N] [st=STATUS] [rows=R] [flags] t=START-END
 *
 * flags: E database error, L lost sync, N no response, T query truncated.
 * Every span's bytes are also searched for a secret (a password, a bound
 * value) that must never be in any span.
 */
#ifndef SONDE_TEST_PROTO_DRIVER_H
#define SONDE_TEST_PROTO_DRIVER_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/protocol.h"

struct driver {
	const struct protocol *p;
	void *session;
	void *shared;
	struct protocol_settings settings;
	char text[1 << 16];
	size_t len;
	int spans;
	int not_client; /* spans that were not database CLIENT spans */
	int begins;	/* exchanges begun (span_sink.begin) */
	int unbegun;	/* spans emitted without the identity begin gave */
	const char *secret;
	int leaks;
	struct span last;
};

static void driver_printf(struct driver *d, const char *fmt, ...)
{
	va_list ap;

	if (d->len >= sizeof(d->text) - 1)
		return;
	va_start(ap, fmt);
	d->len += (size_t)vsnprintf(d->text + d->len, sizeof(d->text) - d->len, fmt, ap);
	va_end(ap);
	if (d->len >= sizeof(d->text))
		d->len = sizeof(d->text) - 1;
}

/* The core's begin, played: each exchange gets its number as span id. */
static void driver_begin(void *ctx, struct span *sp)
{
	struct driver *d = ctx;

	d->begins++;
	memcpy(sp->span_id, &d->begins, sizeof(d->begins));
	sp->trace_id[0] = 0x7e;
}

static void driver_emit(void *ctx, struct span *sp)
{
	struct driver *d = ctx;
	const struct span_db *db = &sp->db;
	static const struct {
		uint32_t flag;
		char letter;
	} letters[] = { { SPAN_F_DB_ERROR, 'E' },
			{ SPAN_F_LOST_SYNC, 'L' },
			{ SPAN_F_NO_RESPONSE, 'N' },
			{ SPAN_F_QUERY_TRUNCATED, 'T' } };
	bool any = false;

	d->spans++;
	d->last = *sp;
	if (sp->kind != SPAN_CLIENT || !(sp->flags & SPAN_F_DB))
		d->not_client++;
	if (!sp->span_id[0] && !sp->span_id[1] && sp->trace_id[0] != 0x7e)
		d->unbegun++;
	if (d->secret && memmem(sp, sizeof(*sp), d->secret, strlen(d->secret)))
		d->leaks++;
	driver_printf(d, "%s", db->operation);
	if (db->collection[0])
		driver_printf(d, " coll=%s", db->collection);
	driver_printf(d, " q=%s", db->query);
	if (db->name_space[0])
		driver_printf(d, " ns=%s", db->name_space);
	if (db->status_code[0])
		driver_printf(d, " st=%s", db->status_code);
	if (db->returned_rows != -1)
		driver_printf(d, " rows=%lld", (long long)db->returned_rows);
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++) {
		if (!(sp->flags & letters[i].flag))
			continue;
		driver_printf(d, "%s%c", any ? "" : " ", letters[i].letter);
		any = true;
	}
	driver_printf(d, " t=%llu-%llu\n", (unsigned long long)sp->start_ns,
		      (unsigned long long)sp->end_ns);
}

static const struct span_sink *driver_sink(struct driver *d)
{
	static struct span_sink sink;

	sink = (struct span_sink){ .begin = driver_begin, .emit = driver_emit, .ctx = d };
	return &sink;
}

/* A session of protocol p with its shared state; settings as given, or the
 * defaults (sanitised text, 2 KiB). */
static void driver_open(struct driver *d, const struct protocol *p, void *shared, uint8_t role,
			const struct protocol_settings *settings)
{
	struct protocol_open o;

	memset(d, 0, sizeof(*d));
	d->p = p;
	d->shared = shared;
	d->settings = settings ? *settings
			       : (struct protocol_settings){ .db_query = DB_QUERY_SANITIZED,
							     .db_query_max = 2048 };
	d->session = calloc(1, p->session_size);
	o = (struct protocol_open){ .role = role, .shared = shared, .settings = &d->settings };
	p->open(d->session, &o);
}

/* One syscall's bytes: captured of total, after unseen lost ones. */
static void driver_feed(struct driver *d, bool ingress, const void *data, size_t captured,
			uint64_t total, uint64_t unseen, uint64_t ts)
{
	struct protocol_bytes b = { .ingress = ingress,
				    .data = captured ? data : NULL,
				    .captured = captured,
				    .total = total,
				    .unseen = unseen,
				    .ts = ts };

	d->p->feed(d->session, &b, driver_sink(d));
}

/* Written (egress) or read (ingress) whole. */
static void driver_write(struct driver *d, uint64_t ts, const void *data, size_t len)
{
	driver_feed(d, false, data, len, len, 0, ts);
}

static void driver_read(struct driver *d, uint64_t ts, const void *data, size_t len)
{
	driver_feed(d, true, data, len, len, 0, ts);
}

static void driver_close(struct driver *d, uint64_t ts)
{
	d->p->close(d->session, ts, driver_sink(d));
}

static void driver_free(struct driver *d)
{
	d->p->free(d->session);
	free(d->session);
	d->session = NULL;
}

/* A conversation: who sends what, in order. */
struct exchange {
	bool ingress;
	const char *bytes;
	size_t len; /* 0: strlen(bytes) */
};

static size_t exchange_len(const struct exchange *e)
{
	return e->len ? e->len : strlen(e->bytes);
}

/*
 * Plays a conversation; each message is its own syscall with ts = its index
 * + 1, except message `split`, cut in two syscalls at byte `at` (same ts).
 */
static void driver_play(struct driver *d, const struct exchange *conv, size_t n, size_t split,
			size_t at)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = exchange_len(&conv[i]);

		if (i == split && at > 0 && at < len) {
			driver_feed(d, conv[i].ingress, conv[i].bytes, at, at, 0, i + 1);
			driver_feed(d, conv[i].ingress, conv[i].bytes + at, len - at, len - at, 0,
				    i + 1);
			continue;
		}
		driver_feed(d, conv[i].ingress, conv[i].bytes, len, len, 0, i + 1);
	}
}

#endif /* SONDE_TEST_PROTO_DRIVER_H */
