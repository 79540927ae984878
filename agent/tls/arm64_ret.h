/* SPDX-License-Identifier: MIT */
/*
 * The RET instructions of a function's machine code (arm64). Every arm64
 * instruction is one aligned little-endian 32-bit word, so no decoder is
 * needed: a word is a RET or it is not. Where Go code returns, since
 * uretprobes must not be used on it. Pure: bytes in, addresses out.
 */
#ifndef SONDE_ARM64_RET_H
#define SONDE_ARM64_RET_H

#include <stddef.h>
#include <stdint.h>

/* Finds RET Xn, RETAA and RETAB in code (whose first byte is at address
 * addr) and writes the address of each into out. Returns how many there are
 * (more than max: only max written), or -EILSEQ when code is not whole
 * instructions (addr or len not a multiple of 4). */
int arm64_find_rets(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, size_t max);

#endif /* SONDE_ARM64_RET_H */
