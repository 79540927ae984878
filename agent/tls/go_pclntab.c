/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tls/go_pclntab.h"

#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u

static uint64_t get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i); /* little-endian: x86-64, arm64 */
	return v;
}

/* The NUL-terminated name at off in funcnametab, or NULL when out of bounds. */
static const char *name_at(const uint8_t *tab, size_t size, uint64_t names, int64_t off)
{
	uint64_t at = names + (uint64_t)off;

	if (off < 0 || at >= size || !memchr(tab + at, '\0', size - at))
		return NULL;
	return (const char *)tab + at;
}

int go_pclntab_find(const uint8_t *tab, size_t size, uint64_t text_start, const char *name,
		    struct go_func *out)
{
	uint32_t magic;
	uint64_t nfunc, names, functab, text;
	size_t ptr, ent, hdr;
	bool old;

	if (size < 8)
		return -EINVAL;
	magic = (uint32_t)get(tab, 4);
	ptr = tab[7];
	if (ptr != 8 || tab[4] || tab[5])
		return -EINVAL;
	if (magic == MAGIC_118 || magic == MAGIC_120)
		old = false;
	else if (magic == MAGIC_116)
		old = true;
	else
		return -EINVAL;
	/* pcHeader: magic, pad, minLC, ptrSize, nfunc, nfiles, [textStart,]
	 * funcnameOffset, cuOffset, filetabOffset, pctabOffset, pclnOffset. */
	hdr = 8 + ptr * (old ? 7 : 8);
	if (size < hdr)
		return -EINVAL;
	nfunc = get(tab + 8, ptr);
	text = old ? 0 : get(tab + 8 + 2 * ptr, ptr);
	names = get(tab + 8 + (old ? 2 : 3) * ptr, ptr);
	functab = get(tab + 8 + (old ? 6 : 7) * ptr, ptr);
	if (!text)
		text = text_start;
	/* functab: nfunc + 1 pairs (entry, funcoff); the last entry is the end of
	 * the last function. 1.16/1.17: uintptrs, entry absolute; 1.18+: uint32s,
	 * entry relative to textStart. funcoff is relative to functab. */
	ent = old ? 2 * ptr : 8;
	if (functab > size || nfunc > (size - functab) / ent - 1)
		return -EINVAL;
	for (uint64_t i = 0; i < nfunc; i++) {
		const uint8_t *e = tab + functab + i * ent;
		uint64_t funcoff = old ? get(e + ptr, ptr) : get(e + 4, 4);
		uint64_t f = functab + funcoff;
		const char *n;

		/* _func: entry (uintptr, or uint32 entryOff since 1.18), nameOff int32 */
		if (funcoff > size || f + (old ? ptr : 4) + 4 > size)
			continue;
		n = name_at(tab, size, names, (int32_t)get(tab + f + (old ? ptr : 4), 4));
		if (!n || strcmp(n, name))
			continue;
		if (old) {
			out->entry = get(e, ptr);
			out->end = get(e + ent, ptr);
		} else {
			out->entry = text + get(e, 4);
			out->end = text + get(e + ent, 4);
		}
		return out->end > out->entry ? 0 : -EINVAL;
	}
	return -ENOENT;
}
