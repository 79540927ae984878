/* SPDX-License-Identifier: MIT */
#ifndef SONDE_CMD_TRACE_H
#define SONDE_CMD_TRACE_H

int cmd_trace(int argc, char **argv);

#endif /* SONDE_CMD_TRACE_H */
