/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "export/pb_writer.h"

#define PB_VARINT_MAX 10

int pb_writer_init(struct pb_writer *w, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->cap = cap ? cap : 1;
	w->buf = malloc(w->cap);
	if (!w->buf) {
		w->cap = 0;
		w->failed = true;
		return -ENOMEM;
	}
	return 0;
}

void pb_writer_borrow(struct pb_writer *w, uint8_t *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->borrowed = true;
}

void pb_writer_free(struct pb_writer *w)
{
	if (!w->borrowed)
		free(w->buf);
	memset(w, 0, sizeof(*w));
}

bool pb_grow(struct pb_writer *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 64;
	uint8_t *p;

	if (w->failed)
		return false;
	while (cap - w->len < n) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	p = w->borrowed ? malloc(cap) : realloc(w->buf, cap);
	if (!p)
		goto fail;
	if (w->borrowed)
		memcpy(p, w->buf, w->len);
	w->borrowed = false;
	w->buf = p;
	w->cap = cap;
	return true;
fail:
	w->failed = true;
	return false;
}

void pb_varint_field(struct pb_writer *w, uint32_t field, uint64_t v)
{
	uint8_t *p;

	if (!pb_room(w, 2 * PB_VARINT_MAX))
		return;
	p = pb_put_varint(w->buf + w->len, pb_tag(field, PB_VARINT));
	p = pb_put_varint(p, v);
	w->len = (size_t)(p - w->buf);
}

void pb_fixed64_field(struct pb_writer *w, uint32_t field, uint64_t v)
{
	uint8_t *p;

	if (!pb_room(w, PB_VARINT_MAX + 8))
		return;
	p = pb_put_varint(w->buf + w->len, pb_tag(field, PB_I64));
	p = pb_put_fixed(p, v, 8);
	w->len = (size_t)(p - w->buf);
}

void pb_fixed32_field(struct pb_writer *w, uint32_t field, uint32_t v)
{
	uint8_t *p;

	if (!pb_room(w, PB_VARINT_MAX + 4))
		return;
	p = pb_put_varint(w->buf + w->len, pb_tag(field, PB_I32));
	p = pb_put_fixed(p, v, 4);
	w->len = (size_t)(p - w->buf);
}

void pb_bytes_field(struct pb_writer *w, uint32_t field, const void *data, size_t n)
{
	if (!pb_room(w, 2 * PB_VARINT_MAX + n))
		return;
	w->len = (size_t)(pb_put_bytes(w->buf + w->len, field, data, n) - w->buf);
}

bool pb_open(struct pb_writer *w, uint32_t field, unsigned width, struct pb_mark *m)
{
	uint8_t *p;

	if (width < 1 || width > PB_VARINT_MAX)
		width = PB_VARINT_MAX;
	if (!pb_room(w, PB_VARINT_MAX + width))
		return false;
	p = pb_put_varint(w->buf + w->len, pb_tag(field, PB_LEN));
	m->width = width;
	m->body = (size_t)(p - w->buf) + width;
	w->len = m->body;
	return true;
}

void pb_close(struct pb_writer *w, const struct pb_mark *m)
{
	size_t len = w->len - m->body;
	size_t need = pb_varint_size(len);
	size_t start = m->body - m->width;

	if (w->failed)
		return;
	if (need != m->width) {
		/* The guess was wrong: move the body so the length stays minimal. */
		if (need > m->width && !pb_room(w, need - m->width))
			return;
		memmove(w->buf + start + need, w->buf + m->body, len);
		w->len = start + need + len;
	}
	pb_put_varint(w->buf + start, len);
}
