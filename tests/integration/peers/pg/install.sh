#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs this peer's pinned npm dependencies (tools/npm-install.sh).
exec bash "$(dirname "$0")/../../../../tools/npm-install.sh" "$(dirname "$0")"
