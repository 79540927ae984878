// SPDX-License-Identifier: MIT
// The Node.js application of tests/integration/test_context_node.py, never
// changed for sonde: a frontend `http` server whose handler calls a backend.
//
//   node node_ctx_app.js frontend PORT BACKEND_PORT
//     GET /direct?customer=C     a call on a new connection (agent: false)
//     GET /keepalive?customer=C  a call through a keep-alive agent (2 sockets)
//     GET /timer?customer=C      awaits a timer first, then calls (new connection)
//     GET /late?customer=C       calls through the keep-alive agent, answers, and
//                                20 ms after its response calls /customer/C-late
//     GET /together?customer=C&n=N  waits until N such requests are in flight,
//                                calls (new connection), and answers once all N
//                                calls have returned: every call is made while
//                                all N requests are being served
//   each calls GET /customer/C on the backend and answers with its reply.
//   node node_ctx_app.js backend PORT       answers /customer/C with "C"
//   node node_ctx_app.js sigusr1 PORT FILE  a server with its own SIGUSR1
//                                            handler, which appends to FILE
// Each prints nothing of its own: its stdout and stderr are the tests'.
'use strict';
const fs = require('fs');
const http = require('http');
const { setTimeout: sleep } = require('timers/promises');

const [mode, port, arg] = process.argv.slice(2);
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 2 });

function call(customer, agent) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port: Number(arg),
					   path: '/customer/' + customer, agent: agent },
					 (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve(body));
		});
		req.on('error', reject);
		req.end();
	});
}

// Resolves once n callers have come to the gate of this name; then it opens
// for the next n.
const gates = new Map();
function gate(name, n) {
	return new Promise((resolve) => {
		const waiting = gates.get(name) || [];

		waiting.push(resolve);
		if (waiting.length < n) {
			gates.set(name, waiting);
			return;
		}
		gates.delete(name);
		waiting.forEach((r) => r());
	});
}

async function frontend(req, res) {
	const url = new URL(req.url, 'http://x');
	const customer = url.searchParams.get('customer');
	let body;

	if (url.pathname === '/direct') {
		body = await call(customer, false);
	} else if (url.pathname === '/keepalive') {
		body = await call(customer, keepAlive);
	} else if (url.pathname === '/timer') {
		await sleep(5 + (Number(customer) % 7) * 3);
		body = await call(customer, false);
	} else if (url.pathname === '/together') {
		const n = Number(url.searchParams.get('n'));

		await gate('in', n);
		body = await call(customer, false);
		await gate('out', n);
	} else if (url.pathname === '/late') {
		body = await call(customer, keepAlive);
		// Still in the request's asynchronous context, but after its end.
		res.on('finish', () => setTimeout(() => {
			call(customer + '-late', keepAlive).catch(() => {});
		}, 20));
	} else {
		res.writeHead(404);
		res.end();
		return;
	}
	res.end('frontend ' + body);
}

let handler;
if (mode === 'frontend') {
	handler = (req, res) => frontend(req, res).catch((e) => {
		res.writeHead(500);
		res.end(String(e));
	});
} else if (mode === 'backend') {
	handler = (req, res) => setTimeout(() => res.end(req.url.split('/').pop()), 2);
} else if (mode === 'sigusr1') {
	process.on('SIGUSR1', () => fs.appendFileSync(arg, 'SIGUSR1\n'));
	handler = (req, res) => res.end('ok');
} else {
	throw new Error('unknown mode ' + mode);
}
http.createServer(handler).listen(Number(port), '127.0.0.1');
