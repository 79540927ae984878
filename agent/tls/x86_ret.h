/* SPDX-License-Identifier: MIT */
/*
 * The RET instructions of a function's machine code (x86-64), found by
 * decoding it instruction by instruction: a 0xc3 byte may as well be part of
 * an immediate or a displacement. Where Go code returns, since uretprobes
 * must not be used on it. Pure: bytes in, addresses out (Capstone).
 */
#ifndef SONDE_X86_RET_H
#define SONDE_X86_RET_H

#include <stddef.h>
#include <stdint.h>

/* Decodes code (whose first byte is at address addr) and writes the address
 * of each RET into out. Returns how many there are (more than max: only max
 * written), or -EILSEQ when some bytes are no instruction (so no RET can be
 * trusted), -ENOMEM. */
int x86_find_rets(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, size_t max);

#endif /* SONDE_X86_RET_H */
