/* SPDX-License-Identifier: MIT */
/*
 * Go's function table (.gopclntab), which stays in binaries built without a
 * symbol table (-ldflags=-s): where a function starts and ends, by name.
 * Formats of Go 1.16/1.17 (magic 0xfffffffa) and 1.18+ (0xfffffff0, and
 * 0xfffffff1 since 1.20), as the runtime's pcHeader and functab describe them.
 * Pure: bytes in, addresses out.
 */
#ifndef SONDE_GO_PCLNTAB_H
#define SONDE_GO_PCLNTAB_H

#include <stddef.h>
#include <stdint.h>

struct go_func {
	uint64_t entry; /* virtual address of the first instruction */
	uint64_t end;	/* of the next function: padding included */
};

/* Finds the function called name. text_start is the .text section's address,
 * used when the header's own is zero (filled by a relocation in PIE
 * binaries). Returns 0, -ENOENT, or -EINVAL for a table it cannot read. */
int go_pclntab_find(const uint8_t *tab, size_t size, uint64_t text_start, const char *name,
		    struct go_func *out);

#endif /* SONDE_GO_PCLNTAB_H */
