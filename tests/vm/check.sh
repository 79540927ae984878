#!/bin/sh
# SPDX-License-Identifier: MIT
# The checks of one kernel of the matrix (vmtest.toml), run from the repository
# root inside each VM (busybox only: no python, no jq) and on the host:
#   1. `sonde probe --programs`: the kernel's features, and every BPF program
#      sonde uses loaded, verified and attached, with its verified_insns;
#   2. `sonde probe --output json`: sonde can run, and the features named with
#      --expect (kprobes, fentry, ...) are there;
#   3. real HTTP traffic (traffic.sh) under `sonde trace --output json -- ...`:
#      exactly the expected spans, attributes and sizes;
#   4. HTTPS through the libssl uprobes (tls_traffic.sh), when openssl is here;
#      and through the Go crypto/tls uprobes (go_tls/main.go), when it is built;
#   5. a database: Redis commands from redis-cli (db_traffic.sh), when
#      redis-server is here.
# usage: tests/vm/check.sh [--expect FEATURE[,FEATURE...]]
# Environment: SONDE (default build/sonde), SONDE_TEST_SERVER (default
# build/vm/http_server), SONDE_GO_TLS (default build/vm/go_tls), BUSYBOX
# (default busybox).
set -u
cd "$(dirname "$0")/../.."
sonde=${SONDE:-build/sonde}
server=${SONDE_TEST_SERVER:-build/vm/http_server}
go_tls=${SONDE_GO_TLS:-build/vm/go_tls}
expect_features=
if [ "${1:-}" = --expect ] && [ $# -ge 2 ]; then
	expect_features=$(echo "$2" | tr ',' ' ')
elif [ $# -gt 0 ]; then
	echo "usage: $0 [--expect FEATURE[,FEATURE...]]" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

echo "== sonde probe --programs"
"$sonde" probe --programs >"$tmp/probe.txt" 2>&1
rc=$?
cat "$tmp/probe.txt"
[ $rc = 0 ] || fail "sonde probe --programs exited $rc"
if grep -q ' n/a ' "$tmp/probe.txt"; then
	echo "(n/a: this kernel predates verified_insns, Linux 5.16)"
fi

echo "== sonde probe --output json"
json=$("$sonde" probe --output json)
echo "$json"
case "$json" in
*'"can_run":true'*) ;;
*) fail "sonde probe says sonde cannot run here" ;;
esac
for f in $expect_features; do
	case "$json" in
	*"\"$f\":true"*) echo "$f: yes, as expected" ;;
	*) fail "sonde probe reports no $f on a kernel that has it" ;;
	esac
done

echo "== sonde trace --output json -- sh tests/vm/traffic.sh"
"$sonde" trace --output json --no-summary --stats -- \
	sh tests/vm/traffic.sh "$server" "$tmp" >"$tmp/spans.json" 2>"$tmp/agent.err"
rc=$?
[ $rc = 0 ] || fail "sonde trace -- traffic.sh exited $rc"

# One line per span with what is checked; "ok" when the server port is the
# test server's, the duration is positive and nothing was truncated.
port=$(cat "$tmp/port" 2>/dev/null)
awk -v port="$port" '
function get(k,    i, v) {
	i = index($0, "\"" k "\":")
	if (!i)
		return "-"
	v = substr($0, i + length(k) + 3)
	if (substr(v, 1, 1) == "\"") {
		v = substr(v, 2)
		return substr(v, 1, index(v, "\"") - 1)
	}
	match(v, /^[^,}]*/)
	return substr(v, 1, RLENGTH)
}
/"kind":/ && !/"summary":true/ {
	ok = get("server.port") == port && get("duration_ns") + 0 > 0 && get("sonde.truncated") == "-"
	print get("kind"), get("process.executable.name"), get("http.request.method"),
	      get("url.path"), get("http.response.status_code"), get("network.protocol.version"),
	      get("http.request.body.size"), get("http.response.body.size"), get("error.type"),
	      ok ? "ok" : "bad"
}' "$tmp/spans.json" | LC_ALL=C sort >"$tmp/got"

# kind executable method path status version request-body response-body error.type
LC_ALL=C sort >"$tmp/want" <<'SPANS'
server http_server GET /hello 200 1.1 0 6 - ok
client busybox GET /hello 200 1.1 0 6 - ok
server http_server GET /big 200 1.1 0 100000 - ok
client busybox GET /big 200 1.1 0 100000 - ok
server http_server GET /missing 404 1.1 0 10 - ok
client busybox GET /missing 404 1.1 0 10 404 ok
server http_server POST /items 201 1.1 7 8 - ok
client busybox POST /items 201 1.1 7 8 - ok
server http_server GET /fail 500 1.1 0 5 500 ok
client busybox GET /fail 500 1.1 0 5 500 ok
server http_server GET /hello 200 1.1 0 6 - ok
client busybox GET /hello 200 1.1 0 6 - ok
server http_server GET /missing 404 1.1 0 10 - ok
client busybox GET /missing 404 1.1 0 10 404 ok
SPANS
if cmp -s "$tmp/want" "$tmp/got"; then
	servers=$(grep -c '^server' "$tmp/got")
	clients=$(grep -c '^client' "$tmp/got")
	echo "spans: all $(wc -l <"$tmp/want") as expected ($servers server, $clients client)"
