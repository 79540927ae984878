/* SPDX-License-Identifier: MIT */
/*
 * Which tracepoints this kernel has. The syscall table differs per
 * architecture (arm64 has no open, access, send, recv, …; x86-64 has them), so
 * a tracepoint program whose event is missing is left out before load instead
 * of failing the attach of everything else.
 */
#ifndef SONDE_TRACEPOINTS_H
#define SONDE_TRACEPOINTS_H

#include <stddef.h>

struct bpf_object;

/* Turns off loading of every "tracepoint/CATEGORY/EVENT" program of obj that
 * is to be loaded and whose event is not under tracefs/events/. Returns how
 * many; missing gets their events, comma-separated (cut to fit). */
int tracepoints_skip_missing(struct bpf_object *obj, const char *tracefs, char *missing,
			     size_t len);

#endif /* SONDE_TRACEPOINTS_H */
