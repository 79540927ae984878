/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "tls/arm64_ret.h"

/* RET Xn: 1101 0110 0101 1111 0000 00nn nnn0 0000 (Go returns through X30). */
#define RET_MASK 0xfffffc1fu
#define RET	 0xd65f0000u
/* The pointer-authenticating returns (C built with -mbranch-protection). */
#define RETAA 0xd65f0bffu
#define RETAB 0xd65f0fffu

int arm64_find_rets(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, size_t max)
{
	int n = 0;

	if (len % 4 || addr % 4)
		return -EILSEQ;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t w = (uint32_t)code[i] | (uint32_t)code[i + 1] << 8 |
			     (uint32_t)code[i + 2] << 16 | (uint32_t)code[i + 3] << 24;

		if ((w & RET_MASK) != RET && w != RETAA && w != RETAB)
			continue;
		if ((size_t)n < max)
			out[n] = addr + i;
		n++;
	}
	return n;
}
