/* SPDX-License-Identifier: MIT */
#ifndef SONDE_CMD_PROBE_H
#define SONDE_CMD_PROBE_H

int cmd_probe(int argc, char **argv);

#endif /* SONDE_CMD_PROBE_H */
