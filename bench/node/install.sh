#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the bench's pinned npm dependencies (the OpenTelemetry SDK of the
# peer comparison) with tools/npm-install.sh. `make bench` runs it.
exec bash "$(dirname "$0")/../../tools/npm-install.sh" "$(dirname "$0")"
