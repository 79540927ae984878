#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks sonde's OTLP transport (agent/export/otlp_transport.c, driven by the
# tools/otlp-send binary) against the test collector in tools/otlp-receiver, which
# decodes with the official OpenTelemetry definitions. Builds nothing.
#
#   SEND=build/tools/otlp-send [RECEIVER=tools/otlp-receiver/receiver.js] \
#       tools/otlp-transport-check.sh
#
# Needs node and the receiver's npm packages (tools/otlp-receiver/install.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
: "${SEND:?set SEND to the otlp-send binary}"
RECEIVER=${RECEIVER:-$here/otlp-receiver/receiver.js}
receiver_dir=$(cd "$(dirname "$RECEIVER")" && pwd)

work=$(mktemp -d)
out=$work/received.jsonl
receiver_pid=
cleanup() {
	if [ -n "$receiver_pid" ]; then
		kill "$receiver_pid" 2>/dev/null || true
		wait "$receiver_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1: $2"
}

# Request bodies, encoded by the same official generated code the receiver
# decodes with, so a wrong byte here cannot hide a transport bug.
NODE_PATH=$receiver_dir/node_modules node - "$work" <<'EOF'
const fs = require('fs');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const c = root.opentelemetry.proto.collector;
const dir = process.argv[2];
const traces = c.trace.v1.ExportTraceServiceRequest.fromObject({
	resourceSpans: [{
		resource: { attributes: [{ key: 'service.name', value: { stringValue: 'check' } }] },
		scopeSpans: [{
			scope: { name: 'sonde' },
			spans: [{
				traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex'),
				spanId: Buffer.from('b7ad6b7169203331', 'hex'),
				name: 'GET /users/{id}',
				kind: 2,
				startTimeUnixNano: '1700000000123456789',
				endTimeUnixNano: '1700000000223456789',
				attributes: [
					{ key: 'http.request.method', value: { stringValue: 'GET' } },
					{ key: 'http.response.status_code', value: { intValue: '200' } },
				],
			}],
		}],
	}],
});
const metrics = c.metrics.v1.ExportMetricsServiceRequest.fromObject({
	resourceMetrics: [{
		scopeMetrics: [{
			metrics: [{
				name: 'http.server.request.duration',
				unit: 's',
				histogram: {
					aggregationTemporality: 2,
					dataPoints: [{
						startTimeUnixNano: '1700000000000000000',
						timeUnixNano: '1700000060000000000',
						count: '3',
						sum: 0.75,
						explicitBounds: [0.1, 0.5],
						bucketCounts: ['1', '1', '1'],
					}],
				},
			}],
		}],
	}],
});
fs.writeFileSync(`${dir}/traces.pb`, c.trace.v1.ExportTraceServiceRequest.encode(traces).finish());
fs.writeFileSync(`${dir}/metrics.pb`, c.metrics.v1.ExportMetricsServiceRequest.encode(metrics).finish());
// Not a protobuf message: wire type 7 does not exist.
fs.writeFileSync(`${dir}/bad.pb`, Buffer.from([0xff, 0xff, 0xff, 0x01]));
EOF

node "$RECEIVER" --http-port 0 --grpc-port 0 --control-port 0 --out "$out" \
	>"$work/receiver.log" 2>&1 &
receiver_pid=$!
for _ in $(seq 100); do
	grep -q '^otlp-receiver: listening' "$work/receiver.log" && break
	kill -0 "$receiver_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^otlp-receiver: listening' "$work/receiver.log"; then
	echo "otlp-transport-check: the receiver did not start:" >&2
	cat "$work/receiver.log" >&2
	exit 1
fi
http_port=$(sed -n 's/^otlp-receiver: listening http=\([0-9]*\) .*/\1/p' "$work/receiver.log")
grpc_port=$(sed -n 's/^otlp-receiver: listening .* grpc=\([0-9]*\)$/\1/p' "$work/receiver.log")
control_port=$(sed -n 's/^otlp-receiver: control=\([0-9]*\)$/\1/p' "$work/receiver.log")
http_base=http://127.0.0.1:$http_port
grpc_url=http://127.0.0.1:$grpc_port

mode() {
	curl -sS -f -o /dev/null -X POST --data "$1" "http://127.0.0.1:$control_port/mode"
}

# Runs otlp-send; leaves its output in $got, its exit status in $rc and how long it
# took in $ms.
send() {
	local t0 t1
	t0=$(date +%s%N)
	rc=0
	got=$("$SEND" "$@" 2>"$work/send.err") || rc=$?
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
}

