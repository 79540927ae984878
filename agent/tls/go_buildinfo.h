/* SPDX-License-Identifier: MIT */
/*
 * The Go version a binary was built with, from its .go.buildinfo section
 * (what `go version BINARY` prints). Pure: the section's bytes in; for
 * binaries before Go 1.18 the version is behind pointers, read through
 * read_at.
 */
#ifndef SONDE_GO_BUILDINFO_H
#define SONDE_GO_BUILDINFO_H

#include <stddef.h>
#include <stdint.h>

/* Reads len bytes at a virtual address of the binary; 0 or -errno. */
typedef int (*go_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* Writes "go1.19.8" (say) into out. 0, or -EINVAL when sec is no build info. */
int go_buildinfo_version(const uint8_t *sec, size_t size, go_read_fn read_at, void *ctx, char *out,
			 size_t len);

/* Major and minor of "go1.19.8", "go1.21rc2", "go1.22": 0, or -EINVAL. */
int go_version_parse(const char *v, unsigned *major, unsigned *minor);

#endif /* SONDE_GO_BUILDINFO_H */
