/* SPDX-License-Identifier: MIT */
/* Copies a bounded prefix of a syscall's user buffer(s) into the scratch event. */
#ifndef SONDE_CAPTURE_BPF_H
#define SONDE_CAPTURE_BPF_H

#include "maps.bpf.h"

/* iovecs looked at per readv/writev/recvmsg/sendmsg; HTTP servers put the head
 * in the first one or two, and the rest only adds to the byte count. */
#define SONDE_MAX_IOV 8

static __always_inline __u32 capture_limit(__s64 total)
{
	__u32 cap = targ_capture_bytes;

	if (cap > SONDE_MAX_CAPTURE)
		cap = SONDE_MAX_CAPTURE;
	if (total < cap)
		cap = (__u32)total;
	return cap;
}

/* Returns the number of bytes copied from one buffer. */
static __always_inline __u32 capture_buf(struct data_scratch *s, const void *ubuf, __s64 total)
{
	__u32 n = capture_limit(total);

	if (n > SONDE_MAX_CAPTURE)
		return 0;
	if (bpf_probe_read_user(s->payload, n, ubuf)) {
		count(SONDE_CNT_CAPTURE_FAIL);
		return 0;
	}
	return n;
}

/* Copies from an iovec array, up to the capture limit and the bytes the syscall
 * actually moved (which can be fewer than the iovecs hold). */
static __always_inline __u32 capture_iov(struct data_scratch *s, const struct iovec *uiov,
					 __u64 iovcnt, __s64 total)
{
	struct iovec iovs[SONDE_MAX_IOV];
	__u64 limit = capture_limit(total);
	__u64 off = 0;

	if (iovcnt > SONDE_MAX_IOV)
		iovcnt = SONDE_MAX_IOV;
	/* One read for the whole array: a helper call costs more than the bytes. */
	if (!iovcnt || bpf_probe_read_user(iovs, iovcnt * sizeof(iovs[0]), uiov)) {
		count(SONDE_CNT_CAPTURE_FAIL);
		return 0;
	}
#pragma unroll
	for (int i = 0; i < SONDE_MAX_IOV; i++) {
		__u64 n;

		if (i >= iovcnt || off >= limit)
			break;
		/* 64-bit arithmetic throughout: a bound checked on a 32-bit copy
		 * does not carry over to the register passed to the helper. */
		n = iovs[i].iov_len;
		if (n > limit - off)
			n = limit - off;
		if (n > SONDE_MAX_CAPTURE)
			break;
		/* n lives across the helper call (off += n), so clang spills it, and
		 * did so before the check above. The 6.1 verifier keeps no bounds
		 * for an unbounded scalar spilled to the stack (6.12's does) and
		 * rejected the reloaded size: "R2 min value is negative" (found by
		 * the kernel matrix). The barrier makes the checked n the one spilled. */
		barrier_var(n);
		/* off < limit <= SONDE_MAX_CAPTURE: the mask only informs the verifier. */
		off &= SONDE_MAX_CAPTURE - 1;
		if (bpf_probe_read_user(s->payload + off, n, iovs[i].iov_base)) {
			count(SONDE_CNT_CAPTURE_FAIL);
			break;
		}
		off += n;
	}
	return off;
}

#endif /* SONDE_CAPTURE_BPF_H */
