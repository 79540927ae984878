#!/bin/sh
# SPDX-License-Identifier: MIT
# The database case of the kernel matrix: a Redis server and redis-cli on
# loopback (RESP commands, one reply each). Run under `sonde trace -- ...`
# by check.sh; TMP/port.redis holds the port.
# usage: db_traffic.sh TMP
set -u
tmp=$1
port=16379
echo "$port" >"$tmp/port.redis"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$tmp" >"$tmp/redis.log" 2>&1 &
server=$!
i=0
until redis-cli -p "$port" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || break
	sleep 0.1
done
redis-cli -p "$port" set sonde:vm checked >/dev/null
redis-cli -p "$port" get sonde:vm >/dev/null
redis-cli -p "$port" incr sonde:n >/dev/null
kill "$server"
wait "$server" 2>/dev/null
exit 0
