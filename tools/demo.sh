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

# The node agent with its embedded default (no collector configured): spans on
# stdout, RED metrics on the Prometheus endpoint.
/usr/bin/python3 -m http.server "$port" --bind 127.0.0.1 --directory "$www" \
	>/dev/null 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; rm -rf "$www"' EXIT
metrics_port=${DEMO_METRICS_PORT:-9464}
echo
echo "+ sonde run --pid $server_pid --prometheus-address 127.0.0.1"
build/sonde run --pid "$server_pid" --prometheus-address 127.0.0.1 \
	--prometheus-port "$metrics_port" &
run_pid=$!
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$metrics_port/healthz" && break
	sleep 0.1
done
for i in 1 2 3 1 2; do
	curl -s -o /dev/null "http://127.0.0.1:$port/api/cart/$i"
done
curl -s -o /dev/null "http://127.0.0.1:$port/api/missing"
sleep 0.5
echo
echo "+ curl -s http://127.0.0.1:$metrics_port/metrics | grep request_duration_seconds_count"
curl -s "http://127.0.0.1:$metrics_port/metrics" | grep 'request_duration_seconds_count'
kill -INT "$run_pid"
wait "$run_pid" || true
