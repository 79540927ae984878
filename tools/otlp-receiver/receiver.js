#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// Test OTLP collector for sonde. Takes OTLP/HTTP (protobuf) and OTLP/gRPC exports
// of traces, metrics and logs, decodes them with the protobuf code the OpenTelemetry
// JS SDK itself ships (@opentelemetry/otlp-transformer; logs from the official
// .proto files of @opentelemetry/otlp-grpc-exporter-base), and appends one JSON
// line per request to --out,
// so tests check what a real collector would have understood rather than what our
// own encoder believes it wrote.
//
//   node receiver.js --http-port P --grpc-port Q --out FILE [--control-port C]
//        [--host ADDR] [--mode ok|fail|hang|garbage] [--status N]
//        [--retry-after SECONDS] [--fail-count N] [--delay-ms MS] [--raw-out FILE]
//
// --delay-ms makes every successful answer wait that long: a slow collector.
// --raw-out appends every request's message bytes (after gunzip), as received, to
// FILE: what a test greps when the decoded JSON could hide something (unknown fields).
//
// Control port: POST /mode with a JSON body {"mode", "status", "retry_after",
// "fail_count", "delay_ms"} replaces the fault settings (keys not given go back to their
// defaults); GET /mode shows them; GET /stats counts requests by result, and the spans of
// those accepted.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
// The package has no "exports" map, so its generated static module is reachable.
const otlpRoot = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');

const collector = otlpRoot.opentelemetry.proto.collector;

// The generated module has no logs: their messages come from the official .proto
// files the gRPC exporter package ships, loaded with the same protobufjs.
function officialProtoDir() {
	const pkgDir = path.dirname(
		require.resolve('@opentelemetry/otlp-grpc-exporter-base/package.json'));
	return path.join(pkgDir, 'build', 'protos');
}

function loadLogsTypes() {
	const protobuf = require('protobufjs');
	const root = new protobuf.Root();
	root.resolvePath = (origin, target) => path.join(officialProtoDir(), target);
	root.loadSync('opentelemetry/proto/collector/logs/v1/logs_service.proto', { keepCase: false });
	return {
		request: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
		response: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
	};
}
const logsTypes = loadLogsTypes();

const SIGNALS = {
	traces: {
		request: collector.trace.v1.ExportTraceServiceRequest,
		response: collector.trace.v1.ExportTraceServiceResponse,
		httpPath: '/v1/traces',
		service: 'opentelemetry.proto.collector.trace.v1.TraceService',
		proto: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
	},
	metrics: {
		request: collector.metrics.v1.ExportMetricsServiceRequest,
		response: collector.metrics.v1.ExportMetricsServiceResponse,
		httpPath: '/v1/metrics',
		service: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
		proto: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
	},
	logs: {
		request: logsTypes.request,
		response: logsTypes.response,
		httpPath: '/v1/logs',
		service: 'opentelemetry.proto.collector.logs.v1.LogsService',
		proto: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
	},
};

// Bigger than any batch sonde sends; a runaway client must not eat the test host.
const MAX_BODY = 64 * 1024 * 1024;
// Carries our per-stream bookkeeping id from the raw HTTP/2 stream into grpc-js
// metadata; removed again before headers are logged.
const STREAM_ID_HEADER = 'x-otlp-receiver-stream';

// OTLP puts these ids in `bytes` fields; people (and sonde's logs) read them as hex.
const HEX_ID_KEYS = new Set(['traceId', 'spanId', 'parentSpanId']);

function usage(msg) {
	if (msg)
		process.stderr.write(`otlp-receiver: ${msg}\n`);
	process.stderr.write(
		'usage: node receiver.js --http-port P --grpc-port Q --out FILE [--control-port C]\n' +
			'       [--host ADDR] [--mode ok|fail|hang|garbage] [--status N]\n' +
			'       [--retry-after SECONDS] [--fail-count N] [--delay-ms MS]\n' +
			'       [--raw-out FILE]\n');
	process.exit(2);
}

function parsePort(name, text) {
	const n = Number(text);
	if (!Number.isInteger(n) || n < 0 || n > 65535)
		usage(`${name}: not a port: ${text}`);
	return n;
}

