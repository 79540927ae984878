#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the validator's pinned npm dependencies (package-lock.json) into
# node_modules/ when they are missing or were installed from another lock file.
set -euo pipefail

cd "$(dirname "$0")"
stamp=node_modules/.sonde-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
# --ignore-scripts: validation needs no install script, and a test tool
# should not run registry code.
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
echo "$want" >"$stamp"
echo "k8s-validate: npm dependencies installed"
