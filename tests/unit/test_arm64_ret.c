/* SPDX-License-Identifier: MIT */
/*
 * The arm64 RET finder on hand-assembled code (encodings as an assembler
 * gives them): every return found at its address, and no branch that only
 * differs from RET in a few bits, no RET pattern across two instructions,
 * no code that is not whole instructions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "tls/arm64_ret.h"

/* A function returning three ways, then the near misses. */
static const uint8_t code[] = {
	0xfd, 0x7b, 0xbf, 0xa9, /* 0x00 stp x29, x30, [sp, #-16]! */
	0xfd, 0x03, 0x00, 0x91, /* 0x04 mov x29, sp */
	0x60, 0x00, 0x00, 0xb4, /* 0x08 cbz x0, #12 */
	0xfd, 0x7b, 0xc1, 0xa8, /* 0x0c ldp x29, x30, [sp], #16 */
	0xc0, 0x03, 0x5f, 0xd6, /* 0x10 ret */
	0x00, 0x00, 0x80, 0x92, /* 0x14 mov x0, #-1 */
	0x20, 0x00, 0x5f, 0xd6, /* 0x18 ret x1 */
	0xff, 0x0b, 0x5f, 0xd6, /* 0x1c retaa */
	0xc0, 0x03, 0x1f, 0xd6, /* 0x20 br x30: not a return */
	0xc0, 0x03, 0x3f, 0xd6, /* 0x24 blr x30: a call */
	0xe0, 0x03, 0x9f, 0xd6, /* 0x28 eret: the kernel's */
	0x1f, 0x20, 0x03, 0xd5, /* 0x2c nop */
};

static void test_finds_each_return(void **state)
{
	uint64_t rets[8];

	(void)state;
	assert_int_equal(arm64_find_rets(code, sizeof(code), 0x400000, rets, 8), 3);
	assert_int_equal(rets[0], 0x400010);
	assert_int_equal(rets[1], 0x400018);
	assert_int_equal(rets[2], 0x40001c);
	/* the branches alone: none */
	assert_int_equal(arm64_find_rets(code + 0x20, 16, 0x400020, rets, 8), 0);
}

static void test_only_aligned_words(void **state)
{
	/* c0 03 5f d6 (ret) across two words: 0x03c00000 and 0x0000d65f */
	static const uint8_t straddle[] = { 0x00, 0x00, 0xc0, 0x03, 0x5f, 0xd6, 0x00, 0x00 };
	uint64_t rets[4];

	(void)state;
	assert_int_equal(arm64_find_rets(straddle, sizeof(straddle), 0x1000, rets, 4), 0);
	/* the same bytes from the second: the ret is there, but not at an
	 * instruction boundary of this address, nor whole */
	assert_int_equal(arm64_find_rets(straddle + 2, 4, 0x1002, rets, 4), -EILSEQ);
	assert_int_equal(arm64_find_rets(code, sizeof(code) - 2, 0x1000, rets, 4), -EILSEQ);
	assert_int_equal(arm64_find_rets(code, 0, 0x1000, rets, 4), 0);
}

static void test_more_than_max(void **state)
{
	uint64_t rets[2] = { 0, 0 };

	(void)state;
	/* all three counted, the first two written */
	assert_int_equal(arm64_find_rets(code, sizeof(code), 0, rets, 2), 3);
	assert_int_equal(rets[0], 0x10);
	assert_int_equal(rets[1], 0x18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_each_return),
		cmocka_unit_test(test_only_aligned_words),
		cmocka_unit_test(test_more_than_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