const MODES = new Set(['ok', 'fail', 'hang', 'garbage']);

// One place that checks fault settings, for the flags and for POST /mode alike.
// Throws with a message naming the bad value.
function faultSettings(given) {
	const s = { mode: 'ok', status: 503, retryAfter: null, failCount: 0, delayMs: 0 };
	const pick = (...names) => names.map((n) => given[n]).find((v) => v !== undefined);
	const mode = pick('mode');
	const status = pick('status');
	const retryAfter = pick('retry_after', 'retry-after', 'retryAfter');
	const failCount = pick('fail_count', 'fail-count', 'failCount');
	const delayMs = pick('delay_ms', 'delay-ms', 'delayMs');

	if (mode !== undefined) {
		if (!MODES.has(mode))
			throw new Error(`mode: expected ok, fail, hang or garbage, got ${mode}`);
		s.mode = mode;
	}
	if (status !== undefined) {
		const n = Number(status);
		if (!Number.isInteger(n) || n < 100 || n > 599)
			throw new Error(`status: not an HTTP status: ${status}`);
		s.status = n;
	}
	if (retryAfter !== undefined && retryAfter !== null) {
		// Passed through as text so tests can also send an HTTP-date.
		s.retryAfter = String(retryAfter);
		if (!/^[\x20-\x7e]+$/.test(s.retryAfter))
			throw new Error(`retry_after: not a header value: ${retryAfter}`);
	}
	if (failCount !== undefined) {
		const n = Number(failCount);
		if (!Number.isInteger(n) || n < 0)
			throw new Error(`fail_count: not a count: ${failCount}`);
		s.failCount = n;
	}
	if (delayMs !== undefined) {
		const n = Number(delayMs);
		if (!Number.isInteger(n) || n < 0)
			throw new Error(`delay_ms: not a count of milliseconds: ${delayMs}`);
		s.delayMs = n;
	}
	return s;
}

function parseArgs(argv) {
	const opts = { host: '127.0.0.1', controlPort: null, fault: {} };
	const need = (i) => {
		if (i + 1 >= argv.length)
			usage(`${argv[i]} needs a value`);
		return argv[i + 1];
	};
	for (let i = 0; i < argv.length; i += 2) {
		const arg = argv[i];
		const value = need(i);
		switch (arg) {
		case '--http-port':
			opts.httpPort = parsePort(arg, value);
			break;
		case '--grpc-port':
			opts.grpcPort = parsePort(arg, value);
			break;
		case '--control-port':
			opts.controlPort = parsePort(arg, value);
			break;
		case '--out':
			opts.out = value;
			break;
		case '--host':
			opts.host = value;
			break;
		case '--raw-out':
			opts.rawOut = value;
			break;
		case '--mode':
		case '--status':
		case '--retry-after':
		case '--fail-count':
		case '--delay-ms':
			opts.fault[arg.slice(2)] = value;
			break;
		default:
			usage(`unknown option ${arg}`);
		}
	}
	if (opts.httpPort === undefined || opts.grpcPort === undefined || !opts.out)
		usage('--http-port, --grpc-port and --out are required');
	try {
		opts.fault = faultSettings(opts.fault);
	} catch (e) {
		usage(e.message);
	}
	return opts;
}

const opts = parseArgs(process.argv.slice(2));
let fault = opts.fault;
// spans: spans in the trace requests answered with success (what a soak compares
// with the agent's own count of spans exported).
const stats = {
	total: 0, http: 0, grpc: 0, ok: 0, fail: 0, hang: 0, garbage: 0, error: 0, spans: 0,
};

// What to do with the next request: fail_count wins until it is used up.
function takeAction() {
	if (fault.failCount > 0) {
		fault.failCount--;
		return 'fail';
	}
	return fault.mode;
}

function spanCount(body) {
	let n = 0;
	for (const rs of (body && body.resourceSpans) || [])
		for (const ss of rs.scopeSpans || [])
			n += (ss.spans || []).length;
	return n;
}

