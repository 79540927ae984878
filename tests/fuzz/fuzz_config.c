/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the configuration parsers (config/): a YAML settings
 * file from memory (config_load_yaml_text), one setting's value as text
 * (config_set and config_add, which every source goes through: flags, the
 * environment, YAML), and "k=v,k2=v2" lists (config_parse_kv_list). Then the
 * settings are resolved (config_finish) and each written back as text
 * (config_format). Errors must fit their buffer; a value that was accepted
 * must read back the same when written and set again. Not held yet (open
 * findings, bench/results.md "Fuzzing record"): errors on one line (unknown
 * YAML keys and bad k=v entries are quoted raw) and lists read back the same.
 *
 * Input: a first byte picks the parser (0 YAML, 1 a value, 2 a list); a value
 * is for the setting at the second byte's index in the table.
 * Run: make fuzz FUZZERS_ONLY=config (tests/fuzz/run.py).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_checks.h"
#include "fuzz_input.h"
#include "config/config.h"

static void check_err(const char *err, size_t len)
{
	FUZZ_CHECK(memchr(err, '\0', len));
}

/* Every setting as text, and that text set again gives the same text. */
static void format_all(const struct sonde_config *c)
{
	static struct sonde_config again;
	size_t count;
	const struct config_setting *s = config_settings(&count);
	char text[2048], back[2048], err[CONFIG_ERR_LEN];

	for (size_t i = 0; i < count; i++) {
		config_format(c, &s[i], text, sizeof(text));
		FUZZ_CHECK(memchr(text, '\0', sizeof(text)));
		/* Lists are written unescaped: a value with a comma, '=' or an
		 * outer space reads back otherwise (an open finding). */
		if (s[i].type == CONFIG_T_KV)
			continue;
		again = *c;
		if (config_set(&again, s[i].key, text, NULL, err, sizeof(err)))
			continue; /* "auto" values and the like have no spelling */
		config_format(&again, &s[i], back, sizeof(back));
		if (strcmp(text, back))
			fprintf(stderr, "%s: '%s' set again reads '%s'\n", s[i].key, text, back);
		FUZZ_CHECK(!strcmp(text, back));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	static struct sonde_config c;
	static struct config_kv_list list;
	uint8_t mode = fuzz_byte(&in);
	size_t count;
	const struct config_setting *s = config_settings(&count);
	char err[CONFIG_ERR_LEN], *text;
	int ret;

	config_init(&c);
	err[0] = '\0';
	switch (mode % 3) {
	case 0:
		text = fuzz_copy(in.p, in.n, false);
		ret = config_load_yaml_text(&c, text, in.n, "fuzz.yaml", err, sizeof(err));
		free(text);
		break;
	case 1: {
		const struct config_setting *row = &s[fuzz_byte(&in) % count];

		text = fuzz_copy(in.p, in.n, true);
		ret = (mode & 4) ? config_add(&c, row->key, text, row->env, err, sizeof(err))
				 : config_set(&c, row->key, text, row->flag, err, sizeof(err));
		free(text);
		break;
	}
	default:
		text = fuzz_copy(in.p, in.n, true);
		memset(&list, 0, sizeof(list));
		ret = config_parse_kv_list(&list, text, err, sizeof(err));
		free(text);
		FUZZ_CHECK(list.n >= 0 && list.n <= CONFIG_MAX_KV);
		for (int i = 0; i < list.n; i++) {
			FUZZ_CHECK_STR(list.items[i].key);
			FUZZ_CHECK_STR(list.items[i].value);
		}
		if (ret)
			check_err(err, sizeof(err));
		return 0;
	}
	if (ret) {
		check_err(err, sizeof(err));
		return 0;
	}
	if (config_finish(&c, err, sizeof(err)))
		check_err(err, sizeof(err));
	else
		format_all(&c);
	return 0;
}
