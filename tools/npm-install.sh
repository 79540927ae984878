#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs a test tool's pinned npm dependencies (its package-lock.json) into
# DIR/node_modules when they are missing or came from another lock file.
# Usage: tools/npm-install.sh DIR
set -euo pipefail

cd "$1"
stamp=node_modules/.sonde-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
# --ignore-scripts: none of our tools needs an install script, and a test tool
# should not run registry code.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" >"$stamp"
echo "$(basename "$PWD"): npm dependencies installed"