function record(line) {
	line.time_ms = Date.now(); // lets tests measure retry delays
	stats.total++;
	stats[line.transport]++;
	stats[line.result]++;
	if (line.result === 'ok' && line.signal === 'traces')
		stats.spans += spanCount(line.body);
	// appendFileSync: the line is on disk before the client sees an answer, so a
	// test that waits for the export's outcome can read the file straight away.
	fs.appendFileSync(opts.out, JSON.stringify(line) + '\n');
}

function keepRaw(buf) {
	if (opts.rawOut)
		fs.appendFileSync(opts.rawOut, buf);
}

function hexIds(value) {
	if (Array.isArray(value)) {
		value.forEach(hexIds);
	} else if (value && typeof value === 'object') {
		for (const [k, v] of Object.entries(value)) {
			if (HEX_ID_KEYS.has(k) && typeof v === 'string')
				value[k] = Buffer.from(v, 'base64').toString('hex');
			else
				hexIds(v);
		}
	}
	return value;
}

// Returns the decoded request as a plain object in the OTLP shape; throws when the
// bytes are not a valid message of the signal's request type.
function decodeBody(signal, buf) {
	const type = SIGNALS[signal].request;
	const msg = type.decode(buf);
	// longs: String keeps int64/fixed64 exact (JSON numbers lose precision past 2^53).
	const obj = type.toObject(msg, {
		longs: String,
		enums: String,
		bytes: String,
		defaults: false,
		arrays: true,
	});
	return hexIds(obj);
}

function emptyResponse(signal) {
	return Buffer.from(SIGNALS[signal].response.encode({}).finish());
}

function garbageBytes() {
	// 0xff bytes first: field number 0x1f.. with wire type 7, which no protobuf
	// decoder accepts, followed by noise.
	return Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), crypto.randomBytes(61)]);
}

// ---- OTLP/HTTP -------------------------------------------------------------

function httpReply(res, status, headers, body) {
	res.writeHead(status, { 'Content-Type': 'application/x-protobuf', ...headers });
	res.end(body || Buffer.alloc(0));
}

function handleHttp(req, res) {
	const signal = Object.keys(SIGNALS).find((s) => SIGNALS[s].httpPath === req.url);
	const encoding = (req.headers['content-encoding'] || 'identity').toLowerCase();
	const line = {
		transport: 'http',
		signal: signal || null,
		path: req.url,
		gzip: encoding === 'gzip',
		headers: { ...req.headers },
	};
	const reject = (status, why) => {
		line.result = 'error';
		line.error = why;
		record(line);
		httpReply(res, status, {}, null);
	};

	const chunks = [];
	let size = 0;
	let tooBig = false;
	req.on('data', (chunk) => {
		size += chunk.length;
		if (size > MAX_BODY)
			tooBig = true;
		else
			chunks.push(chunk);
	});
	req.on('end', () => {
		if (!signal)
			return reject(404, `unknown path ${req.url}`);
		if (req.method !== 'POST')
			return reject(405, `method ${req.method}`);
		const type = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
		if (type !== 'application/x-protobuf')
			return reject(415, `content-type ${req.headers['content-type'] || '(none)'}`);
		if (tooBig)
			return reject(413, `body larger than ${MAX_BODY} bytes`);
		if (encoding !== 'gzip' && encoding !== 'identity')
			return reject(415, `content-encoding ${encoding}`);

		let body = Buffer.concat(chunks);
		try {
			if (encoding === 'gzip')
				body = zlib.gunzipSync(body, { maxOutputLength: MAX_BODY });
		} catch (e) {
			return reject(400, `gunzip: ${e.message}`);
		}
		keepRaw(body);
		try {
			line.body = decodeBody(signal, body);
		} catch (e) {
			return reject(400, `decode: ${e.message}`);
		}

		line.result = takeAction();
		record(line);
		switch (line.result) {
		case 'ok':
			return later(() => httpReply(res, 200, {}, emptyResponse(signal)));
		case 'fail': {
			const extra = fault.retryAfter !== null ? { 'Retry-After': fault.retryAfter } : {};
			return httpReply(res, fault.status, extra, null);
		}
		case 'garbage':
			return httpReply(res, 200, {}, garbageBytes());
		case 'hang':
			// Never answer; the socket stays open until the client gives up.
			return;
		}
	});
}

