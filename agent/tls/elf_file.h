/* SPDX-License-Identifier: MIT */
/*
 * What uprobes need from an ELF file: function symbols, the file offset of an
 * address (uprobes are placed by offset in the file), section contents and
 * the bytes at an address. libelf, read-only, memory-mapped.
 */
#ifndef SONDE_ELF_FILE_H
#define SONDE_ELF_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_file;

struct elf_sym {
	uint64_t addr; /* st_value: the link-time virtual address */
	uint64_t size; /* st_size; 0 when the symbol table does not say */
};

/* NULL with errno set (ENOEXEC: not a 64-bit ELF file). */
struct elf_file *elf_file_open(const char *path);
void elf_file_close(struct elf_file *ef);

/* Looks up n defined symbols (functions, objects) by name in .symtab, then
 * .dynsym, in one pass over each. out[i].addr is 0 for a name not found.
 * Returns how many were found. */
int elf_file_find_syms(struct elf_file *ef, const char *const *names, size_t n,
		       struct elf_sym *out);
/* The file offset where the byte at vaddr is, through the PT_LOAD segments. */
int elf_file_offset(struct elf_file *ef, uint64_t vaddr, uint64_t *offset);
/* A section's contents (decompressed when SHF_COMPRESSED), or NULL. addr gets
 * its sh_addr when not NULL. Valid until elf_file_close. */
const uint8_t *elf_file_section(struct elf_file *ef, const char *name, size_t *size,
				uint64_t *addr);
/* Copies len bytes at virtual address vaddr from the section holding them. */
int elf_file_read(struct elf_file *ef, uint64_t vaddr, void *buf, size_t len);
/* The architecture its code is for: e_machine (EM_X86_64, EM_AARCH64). */
uint16_t elf_file_machine(struct elf_file *ef);
/* ET_DYN (shared library, PIE) rather than ET_EXEC. */
bool elf_file_is_dyn(struct elf_file *ef);
/* Whether DT_NEEDED names a library whose name starts with prefix. */
bool elf_file_needs(struct elf_file *ef, const char *prefix);

#endif /* SONDE_ELF_FILE_H */
