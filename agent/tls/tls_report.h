/* SPDX-License-Identifier: MIT */
/* The TLS hooks, as `sonde trace --stats` and `sonde probe` show them. */
#ifndef SONDE_TLS_REPORT_H
#define SONDE_TLS_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct tls_attach;

/* Lines starting with indent: one summary line, then one per hooked file. */
void tls_report_text(FILE *f, const char *indent, const struct tls_attach *ta, uint64_t no_fd);
/* A JSON array of one object per hooked file, into buf; -1 when it does not fit. */
int tls_report_json(char *buf, size_t cap, const struct tls_attach *ta);

#endif /* SONDE_TLS_REPORT_H */
