/* SPDX-License-Identifier: MIT */
/*
 * Whether this process can use a path, asked the way the kernel asks when the
 * process really uses it: with its effective uid and gids and its capabilities.
 * access() asks with the real uid instead and, for a non-root one, with no
 * capabilities at all, so a process running as a user with CAP_DAC_READ_SEARCH
 * (the DaemonSet's capabilities under runAsUser) was told a tracefs it can read
 * (mode 0700) was not there.
 */
#ifndef SONDE_HOST_PATH_ACCESS_H
#define SONDE_HOST_PATH_ACCESS_H

/* 0 when path resolves (stat), else -errno: -ENOENT, -EACCES, ... */
int path_lookup(const char *path);
/* 0 when path can be opened for reading, else -errno. */
int path_readable(const char *path);

#endif /* SONDE_HOST_PATH_ACCESS_H */
