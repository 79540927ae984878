#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Integration tests: need root (BPF), nginx, curl, wrk, redis, python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
	echo "integration tests need root (they load BPF programs)" >&2
	exit 1
fi
export SONDE="$PWD/build/sonde"
exec /usr/bin/python3 tests/integration/run.py "$@"
