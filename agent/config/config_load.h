/* SPDX-License-Identifier: MIT */
/* `sonde run`'s settings from outside: the YAML file and the environment. */
#ifndef SONDE_CONFIG_LOAD_H
#define SONDE_CONFIG_LOAD_H

#include <stddef.h>

#include "config/config.h"

/* Applies every known variable found in envp (NULL-terminated "NAME=value"). */
int config_load_env(struct sonde_config *c, char *const envp[], char *err, size_t errlen);

/* Reads a YAML file (at most 1 MiB) and applies it as config_load_yaml_text(). */
int config_load_yaml_file(struct sonde_config *c, const char *path, char *err, size_t errlen);

/*
 * Everything in order: defaults, the file (--config FILE or SONDE_CONFIG), the
 * environment, then the flags in argv (argv[0] is the subcommand and is skipped),
 * then config_finish(). Returns 0, -EINVAL with err set (or the -errno of a
 * config file that cannot be read), or 1 when argv asked for --help (nothing
 * else is done).
 */
int config_load_all(struct sonde_config *c, int argc, char **argv, char *const envp[], char *err,
		    size_t errlen);

#endif /* SONDE_CONFIG_LOAD_H */