// Runs a successful answer now, or after the slow-collector delay.
function later(answer) {
	if (fault.delayMs > 0)
		setTimeout(answer, fault.delayMs);
	else
		answer();
}

// ---- OTLP/gRPC -------------------------------------------------------------

// Raw HTTP/2 headers and the first byte of the first length-prefixed message (the
// compressed flag), by stream; grpc-js hides both from handlers.
const streams = new Map();
let nextStreamId = 1;

function grpcMethodSignal(pathName) {
	return Object.keys(SIGNALS).find((s) => `/${SIGNALS[s].service}/Export` === pathName);
}

// Runs before grpc-js sees the stream (prependListener), so it can look at and
// adjust the headers grpc-js is about to turn into metadata.
function tapStream(stream, headers) {
	const id = String(nextStreamId++);
	const raw = {};
	for (const [k, v] of Object.entries(headers)) {
		if (!k.startsWith(':'))
			raw[k] = Array.isArray(v) ? v.join(', ') : v;
	}
	const entry = { raw, path: headers[':path'], flag: null, handled: false };
	streams.set(id, entry);
	headers[STREAM_ID_HEADER] = id;

	// grpc-js enforces grpc-timeout by answering DEADLINE_EXCEEDED itself; a hanging
	// collector must not, so it never learns the deadline.
	if (fault.mode === 'hang' && fault.failCount === 0)
		delete headers['grpc-timeout'];

	stream.on('data', (chunk) => {
		if (entry.flag === null && chunk.length > 0)
			entry.flag = chunk[0];
	});
	stream.on('close', () => {
		streams.delete(id);
		if (entry.handled)
			return;
		// grpc-js answered on its own (bad compression, unknown method, oversized
		// message): still one line per request.
		// The status is in the trailers, or in the headers of a trailers-only reply.
		const sent = [stream.sentTrailers, stream.sentHeaders].find(
			(h) => h && h['grpc-status'] !== undefined);
		const signal = grpcMethodSignal(entry.path);
		let why = 'stream closed before a message arrived';
		if (sent) {
			let msg = String(sent['grpc-message'] || '');
			try {
				msg = decodeURIComponent(msg);
			} catch (e) {
				// Keep it percent-encoded.
			}
			why = `grpc-js answered grpc-status ${sent['grpc-status']}: ${msg}`;
		}
		record({
			transport: 'grpc',
			signal: signal || null,
			path: entry.path,
			gzip: entry.raw['grpc-encoding'] === 'gzip' && entry.flag === 1,
			headers: entry.raw,
			result: 'error',
			error: why,
		});
	});
}

function grpcExport(signal) {
	return (call, callback) => {
		const id = call.metadata.get(STREAM_ID_HEADER)[0];
		const entry = streams.get(id) || { raw: {}, path: null, flag: null };
		entry.handled = true;
		keepRaw(call.request);
		const line = {
			transport: 'grpc',
			signal,
			path: entry.path,
			gzip: entry.raw['grpc-encoding'] === 'gzip' && entry.flag === 1,
			headers: entry.raw,
		};
		try {
			line.body = decodeBody(signal, call.request);
		} catch (e) {
			line.result = 'error';
			line.error = `decode: ${e.message}`;
			record(line);
			return callback({ code: grpc.status.INVALID_ARGUMENT, details: line.error });
		}

		line.result = takeAction();
		record(line);
		switch (line.result) {
		case 'ok':
			return later(() => callback(null, { signal }));
		case 'fail': {
			// OTLP/gRPC: RESOURCE_EXHAUSTED is the throttling answer (HTTP's 429);
			// UNAVAILABLE the generic "try again later".
			const code = fault.status === 429 ? grpc.status.RESOURCE_EXHAUSTED
							  : grpc.status.UNAVAILABLE;
			return callback({ code, details: `otlp-receiver: fail mode (${fault.status})` });
		}
		case 'garbage':
			// A well-framed reply whose message is not protobuf, with status OK.
			return callback(null, { signal, garbage: true });
		case 'hang':
			return;
		}
	};
}

