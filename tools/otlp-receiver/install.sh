#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs this tool's pinned npm dependencies (tools/npm-install.sh).
exec bash "$(dirname "$0")/../npm-install.sh" "$(dirname "$0")"
