/* SPDX-License-Identifier: MIT */
/* What every protocol matcher (bpf/protocols/<name>.bpf.h) shares. */
#ifndef SONDE_PROTO_MATCH_BPF_H
#define SONDE_PROTO_MATCH_BPF_H

#include "sonde_event.h"

/* Bytes the classifier looks at. */
#define CLASSIFY_BYTES 8

static __always_inline bool starts_with4(const __u8 *b, char c0, char c1, char c2, char c3)
{
	return b[0] == c0 && b[1] == c1 && b[2] == c2 && b[3] == c3;
}

#endif /* SONDE_PROTO_MATCH_BPF_H */
