/* SPDX-License-Identifier: MIT */
/*
 * The ring buffer reader over a ring laid out as the kernel lays it: the data
 * area mapped twice in a row (a memfd here), records with the kernel's
 * header and padding, busy and discarded records.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "core/ring_reader.h"

#define RING_SIZE (256 * 1024)

struct fake_ring {
	uint64_t consumer_pos, producer_pos;
	uint8_t *data; /* RING_SIZE bytes, mapped twice */
	struct ring_reader r;
};

static int ring_setup(void **state)
{
	struct fake_ring *f = calloc(1, sizeof(*f));
	int fd = memfd_create("ring", 0);
	uint8_t *area;

	assert_non_null(f);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RING_SIZE), 0);
	area = mmap(NULL, 2 * RING_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(area != MAP_FAILED);
	assert_true(mmap(area, RING_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    area);
	assert_true(mmap(area + RING_SIZE, RING_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, 0) == area + RING_SIZE);
	close(fd);
	f->data = area;
	f->r = (struct ring_reader){
		.consumer_pos = &f->consumer_pos,
		.producer_pos = &f->producer_pos,
		.data = area,
		.mask = RING_SIZE - 1,
	};
	*state = f;
	return 0;
}

static int ring_teardown(void **state)
{
	struct fake_ring *f = *state;

	munmap(f->data, 2 * RING_SIZE);
	free(f);
	return 0;
}

/* Reserves a record of len bytes filled with fill, as the kernel does: busy
 * until committed. Returns its header. */
static uint32_t *reserve(struct fake_ring *f, uint32_t len, uint8_t fill)
{
	uint32_t *hdr = (uint32_t *)(f->data + (f->producer_pos & (RING_SIZE - 1)));

	hdr[0] = len | BPF_RINGBUF_BUSY_BIT;
	hdr[1] = 0;
	memset(hdr + 2, fill, len);
	f->producer_pos += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	return hdr;
}

static void commit(uint32_t *hdr, bool discard)
{
	hdr[0] = (hdr[0] & ~BPF_RINGBUF_BUSY_BIT) | (discard ? BPF_RINGBUF_DISCARD_BIT : 0);
}

static void put(struct fake_ring *f, uint32_t len, uint8_t fill)
{
	commit(reserve(f, len, fill), false);
}

struct seen {
	struct fake_ring *f;
	size_t n;
	uint32_t len[4096];
	uint8_t first[4096];
	uint64_t published[4096]; /* the consumer position while each was handed */
	bool intact;		  /* every byte of every record was its fill */
	int fail_at;		  /* return -EIO for this record (0: never) */
};

static int collect(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const uint8_t *b = data;

	for (size_t i = 0; i < size; i++)
		if (b[i] != b[0])
			s->intact = false;
	s->len[s->n] = (uint32_t)size;
	s->first[s->n] = size ? b[0] : 0;
	s->published[s->n] = s->f->consumer_pos;
	s->n++;
	return s->fail_at && (int)s->n == s->fail_at ? -EIO : 0;
}

static struct seen *new_seen(struct fake_ring *f)
{
	struct seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->f = f;
	s->intact = true;
	return s;
}

static void test_records_come_in_order_and_the_ring_is_emptied(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);

	put(f, 1, 0xa1);
	put(f, 13, 0xa2); /* padded to 24 bytes with its header */
	put(f, 200, 0xa3);
	assert_int_equal(ring_reader_backlog(&f->r), 16 + 24 + 208);
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 3);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->len[0], 1);
	assert_int_equal(s->len[1], 13);
	assert_int_equal(s->len[2], 200);
	assert_int_equal(s->first[0], 0xa1);
	assert_int_equal(s->first[2], 0xa3);
	assert_true(s->intact);
	assert_int_equal(f->consumer_pos, f->producer_pos);
	assert_int_equal(ring_reader_backlog(&f->r), 0);
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 0);
	free(s);
}

static void test_discarded_records_are_skipped(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);

	put(f, 8, 1);
	commit(reserve(f, 64, 2), true);
	put(f, 8, 3);
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 2);
	assert_int_equal(s->first[0], 1);
	assert_int_equal(s->first[1], 3);
	assert_int_equal(f->consumer_pos, f->producer_pos);
	free(s);
}

