// SPDX-License-Identifier: MIT
// bench/node_access.py's Node.js process: an idle server (so that sonde has a
// Node.js process to inject, which attaches the sentinel tracepoint) that, on
// GET /loop?n=N, passes N sentinel paths to access() as the injected script
// does and answers the mean time per call in ns.
//   node node_sentinel_loop.js PORT
'use strict';
const fs = require('fs');
const http = require('http');

http.createServer((req, res) => {
	const n = Number(new URL(req.url, 'http://x').searchParams.get('n') || 100000);
	const path = '/dev/null/sonde/00000005/00000006';
	const t0 = process.hrtime.bigint();

	for (let i = 0; i < n; i++)
		fs.existsSync(path);
	res.end(String(Number(process.hrtime.bigint() - t0) / n));
}).listen(Number(process.argv[2]), '127.0.0.1');
