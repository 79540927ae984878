#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A short live demo: `sonde trace` runs python3's http.server and prints the
# requests that curl then sends to it, then the per-endpoint summary.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${DEMO_PORT:-8000}
www=$(mktemp -d)
trap 'rm -rf "$www"' EXIT
echo '<h1>checkout</h1>' >"$www/index.html"
mkdir -p "$www/api/cart"
for i in 1 2 3; do echo "{\"cart\": $i}" >"$www/api/cart/$i"; done

echo "+ sonde trace --duration 5s -- python3 -m http.server $port"
build/sonde trace --duration 5s -- /usr/bin/python3 -m http.server "$port" \
	--bind 127.0.0.1 --directory "$www" 2>&1 | grep -v '^127.0.0.1 - - ' &
sonde_pid=$!

for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
for i in 1 2 3 1 2; do
	curl -s -o /dev/null "http://127.0.0.1:$port/api/cart/$i"
done
curl -s -o /dev/null "http://127.0.0.1:$port/api/missing"
curl -s -o /dev/null -X POST -d 'item=42' "http://127.0.0.1:$port/api/cart/1" || true
wait "$sonde_pid" || true