/* A record still being written holds back the ones after it, even committed. */
static void test_a_busy_record_ends_the_pass_until_committed(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);
	uint32_t *busy;

	put(f, 8, 1);
	busy = reserve(f, 8, 2);
	put(f, 8, 3);
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 1);
	assert_int_equal(f->consumer_pos, 16);
	commit(busy, false);
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 2);
	assert_int_equal(s->first[1], 2);
	assert_int_equal(s->first[2], 3);
	free(s);
}

static void test_the_budget_bounds_a_pass(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);

	for (int i = 0; i < 10; i++)
		put(f, 8, (uint8_t)i);
	assert_int_equal(ring_reader_consume(&f->r, 4, collect, s), 4);
	assert_int_equal(f->consumer_pos, 4 * 16);
	assert_int_equal(ring_reader_consume(&f->r, 4, collect, s), 4);
	assert_int_equal(ring_reader_consume(&f->r, 4, collect, s), 2);
	for (int i = 0; i < 10; i++)
		assert_int_equal(s->first[i], i);
	free(s);
}

/* A record across the end of the data area reads as one, through the second
 * mapping, and the position keeps growing past the ring's size. */
static void test_a_record_that_wraps_reads_whole(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);

	f->consumer_pos = f->producer_pos = RING_SIZE - 40;
	put(f, 300, 0x5a);
	put(f, 8, 0x5b);
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 2);
	assert_int_equal(s->len[0], 300);
	assert_true(s->intact);
	assert_int_equal(s->first[1], 0x5b);
	assert_int_equal(f->consumer_pos, RING_SIZE - 40 + 312 + 16);
	free(s);
}

/* The callback's error stops the pass; its record counts as consumed. */
static void test_an_error_stops_the_pass(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);

	put(f, 8, 1);
	put(f, 8, 2);
	put(f, 8, 3);
	s->fail_at = 2;
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), -EIO);
	assert_int_equal(f->consumer_pos, 32);
	s->fail_at = 0;
	assert_int_equal(ring_reader_consume(&f->r, 100, collect, s), 1);
	assert_int_equal(s->first[2], 3);
	free(s);
}

/* The position is published every RING_READER_RELEASE_BYTES, not after every
 * record: a long pass frees room as it goes, in steps. */
static void test_the_position_is_published_in_steps(void **state)
{
	struct fake_ring *f = *state;
	struct seen *s = new_seen(f);
	size_t n = 3 * RING_READER_RELEASE_BYTES / 1024 + 1; /* 1,024-byte records */
	size_t steps = 0;

	for (size_t i = 0; i < n; i++)
		put(f, 1024 - BPF_RINGBUF_HDR_SZ, (uint8_t)i);
	assert_int_equal(ring_reader_consume(&f->r, 4096, collect, s), (int)n);
	assert_int_equal(s->published[0], 0);
	for (size_t i = 1; i < n; i++) {
		if (s->published[i] == s->published[i - 1])
			continue;
		steps++;
		assert_int_equal(s->published[i] - s->published[i - 1], RING_READER_RELEASE_BYTES);
	}
	assert_int_equal(steps, 3);
	assert_int_equal(f->consumer_pos, f->producer_pos);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_come_in_order_and_the_ring_is_emptied,
						ring_setup, ring_teardown),
		cmocka_unit_test_setup_teardown(test_discarded_records_are_skipped, ring_setup,
						ring_teardown),
		cmocka_unit_test_setup_teardown(test_a_busy_record_ends_the_pass_until_committed,
						ring_setup, ring_teardown),
		cmocka_unit_test_setup_teardown(test_the_budget_bounds_a_pass, ring_setup,
						ring_teardown),
		cmocka_unit_test_setup_teardown(test_a_record_that_wraps_reads_whole, ring_setup,
						ring_teardown),
		cmocka_unit_test_setup_teardown(test_an_error_stops_the_pass, ring_setup,
						ring_teardown),
		cmocka_unit_test_setup_teardown(test_the_position_is_published_in_steps, ring_setup,
						ring_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
