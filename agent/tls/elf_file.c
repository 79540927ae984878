/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/elf_file.h"

struct elf_file {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
};

struct elf_file *elf_file_open(const char *path)
{
	struct elf_file *ef = calloc(1, sizeof(*ef));
	int err = ENOEXEC;

	if (!ef)
		return NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		goto fail;
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0) {
		err = errno;
		goto fail;
	}
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF || !gelf_getehdr(ef->elf, &ef->ehdr) ||
	    ef->ehdr.e_ident[EI_CLASS] != ELFCLASS64)
		goto fail;
	return ef;
fail:
	elf_file_close(ef);
	errno = err;
	return NULL;
}

void elf_file_close(struct elf_file *ef)
{
	if (!ef)
		return;
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd > 0)
		close(ef->fd);
	free(ef);
}

uint16_t elf_file_machine(struct elf_file *ef)
{
	return ef->ehdr.e_machine;
}

bool elf_file_is_dyn(struct elf_file *ef)
{
	return ef->ehdr.e_type == ET_DYN;
}

static Elf_Scn *find_section(struct elf_file *ef, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(ef->elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, shdr))
			continue;
		n = elf_strptr(ef->elf, shstrndx, shdr->sh_name);
		if (n && !strcmp(n, name))
			return scn;
	}
	return NULL;
}

static Elf_Scn *find_section_type(struct elf_file *ef, Elf64_Word type, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(ef->elf, scn)))
		if (gelf_getshdr(scn, shdr) && shdr->sh_type == type)
			return scn;
	return NULL;
}

/* One pass over a symbol table, filling the names still missing. */
static int scan_symbols(struct elf_file *ef, Elf64_Word type, const char *const *names, size_t n,
			struct elf_sym *out)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section_type(ef, type, &shdr);
	Elf_Data *data;
	size_t count;
	int found = 0;

	if (!scn || !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return 0;
	count = shdr.sh_size / shdr.sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    !sym.st_value ||
		    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		     GELF_ST_TYPE(sym.st_info) != STT_OBJECT))
			continue;
		name = elf_strptr(ef->elf, shdr.sh_link, sym.st_name);
		if (!name)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (out[k].addr || strcmp(name, names[k]))
				continue;
			out[k].addr = sym.st_value;
			out[k].size = sym.st_size;
			found++;
			break;
		}
	}
	return found;
}

int elf_file_find_syms(struct elf_file *ef, const char *const *names, size_t n, struct elf_sym *out)
{
	int found;

	memset(out, 0, n * sizeof(*out));
	found = scan_symbols(ef, SHT_SYMTAB, names, n, out);
	if ((size_t)found < n)
		found += scan_symbols(ef, SHT_DYNSYM, names, n, out);
	return found;
}

int elf_file_offset(struct elf_file *ef, uint64_t vaddr, uint64_t *offset)
{
	size_t nphdr;

	if (elf_getphdrnum(ef->elf, &nphdr))
		return -ENOEXEC;
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(ef->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -ENOENT;
}

static const uint8_t *section_bytes(Elf_Scn *scn, size_t *size)
{
	Elf_Data *data;
	GElf_Shdr shdr;

	if (gelf_getshdr(scn, &shdr) && (shdr.sh_flags & SHF_COMPRESSED) &&
	    elf_compress(scn, 0, 0) < 0)
		return NULL;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return NULL;
	*size = data->d_size;
	return data->d_buf;
}

const uint8_t *elf_file_section(struct elf_file *ef, const char *name, size_t *size, uint64_t *addr)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section(ef, name, &shdr);

	if (!scn || shdr.sh_type == SHT_NOBITS)
		return NULL;
	if (addr)
		*addr = shdr.sh_addr;
	return section_bytes(scn, size);
}

int elf_file_read(struct elf_file *ef, uint64_t vaddr, void *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		const uint8_t *bytes;
		size_t size;

		if (!gelf_getshdr(scn, &shdr) || !(shdr.sh_flags & SHF_ALLOC) ||
		    shdr.sh_type == SHT_NOBITS || vaddr < shdr.sh_addr ||
		    vaddr - shdr.sh_addr >= shdr.sh_size)
			continue;
		bytes = section_bytes(scn, &size);
		if (!bytes || vaddr - shdr.sh_addr + len > size)
			return -EFAULT;
		memcpy(buf, bytes + (vaddr - shdr.sh_addr), len);
		return 0;
	}
	return -EFAULT;
}

bool elf_file_needs(struct elf_file *ef, const char *prefix)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = find_section_type(ef, SHT_DYNAMIC, &shdr);
	Elf_Data *data;
	size_t plen = strlen(prefix);

	if (!scn || !shdr.sh_entsize || !(data = elf_getdata(scn, NULL)))
		return false;
	for (size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; i++) {
		GElf_Dyn dyn;
		const char *name;

		if (!gelf_getdyn(data, (int)i, &dyn) || dyn.d_tag != DT_NEEDED)
			continue;
		name = elf_strptr(ef->elf, shdr.sh_link, dyn.d_un.d_val);
		if (name && !strncmp(name, prefix, plen))
			return true;
	}
	return false;
}
