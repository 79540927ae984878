/* SPDX-License-Identifier: MIT */
#ifndef SONDE_CMD_RUN_H
#define SONDE_CMD_RUN_H

/* `sonde run`: the node agent (OTLP export, Prometheus endpoint). */
int cmd_run(int argc, char **argv);

#endif /* SONDE_CMD_RUN_H */
