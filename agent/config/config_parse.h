/* SPDX-License-Identifier: MIT */
/* Private to config*.c: turns the text of one setting into its field. */
#ifndef SONDE_CONFIG_PARSE_H
#define SONDE_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/*
 * Parses text as s->type says and stores it in c (a list grows when append is
 * set, else it is replaced). Returns 0, or -EINVAL with the reason in why
 * ("not an integer between 1 and 600000"); c is unchanged on error.
 */
int config_store(struct sonde_config *c, const struct config_setting *s, const char *text,
		 bool append, char *why, size_t whylen);

/* true/false, 1/0, yes/no, on/off in any case. Returns 0 or -EINVAL. */
int config_parse_bool(const char *text, bool *out);

#endif /* SONDE_CONFIG_PARSE_H */
