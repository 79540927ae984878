/* SPDX-License-Identifier: MIT */
/*
 * Command-line flags from a command's table. `sonde run` takes long flags
 * only and no other words; `sonde trace` takes one-letter forms too, and the
 * first word that is no option (or what follows "--") is the COMMAND it runs,
 * which keeps its own options.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "config/config_parse.h"
#include "util/utf8.h"

enum next {
	NEXT_FLAG = 0,
	NEXT_HELP = 1,
	NEXT_END = 2, /* no more flags: argv ends, or COMMAND starts */
};

/* A cursor over argv. */
struct args {
	enum config_command cmd;
	int argc;
	char **argv;
	int i;		     /* the next word */
	const char *letters; /* what is left of a word of one-letter flags, or NULL */
};

struct flag {
	const struct config_setting *s; /* NULL for --config */
	const char *value;
};

/* One letter of "-vp 42", "-p42" or "-p 42". */
static int short_flag(struct args *a, struct flag *f, char *err, size_t errlen)
{
	char letter = *a->letters++;

	if (letter == 'h')
		return NEXT_HELP;
	f->s = config_find_short(a->cmd, letter);
	if (!f->s) {
		snprintf(err, errlen, "unknown option -%c", letter);
		utf8_one_line(err);
		return -EINVAL;
	}
	if (f->s->type == CONFIG_T_BOOL) {
		f->value = "true";
	} else if (*a->letters) {
		f->value = a->letters;
		a->letters = "";
	} else if (a->i < a->argc && strncmp(a->argv[a->i], "--", 2)) {
		f->value = a->argv[a->i++];
	} else {
		snprintf(err, errlen, "option -%c needs a value", letter);
		return -EINVAL;
	}
	if (!*a->letters)
		a->letters = NULL;
	return NEXT_FLAG;
}