# expect_out NAME REGEX: the last send printed a line matching REGEX.
expect_out() {
	if [[ $got =~ $2 ]]; then
		ok "$1 (${got//$'\n'/ | })"
	else
		not_ok "$1" "got '$got' (exit $rc) $(cat "$work/send.err")"
	fi
}

# expect_line NAME PYTHON-EXPR: the receiver's last line, as `d`, makes EXPR true.
expect_line() {
	local why
	if why=$(python3 - "$out" "$2" <<'EOF' 2>&1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
d = json.loads(lines[-1]) if lines else {}
if not eval(sys.argv[2], {"d": d}):
    print(lines[-1][:600] if lines else "no line")
    sys.exit(1)
EOF
	); then
		ok "$1"
	else
		not_ok "$1" "$why"
	fi
}

span='d["body"]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]'
span_ok="$span[\"traceId\"] == \"0af7651916cd43dd8448eb211c80319c\" and \
$span[\"spanId\"] == \"b7ad6b7169203331\" and \
$span[\"startTimeUnixNano\"] == \"1700000000123456789\" and \
{\"key\": \"http.response.status_code\", \"value\": {\"intValue\": \"200\"}} in $span[\"attributes\"]"

# --- what a collector receives ---------------------------------------------

send "$http_base/v1/traces" "$work/traces.pb"
expect_out "http: traces accepted" '^OK HTTP 200$'
expect_line "http: receiver decoded the span" \
	"d['transport'] == 'http' and d['signal'] == 'traces' and not d['gzip'] and \
d['headers']['content-type'] == 'application/x-protobuf' and $span_ok"

send --compression gzip --header X-Tenant=acme "$http_base/v1/traces" "$work/traces.pb"
expect_out "http gzip: traces accepted" '^OK HTTP 200$'
expect_line "http gzip: body was gzip and decoded" \
	"d['gzip'] and d['headers']['content-encoding'] == 'gzip' and $span_ok"
expect_line "http: custom header arrived" "d['headers'].get('x-tenant') == 'acme'"

send --signal metrics "$http_base/v1/metrics" "$work/metrics.pb"
expect_out "http: metrics accepted" '^OK HTTP 200$'
expect_line "http: histogram decoded, 64-bit counts as strings" \
	"d['signal'] == 'metrics' and d['body']['resourceMetrics'][0]['scopeMetrics'][0]\
['metrics'][0]['histogram']['dataPoints'][0]['bucketCounts'] == ['1', '1', '1']"

send --protocol grpc "$grpc_url" "$work/traces.pb"
expect_out "grpc: traces accepted" '^OK grpc-status 0$'
expect_line "grpc: receiver decoded the span" \
	"d['transport'] == 'grpc' and not d['gzip'] and \
d['path'] == '/opentelemetry.proto.collector.trace.v1.TraceService/Export' and \
d['headers']['content-type'] == 'application/grpc' and d['headers']['te'] == 'trailers' and \
d['headers']['grpc-timeout'] == '10000m' and $span_ok"

send --protocol grpc --compression gzip --header X-Tenant=acme "$grpc_url" "$work/traces.pb"
expect_out "grpc gzip: traces accepted" '^OK grpc-status 0$'
expect_line "grpc gzip: compressed flag + grpc-encoding, decoded" \
	"d['gzip'] and d['headers']['grpc-encoding'] == 'gzip' and $span_ok"
expect_line "grpc: custom header arrived" "d['headers'].get('x-tenant') == 'acme'"

send --protocol grpc --signal metrics --count 3 "$grpc_url" "$work/metrics.pb"
expect_out "grpc: three metrics exports on one transport" \
	'^OK grpc-status 0.OK grpc-status 0.OK grpc-status 0$'
expect_line "grpc: metrics path" \
	"d['signal'] == 'metrics' and \
d['path'] == '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export'"

send "$http_base/v1/traces"
expect_out "http: empty request accepted" '^OK HTTP 200$'
expect_line "http: empty request decoded as empty" "d['body'] == {'resourceSpans': []}"

# --- failures the exporter must retry, and ones it must not ---------------

mode '{"mode":"fail","status":503,"retry_after":2}'
send "$http_base/v1/traces" "$work/traces.pb"
expect_out "http 503 + Retry-After: 2 -> retry in 2 s" '^RETRY after=2000ms HTTP 503$'

mode '{"mode":"fail","status":429,"retry_after":"999999"}'
send "$http_base/v1/traces" "$work/traces.pb"
expect_out "http 429 + huge Retry-After -> capped at 5 min" '^RETRY after=300000ms HTTP 429$'