else
	fail "spans differ from the expected ones (- expected, + sonde's)"
	diff -u "$tmp/want" "$tmp/got" | tail -n +3
fi

# 4. HTTPS through the libssl uprobes: the three client spans, as plaintext.
if command -v openssl >/dev/null; then
	echo "== sonde trace --output json -- sh tests/vm/tls_traffic.sh"
	"$sonde" trace --output json --no-summary -- sh tests/vm/tls_traffic.sh "$tmp" \
		>"$tmp/tls.json" 2>"$tmp/tls.err"
	rc=$?
	[ $rc = 0 ] || fail "sonde trace -- tls_traffic.sh exited $rc"
	awk '/"kind":"client"/ && /"url.scheme":"https"/ && /"process.executable.name":"openssl"/ &&
	     /"http.response.status_code":200/ { n++ } END { print n + 0 }' "$tmp/tls.json" \
		>"$tmp/tls.count"
	if [ "$(cat "$tmp/tls.count")" = 3 ]; then
		echo "tls: 3 https client spans through the libssl uprobes, as expected"
	else
		fail "expected 3 https client spans, got $(cat "$tmp/tls.count")"
		cat "$tmp/tls.err" "$tmp/tls.json" "$tmp/tls_traffic.log"
	fi
else
	echo "(no openssl here: HTTPS case skipped)"
fi

# 4b. The same through Go's crypto/tls (entry and RET uprobes, Go's register
#     ABI of this architecture): the program's three exchanges, both sides.
if [ -x "$go_tls" ]; then
	echo "== sonde trace --output json -- $go_tls 14434"
	"$sonde" trace --output json --no-summary -- "$go_tls" 14434 \
		>"$tmp/go_tls.json" 2>"$tmp/go_tls.err"
	rc=$?
	[ $rc = 0 ] || fail "sonde trace -- go_tls exited $rc"
	for kind in client server; do
		n=$(awk -v kind="$kind" 'index($0, "\"kind\":\"" kind "\"") &&
			/"url.scheme":"https"/ && /"url.path":"\/go\/[123]"/ &&
			/"process.executable.name":"go_tls"/ && /"http.response.status_code":200/ {
			n++ } END { print n + 0 }' "$tmp/go_tls.json")
		if [ "$n" = 3 ]; then
			echo "go tls: 3 https $kind spans through the crypto/tls uprobes, as expected"
		else
			fail "expected 3 https $kind spans from go_tls, got $n"
			cat "$tmp/go_tls.err" "$tmp/go_tls.json"
		fi
	done
else
	echo "(no $go_tls here: Go TLS case skipped)"
fi

# 5. A database: redis-cli's commands as Redis client spans (the classifier,
#    the RESP parser, the database attributes).
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	echo "== sonde trace --output json --comm redis-cli -- sh tests/vm/db_traffic.sh"
	"$sonde" trace --output json --no-summary --comm redis-cli -- \
		sh tests/vm/db_traffic.sh "$tmp" >"$tmp/db.json" 2>"$tmp/db.err"
	rc=$?
	[ $rc = 0 ] || fail "sonde trace -- db_traffic.sh exited $rc"
	for op in SET GET INCR; do
		n=$(awk -v op="$op" 'index($0, "\"db.system.name\":\"redis\"") &&
			index($0, "\"db.operation.name\":\"" op "\"") &&
			/"kind":"client"/ { n++ } END { print n + 0 }' "$tmp/db.json")
		if [ "$n" = 1 ]; then
			echo "db: one redis $op client span, as expected"
		else
			fail "expected one redis $op client span, got $n"
			cat "$tmp/db.err" "$tmp/db.json"
		fi
	done
else
	echo "(no redis-server here: database case skipped)"
fi

if [ $failures != 0 ]; then
	echo "== agent stderr"
	cat "$tmp/agent.err"
	echo "== agent stdout (spans)"
	cat "$tmp/spans.json"
	echo "== traffic.log"
	cat "$tmp/traffic.log" 2>/dev/null
	echo "check: $failures failure(s) on kernel $(uname -r)"
	exit 1
fi
echo "check: PASS on kernel $(uname -r)"
