/* SPDX-License-Identifier: MIT */
#include <linux/bpf.h>

#include "core/ring_reader.h"

/* A record's header and payload, padded to 8 bytes as the kernel lays them. */
static uint64_t record_span(uint32_t len)
{
	return ((uint64_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~(uint64_t)7;
}

static void publish(struct ring_reader *r, uint64_t pos)
{
	__atomic_store_n(r->consumer_pos, pos, __ATOMIC_RELEASE);
}

int ring_reader_consume(struct ring_reader *r, int budget, ring_record_fn fn, void *ctx)
{
	uint64_t cons = *r->consumer_pos, published = cons;
	uint64_t prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	int handed = 0, err = 0;

	while (handed < budget) {
		const uint32_t *hdr;
		uint32_t len;

		if (cons == prod) {
			/* Caught up: look once more before ending the pass. */
			prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
			if (cons == prod)
				break;
		}
		hdr = (const uint32_t *)(r->data + (cons & r->mask));
		len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break; /* reserved, not yet committed: later records wait for it */
		cons += record_span(len & ~BPF_RINGBUF_DISCARD_BIT);
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			handed++;
			err = fn(ctx, (void *)(hdr + 2), len);
			if (err)
				break;
		}
		if (cons - published >= RING_READER_RELEASE_BYTES) {
			publish(r, cons);
			published = cons;
		}
	}
	if (cons != published)
		publish(r, cons);
	return err < 0 ? err : handed;
}

uint64_t ring_reader_backlog(const struct ring_reader *r)
{
	return __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED);
}
