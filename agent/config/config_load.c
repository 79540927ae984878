/* SPDX-License-Identifier: MIT */
/*
 * `sonde run`'s layers from outside the command line: the YAML file, read
 * here and walked by config_yaml.c, and the environment; then everything in
 * order (config_load_all). The only config code that touches the system.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_load.h"

/* A configuration file is a few kilobytes; anything much larger is a mistake. */
#define CONFIG_FILE_MAX (1 << 20)

int config_load_env(struct sonde_config *c, char *const envp[], char *err, size_t errlen)
{
	for (; envp && *envp; envp++) {
		const char *eq = strchr(*envp, '=');
		const struct config_setting *s;
		int ret;

		/* OpenTelemetry: an empty value is the same as an unset variable */
		if (!eq || !eq[1])
			continue;
		s = config_find_env(*envp, (size_t)(eq - *envp));
		if (!s)
			continue;
		ret = config_set(c, s->key, eq + 1, s->env, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

int config_load_yaml_file(struct sonde_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len;
	int ret;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(-ret));
		return ret;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(-ret));
		goto cleanup;
	}
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		ret = -(errno ? errno : EIO);
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(-ret));
		goto cleanup;
	}
	if (len > CONFIG_FILE_MAX) {
		ret = -EFBIG;
		snprintf(err, errlen, "config file %s is larger than %d bytes", path,
			 CONFIG_FILE_MAX);
		goto cleanup;
	}
	ret = config_load_yaml_text(c, text, len, path, err, errlen);
cleanup:
	free(text);
	fclose(f);
	return ret;
}

static const char *env_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);

	for (; envp && *envp; envp++) {
		if (!strncmp(*envp, name, len) && (*envp)[len] == '=')
			return *envp + len + 1;
	}
	return NULL;
}

int config_load_all(struct sonde_config *c, int argc, char **argv, char *const envp[], char *err,
		    size_t errlen)
{
	const char *file;
	int ret;

	config_init(c);
	/* --help wins whatever else is there, and the file layer goes below the
	 * environment, so --config must be known before anything is set. */
	ret = config_scan_flags(CONFIG_RUN, argc, argv, &file, err, errlen);
	if (ret)
		return ret;
	if (!file) {
		file = env_get(envp, "SONDE_CONFIG");
		if (file && !*file)
			file = NULL;
	}
	if (file) {
		ret = config_load_yaml_file(c, file, err, errlen);
		if (ret)
			return ret;
	}
	ret = config_load_env(c, envp, err, errlen);
	if (ret)
		return ret;
	ret = config_apply_flags(c, CONFIG_RUN, argc, argv, NULL, err, errlen);
	if (ret)
		return ret;
	return config_finish(c, err, errlen);
}
