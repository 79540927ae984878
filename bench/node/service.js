// SPDX-License-Identifier: MIT
// The two-hop Node.js service of `make bench`'s peer comparison (bench/run.py).
//
// usage: node service.js PORT [UPSTREAM_PORT]
// Without UPSTREAM_PORT it answers every request with a small fixed body (the
// backend). With it, every request is passed on as a GET to 127.0.0.1:UPSTREAM_PORT
// over keep-alive connections and answered with the upstream's body once that
// has arrived (the frontend). So a traced request makes three spans: the
// frontend's server span, its client span and the backend's server span.
// Prints "ready" when listening; on SIGTERM prints {"requests": N} (requests
// answered) and exits once the OpenTelemetry SDK, when loaded, has flushed.
"use strict";

const http = require("http");

const port = Number(process.argv[2]);
const upstream = process.argv[3] ? Number(process.argv[3]) : 0;
const BODY = "hello, bench\n";
const agent = new http.Agent({ keepAlive: true });
let answered = 0;

function reply(res, status, body) {
	res.writeHead(status, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
	answered++;
}

function handle(req, res) {
	req.resume();
	if (!upstream) {
		reply(res, 200, BODY);
		return;
	}
	const call = http.get({ host: "127.0.0.1", port: upstream, path: req.url, agent }, (up) => {
		const parts = [];
		up.on("data", (c) => parts.push(c));
		up.on("end", () => reply(res, up.statusCode, Buffer.concat(parts).toString()));
	});
	call.on("error", () => reply(res, 502, "upstream failed\n"));
}

const server = http.createServer({ keepAliveTimeout: 600000 }, handle);
server.listen(port, "127.0.0.1", () => console.log("ready"));

process.on("SIGTERM", async () => {
	server.close();
	agent.destroy();
	// bench/node/sdk.js puts its shutdown (a flush of the spans it holds) here.
	if (globalThis.benchSdkShutdown) {
		await globalThis.benchSdkShutdown();
	}
	console.log(JSON.stringify({ requests: answered }));
	process.exit(0);
});
