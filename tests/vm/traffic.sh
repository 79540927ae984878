#!/bin/sh
# SPDX-License-Identifier: MIT
# The HTTP traffic of the kernel matrix, run by check.sh under
# `sonde trace -- sh traffic.sh SERVER DIR`: tests/vm/http_server on loopback,
# busybox wget and nc as clients. DIR receives the server's port and this
# script's log. Exits non-zero when a client did not get what it should have,
# so a broken network or server is not mistaken for a tracing bug.
# check.sh expects exactly the spans of these requests: change both together.
set -u
server=$1
dir=$2
bb=${BUSYBOX:-busybox}
exec >"$dir/traffic.log" 2>&1

"$server" >"$dir/port" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null' EXIT
i=0
while [ ! -s "$dir/port" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "traffic: $server did not start"
		exit 1
	fi
	sleep 0.1
done
url=http://127.0.0.1:$(cat "$dir/port")
status=0

expect() { # what, wanted exit status, got
	if [ "$2" != "$3" ]; then
		echo "traffic: $1: exit status $3, wanted $2"
		status=1
	fi
}

# One request per connection (busybox wget sends Connection: close).
$bb wget -q -O "$dir/hello" "$url/hello"
expect "wget /hello" 0 $?
$bb wget -q -O "$dir/big" "$url/big"
expect "wget /big" 0 $?
$bb wget -q -O /dev/null "$url/missing"
expect "wget /missing" 1 $?
$bb wget -q -O "$dir/items" --post-data 'item=42' "$url/items"
expect "wget POST /items" 0 $?
$bb wget -q -O /dev/null "$url/fail"
expect "wget /fail" 1 $?
# Two pipelined requests on one keep-alive connection.
{
	printf 'GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'
	printf 'GET /missing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'
} | $bb nc 127.0.0.1 "${url##*:}" >"$dir/pipelined"
expect "nc pipelined" 0 $?

check() { # what, condition...
	what=$1
	shift
	if ! "$@"; then
		echo "traffic: $what"
		status=1
	fi
}
check "/hello body differs" [ "$(cat "$dir/hello")" = hello ]
check "/big is not 100000 bytes" [ "$(wc -c <"$dir/big")" -eq 100000 ]
check "nc did not get 2 responses" [ "$(grep -c '^HTTP/1.1 ' "$dir/pipelined")" -eq 2 ]
exit $status
