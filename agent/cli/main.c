/* SPDX-License-Identifier: MIT */
/* sonde: eBPF auto-instrumentation agent. Subcommand dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd_probe.h"
#include "cli/cmd_run.h"
#include "cli/cmd_trace.h"

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("sonde %s\n", SONDE_VERSION);
	return 0;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", cmd_run, "the node agent: export spans and RED metrics (OTLP, Prometheus)" },
	{ "trace", cmd_trace, "print HTTP requests of processes live, and a summary" },
	{ "probe", cmd_probe, "show what this kernel supports and which hooks sonde uses" },
	{ "version", cmd_version, "print the version" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sonde COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n`sonde COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "sonde: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
