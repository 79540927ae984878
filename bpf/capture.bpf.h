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
	/* The size as a mask keeps within [1, SONDE_MAX_IOV] iovecs for every
	 * verifier: 6.1's lost the clamp above and refused a size it saw as
	 * possibly negative (iovcnt is within that range here, so it is unchanged). */
	_Static_assert((SONDE_MAX_IOV & (SONDE_MAX_IOV - 1)) == 0, "a power of two");
	if (!iovcnt ||
	    bpf_probe_read_user(iovs, (((iovcnt - 1) & (SONDE_MAX_IOV - 1)) + 1) * sizeof(iovs[0]),
				uiov)) {
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

/*
 * HTTP/2 connections are copied in full, whatever targ_capture_bytes says: the
 * agent's header decompression needs every header block, and frames are not
 * parsed here. A syscall becomes up to H2_MAX_EVENTS events of up to
 * SONDE_MAX_CAPTURE bytes, across up to H2_MAX_IOV iovecs; what is left (a
 * larger syscall, usually DATA) is counted by a last event, so the agent knows
 * how many bytes it did not see and where.
 */
#define H2_MAX_EVENTS 16
#define H2_MAX_IOV    32
/* Each step reads an iovec or copies a piece (an iovec's end or a full event). */
#define H2_STEPS (H2_MAX_EVENTS + 2 * H2_MAX_IOV)

/* Sends the first n bytes of the scratch payload as an event standing for
 * total bytes at stream position pos (the rest of the event is set). */
static __always_inline void h2_send(struct data_scratch *s, __u64 n, __s64 total, __u64 pos)
{
	s->ev.captured = n;
	s->ev.total = total;
	s->ev.stream_pos = pos;
	if (n > SONDE_MAX_CAPTURE)
		return;
	submit(s, sizeof(s->ev) + n, wakeup_flag());
}

/*
 * One step of the copy: reads the next iovec, or copies the next piece and
 * sends the event it completes. Returns 0 to go on, 1 when done.
 *
 * A global function, and the walk's state in the scratch map: the verifier
 * checks a global function once, on its own, so the loop that calls it is a
 * call and a branch per iteration. Inlined, the copy's paths multiplied with
 * every iteration past the verifier's million-instruction limit.
 */
__noinline int h2_step(void)
{
	__u32 zero = 0;
	struct data_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct h2_walk *w;
	__u64 n, fill;

	if (!s)
		return 1;
	w = &s->walk;
	if (w->done + w->fill >= w->ret || w->events >= w->max_events || w->events >= H2_MAX_EVENTS)
		return 1;
	if (!w->seg_left) {
		if (!w->uiov || w->iov_i >= w->iovcnt || w->iov_i >= H2_MAX_IOV)
			return 1;
		if (bpf_probe_read_user(&s->iov, sizeof(s->iov),
					(const void *)(w->uiov + w->iov_i * sizeof(s->iov)))) {
			count(SONDE_CNT_CAPTURE_FAIL);
			return 1;
		}
		w->iov_i++;
		w->seg = (__u64)s->iov.iov_base;
		w->seg_left = s->iov.iov_len;
		if (w->seg_left > w->ret - w->done - w->fill)
			w->seg_left = w->ret - w->done - w->fill;
		return 0;
	}
	fill = w->fill;
	if (fill >= SONDE_MAX_CAPTURE)
		return 1;
	n = w->seg_left;
	if (n > SONDE_MAX_CAPTURE - fill)
		n = SONDE_MAX_CAPTURE - fill;
	/* Redundant, but the 6.1 verifier does not learn a bound from comparing
	 * two registers (the kernel matrix found it); the barrier keeps clang
	 * from dropping the check as implied. */
	barrier_var(n);
	if (n > SONDE_MAX_CAPTURE)
		return 1;
	if (bpf_probe_read_user(s->payload + fill, n, (const void *)w->seg)) {
		count(SONDE_CNT_CAPTURE_FAIL);
		return 1;
	}
	fill += n;
	w->seg += n;
	w->seg_left -= n;
	if (fill >= SONDE_MAX_CAPTURE || w->done + fill >= w->ret) {
		h2_send(s, fill, fill, w->pos + w->done);
		w->done += fill;
		fill = 0;
		w->events++;
	}
	w->fill = fill;
	return 0;
}

/* s->ev's header and fields other than sizes are set by the caller. ubuf is a
 * plain buffer, or NULL with uiov/iovcnt an iovec array; pos is the stream
 * position of the syscall's first byte. At most max_events events carry
 * bytes (log output: bpf/logs.bpf.h); the rest is counted by a last one. */
static __always_inline void capture_walk(struct data_scratch *s, const void *ubuf,
					 const struct iovec *uiov, __u64 iovcnt, __s64 ret,
					 __u64 pos, __u32 max_events)
{
	struct h2_walk *w = &s->walk;

	*w = (struct h2_walk){
		.seg = (__u64)ubuf,
		.seg_left = ubuf ? ret : 0,
		.ret = ret,
		.pos = pos,
		.uiov = (__u64)uiov,
		.iovcnt = iovcnt,
		.max_events = max_events,
	};
	for (int step = 0; step < H2_STEPS; step++)
		if (h2_step())
			break;
	/* Bytes not copied, with any copied but not yet sent. */
	if (w->done < w->ret)
		h2_send(s, w->fill, w->ret - w->done, w->pos + w->done);
}

static __always_inline void capture_h2(struct data_scratch *s, const void *ubuf,
				       const struct iovec *uiov, __u64 iovcnt, __s64 ret, __u64 pos)
{
	capture_walk(s, ubuf, uiov, iovcnt, ret, pos, H2_MAX_EVENTS);
}

/*
 * PostgreSQL: a syscall larger than the capture also sends its last
 * PG_TAIL bytes, as an event of their own right after the first (each
 * event's total covers its own bytes). A reply to a query that returns
 * many rows is read in large pieces; its last bytes hold the command's
 * CommandComplete and ReadyForQuery, which the agent needs to end the span
 * and find the message boundaries again. Plain buffers only (recv, read,
 * send, write: what libpq, Go and Node.js use). s->ev is set, with the
 * first n bytes in the payload. Global, for the verifier's sake.
 */
#define PG_TAIL 256

__noinline int pg_send_with_tail(__u64 ubuf, __s64 ret, __u64 n)
{
	__u32 zero = 0;
	struct data_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	__u64 tail;

	if (!s || n > SONDE_MAX_CAPTURE || ret <= (__s64)n)
		return 0;
	tail = (__u64)ret - n;
	if (tail > PG_TAIL)
		tail = PG_TAIL;
	s->ev.total = ret - (__s64)tail;
	/* Checked again: the verifier kept the bound on another copy of n. */
	barrier_var(n);
	if (n > SONDE_MAX_CAPTURE)
		return 0;
	submit(s, sizeof(s->ev) + n, wakeup_flag());
	s->ev.stream_pos += ret - (__s64)tail;
	if (s->ev.seq_kind != SONDE_SEQ_NONE)
		s->ev.seq += (__u32)(ret - (__s64)tail);
	s->ev.total = (__s64)tail;
	barrier_var(tail);
	if (tail > PG_TAIL)
		return 0;
	if (bpf_probe_read_user(s->payload, tail, (const void *)(ubuf + ret - tail))) {
		count(SONDE_CNT_CAPTURE_FAIL);
		return 0;
	}
	s->ev.captured = tail;
	submit(s, sizeof(s->ev) + tail, wakeup_flag());
	return 0;
}

#endif /* SONDE_CAPTURE_BPF_H */
