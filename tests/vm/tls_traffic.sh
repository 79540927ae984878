#!/bin/sh
# SPDX-License-Identifier: MIT
# The HTTPS case of the kernel matrix (uprobes on libssl), run by check.sh under
# `sonde trace -- sh tls_traffic.sh DIR`: `openssl s_server -www` on loopback
# with a fresh EC certificate, and three `openssl s_client` requests. Exits
# non-zero when a client got no answer. check.sh expects their client spans.
set -u
dir=$1
port=14433
exec >"$dir/tls_traffic.log" 2>&1

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" || exit 1
openssl s_server -quiet -www -accept "127.0.0.1:$port" -cert "$dir/cert.pem" \
	-key "$dir/key.pem" >/dev/null &
server_pid=$!
trap 'kill $server_pid 2>/dev/null' EXIT
sleep 1
status=0
for n in 1 2 3; do
	printf 'GET /tls/%s HTTP/1.0\r\n\r\n' "$n" |
		openssl s_client -quiet -connect "127.0.0.1:$port" >"$dir/tls_$n.out" 2>/dev/null
	if ! grep -q '^HTTP/1.0 200' "$dir/tls_$n.out"; then
		echo "tls_traffic: request $n got no 200"
		status=1
	fi
done
exit $status