/* "--name value" or "--name=value"; a true-or-false setting alone is true. */
static int long_flag(struct args *a, struct flag *f, char *err, size_t errlen)
{
	const char *name = a->argv[a->i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	bool b;

	f->s = NULL;
	if (a->cmd != CONFIG_RUN || len != strlen("config") || strncmp(name, "config", len)) {
		f->s = config_find_flag(a->cmd, name, len);
		if (!f->s) {
			snprintf(err, errlen, "unknown option --%.*s", (int)len, name);
			utf8_one_line(err);
			return -EINVAL;
		}
	}
	a->i++;
	if (eq) {
		f->value = eq + 1;
	} else if (f->s && f->s->type == CONFIG_T_BOOL) {
		/* `sonde run --capture-query false` works too; after a flag of
		 * `sonde trace`, the next word may be COMMAND. */
		f->value = "true";
		if (a->cmd == CONFIG_RUN && a->i < a->argc && !config_parse_bool(a->argv[a->i], &b))
			f->value = a->argv[a->i++];
	} else if (a->i < a->argc && strncmp(a->argv[a->i], "--", 2)) {
		f->value = a->argv[a->i++];
	} else {
		snprintf(err, errlen, "option --%.*s needs a value", (int)len, name);
		return -EINVAL;
	}
	return NEXT_FLAG;
}

static int next_flag(struct args *a, struct flag *f, char *err, size_t errlen)
{
	const char *arg;

	if (a->letters)
		return short_flag(a, f, err, errlen);
	if (a->i >= a->argc)
		return NEXT_END;
	arg = a->argv[a->i];
	if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
		return NEXT_HELP;
	if (a->cmd == CONFIG_TRACE) {
		if (!strcmp(arg, "--")) {
			a->i++;
			return NEXT_END;
		}
		if (arg[0] != '-' || !arg[1])
			return NEXT_END;
		if (arg[1] != '-') {
			a->letters = arg + 1;
			a->i++;
			return short_flag(a, f, err, errlen);
		}
		return long_flag(a, f, err, errlen);
	}
	if (strncmp(arg, "--", 2) || !arg[2]) {
		if (arg[0] == '-' && arg[1])
			snprintf(err, errlen, "unknown option %s", arg);
		else
			snprintf(err, errlen, "unexpected argument '%s'", arg);
		utf8_one_line(err);
		return -EINVAL;
	}
	return long_flag(a, f, err, errlen);
}

int config_scan_flags(enum config_command cmd, int argc, char **argv, const char **file, char *err,
		      size_t errlen)
{
	struct args a = { .cmd = cmd, .argc = argc, .argv = argv, .i = 1 };
	struct flag f;
	int ret;

	*file = NULL;
	while ((ret = next_flag(&a, &f, err, errlen)) == NEXT_FLAG) {
		if (!f.s)
			*file = f.value;
	}
	return ret == NEXT_END ? 0 : ret;
}

int config_apply_flags(struct sonde_config *c, enum config_command cmd, int argc, char **argv,
		       int *command, char *err, size_t errlen)
{
	struct args a = { .cmd = cmd, .argc = argc, .argv = argv, .i = 1 };
	const struct config_setting *given[64];
	char origin[CONFIG_KEY_LEN];
	bool pids_given = false;
	size_t ngiven = 0;
	struct flag f;
	int ret;

	while ((ret = next_flag(&a, &f, err, errlen)) == NEXT_FLAG) {
		if (!f.s)
			continue; /* --config: read before the environment */
		/* A setting that takes one value said twice is a mistake, not a
		 * list: the first value would be lost without a word. */
		if (f.s->type != CONFIG_T_PIDS && f.s->type != CONFIG_T_BOOL) {
			for (size_t i = 0; i < ngiven; i++) {
				if (given[i] == f.s) {
					snprintf(err, errlen,
						 "--%s given twice: it takes one value", f.s->flag);
					return -EINVAL;
				}
			}
			if (ngiven < sizeof(given) / sizeof(given[0]))
				given[ngiven++] = f.s;
		}
		snprintf(origin, sizeof(origin), "--%s", f.s->flag);
		/* the first --pid replaces the lower layers, the next ones add to it */
		ret = config_apply(c, f.s, f.value, origin,
				   f.s->type == CONFIG_T_PIDS && pids_given, err, errlen);
		if (ret)
			return ret;
		if (f.s->type == CONFIG_T_PIDS)
			pids_given = true;
	}
	if (ret != NEXT_END)
		return ret;
	if (command)
		*command = a.i;
	return 0;
}

int config_load_trace(struct sonde_config *c, int argc, char **argv, int *command, char *err,
		      size_t errlen)
{
	int at, ret;

	config_init(c);
	c->logs_enabled = false; /* the program's output is often on this terminal already */
	ret = config_apply_flags(c, CONFIG_TRACE, argc, argv, &at, err, errlen);
	if (ret)
		return ret;
	if (c->trace.container[0] && !c->trace.pod[0]) {
		snprintf(err, errlen, "--container needs --pod NAMESPACE/NAME");
		return -EINVAL;
	}
	if (config_log_comms(c, NULL, NULL) == (size_t)-1) {
		snprintf(err, errlen,
			 "invalid --logs-comm=%s: names of at most %d characters, "
			 "at most %d of them",
			 c->logs_comm, CONFIG_COMM_LEN - 1, CONFIG_MAX_LOG_COMMS);
		return -EINVAL;
	}
	if (c->trace.pod[0]) {
		const char *slash = strchr(c->trace.pod, '/');

		if (!slash || slash == c->trace.pod || !slash[1] || strchr(slash + 1, '/')) {
			snprintf(err, errlen, "invalid --pod '%s': expected NAMESPACE/NAME",
				 c->trace.pod);
			utf8_one_line(err);
			return -EINVAL;
		}
	}
	if (c->trace.pod[0] && (c->cgroup[0] || at < argc)) {
		snprintf(err, errlen, "--pod cannot be combined with --cgroup or a command");
		return -EINVAL;
	}
	if (command)
		*command = at;
	return 0;
}