// The service definitions (method paths, streaming flags) come from the official
// .proto files; the message coding is swapped for root.js so requests are decoded by
// the same generated code as the HTTP path, and decode errors reach our handler.
function grpcServices() {
	const protoDir = officialProtoDir();
	const def = protoLoader.loadSync(
		Object.values(SIGNALS).map((s) => s.proto),
		{ includeDirs: [protoDir], keepCase: false });
	const out = [];
	for (const signal of Object.keys(SIGNALS)) {
		const svc = def[SIGNALS[signal].service];
		if (!svc || !svc.Export)
			throw new Error(`${SIGNALS[signal].service} missing from ${protoDir}`);
		const method = {
			...svc.Export,
			requestDeserialize: (buf) => buf,
			responseSerialize: (resp) =>
				resp.garbage ? garbageBytes() : emptyResponse(resp.signal),
		};
		out.push({ signal, definition: { Export: method } });
	}
	return out;
}

function startGrpc() {
	const server = new grpc.Server({
		'grpc.max_receive_message_length': MAX_BODY,
	});
	for (const { signal, definition } of grpcServices())
		server.addService(definition, { Export: grpcExport(signal) });
	return new Promise((resolve, reject) => {
		server.bindAsync(`${opts.host}:${opts.grpcPort}`,
				 grpc.ServerCredentials.createInsecure(), (err, port) => {
			if (err)
				return reject(err);
			// grpc-js keeps its HTTP/2 servers in a private map (stable in the pinned
			// 1.14.x); there is no public hook for raw headers or message flags.
			if (!(server.http2Servers instanceof Map) || server.http2Servers.size === 0)
				return reject(new Error('grpc-js internals changed: no http2Servers'));
			for (const h2 of server.http2Servers.keys())
				h2.prependListener('stream', tapStream);
			resolve(port);
		});
	});
}

// ---- control port ----------------------------------------------------------

function publicFault() {
	return {
		mode: fault.mode,
		status: fault.status,
		retry_after: fault.retryAfter,
		fail_count: fault.failCount,
		delay_ms: fault.delayMs,
	};
}

function handleControl(req, res) {
	const send = (status, obj) => {
		res.writeHead(status, { 'Content-Type': 'application/json' });
		res.end(JSON.stringify(obj) + '\n');
	};
	let text = '';
	req.setEncoding('utf8');
	req.on('data', (c) => {
		if (text.length < 65536)
			text += c;
	});
	req.on('end', () => {
		if (req.url === '/stats' && req.method === 'GET')
			return send(200, stats);
		if (req.url === '/mode' && req.method === 'GET')
			return send(200, publicFault());
		if (req.url === '/mode' && req.method === 'POST') {
			try {
				const given = text.trim() ? JSON.parse(text) : {};
				if (!given || typeof given !== 'object' || Array.isArray(given))
					throw new Error('body must be a JSON object');
				fault = faultSettings(given);
			} catch (e) {
				return send(400, { error: e.message });
			}
			return send(200, publicFault());
		}
		send(404, { error: `no ${req.method} ${req.url}` });
	});
}

function listenHttp(handler, port) {
	const server = http.createServer(handler);
	// A hanging reply must stay hung: no server-side timeouts closing it for us.
	server.requestTimeout = 0;
	server.timeout = 0;
	server.keepAliveTimeout = 60000;
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, opts.host, () => resolve(server.address().port));
	});
}

async function main() {
	fs.appendFileSync(opts.out, ''); // fail early on an unwritable --out
	if (opts.rawOut)
		fs.appendFileSync(opts.rawOut, '');
	const httpPort = await listenHttp(handleHttp, opts.httpPort);
	const grpcPort = await startGrpc();
	if (opts.controlPort !== null) {
		const controlPort = await listenHttp(handleControl, opts.controlPort);
		process.stdout.write(`otlp-receiver: control=${controlPort}\n`);
	}
	process.stdout.write(`otlp-receiver: listening http=${httpPort} grpc=${grpcPort}\n`);
}

for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));

main().catch((e) => {
	process.stderr.write(`otlp-receiver: ${e.message}\n`);
	process.exit(1);
});