when=$(LC_ALL=C TZ=GMT date -d '+3 seconds' '+%a, %d %b %Y %H:%M:%S GMT')
mode "{\"mode\":\"fail\",\"status\":503,\"retry_after\":\"$when\"}"
send "$http_base/v1/traces" "$work/traces.pb"
expect_out "http 503 + Retry-After HTTP-date -> retry in ~3 s" \
	'^RETRY after=(1|2|3)000ms HTTP 503$'

mode '{"mode":"fail","status":400}'
send "$http_base/v1/traces" "$work/traces.pb"
expect_out "http 400 -> fail" '^FAIL HTTP 400$'

mode '{"mode":"ok"}'
send "$http_base/v1/traces" "$work/bad.pb"
expect_out "http: undecodable body -> 400 -> fail" '^FAIL HTTP 400$'
expect_line "http: undecodable body logged as error" "d['result'] == 'error' and 'error' in d"

send --protocol grpc "$grpc_url" "$work/bad.pb"
expect_out "grpc: undecodable body -> INVALID_ARGUMENT -> fail" \
	'^FAIL grpc-status 3 INVALID_ARGUMENT: decode: '

mode '{"mode":"fail"}'
send --protocol grpc "$grpc_url" "$work/traces.pb"
expect_out "grpc UNAVAILABLE -> retry" '^RETRY after=0ms grpc-status 14 UNAVAILABLE'

mode '{"mode":"fail","status":429}'
send --protocol grpc "$grpc_url" "$work/traces.pb"
expect_out "grpc RESOURCE_EXHAUSTED -> retry" '^RETRY after=0ms grpc-status 8 RESOURCE_EXHAUSTED'

mode '{"fail_count":1}'
send --count 2 "$http_base/v1/traces" "$work/traces.pb"
expect_out "http: retry then OK on the same transport" '^RETRY after=0ms HTTP 503.OK HTTP 200$'
mode '{"fail_count":1}'
send --protocol grpc --count 2 "$grpc_url" "$work/traces.pb"
expect_out "grpc: retry then OK on the same transport" \
	'^RETRY after=0ms grpc-status 14 UNAVAILABLE.*OK grpc-status 0$'

mode '{"mode":"hang"}'
send --timeout 1000 "$http_base/v1/traces" "$work/traces.pb"
if [[ $got =~ ^RETRY\ after=0ms\ .*[Tt]imed\ out ]] && [ "$ms" -lt 2500 ]; then
	ok "http: hanging collector -> retry after the 1 s timeout (${ms} ms: $got)"
else
	not_ok "http: hanging collector" "got '$got' after ${ms} ms"
fi
send --protocol grpc --timeout 1000 "$grpc_url" "$work/traces.pb"
if [[ $got =~ ^RETRY\ after=0ms\ .*[Tt]imed\ out ]] && [ "$ms" -lt 2500 ]; then
	ok "grpc: hanging collector -> retry after the 1 s timeout (${ms} ms: $got)"
else
	not_ok "grpc: hanging collector" "got '$got' after ${ms} ms"
fi

mode '{"mode":"garbage"}'
for proto in http grpc; do
	if [ $proto = http ]; then url=$http_base/v1/traces; else url=$grpc_url; fi
	send --protocol $proto "$url" "$work/traces.pb"
	if [ "$rc" -lt 128 ] && [[ $got =~ ^(OK|RETRY|FAIL) ]]; then
		ok "$proto: garbage answer, no crash ($got)"
	else
		not_ok "$proto: garbage answer" "exit $rc, '$got'"
	fi
done

mode '{"mode":"ok"}'
stats=$(curl -sS "http://127.0.0.1:$control_port/stats")
if python3 -c 'import json,sys; s=json.loads(sys.argv[1]); sys.exit(not (s["total"] == s["ok"] + s["fail"] + s["hang"] + s["garbage"] + s["error"] and s["hang"] == 2 and s["garbage"] == 2))' "$stats"; then
	ok "receiver stats add up ($stats)"
else
	not_ok "receiver stats" "$stats"
fi

# --- no collector at all ----------------------------------------------------

kill "$receiver_pid"
wait "$receiver_pid" 2>/dev/null || true
receiver_pid=
send --timeout 2000 "$http_base/v1/traces" "$work/traces.pb"
expect_out "http: collector down -> retry" '^RETRY after=0ms .*(refused|[Cc]ouldn.t connect)'
send --protocol grpc --timeout 2000 "$grpc_url" "$work/traces.pb"
expect_out "grpc: collector down -> retry" '^RETRY after=0ms .*(refused|[Cc]ouldn.t connect)'

echo "otlp-transport-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
