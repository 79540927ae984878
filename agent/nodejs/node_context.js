// SPDX-License-Identifier: MIT
//
// Evaluated once inside a running Node.js process by sonde, through the
// inspector (agent/nodejs/node_inject.c; docs/ARCHITECTURE.md, "Request
// context", "Node.js"). It tells the kernel which incoming connection's
// asynchronous context each outgoing write belongs to, so that a client call
// can be made the child of the request that caused it although one thread
// serves every request at once.
//
// - Each connection a server accepts, and each HTTP request on it, runs its
//   callbacks inside an AsyncLocalStorage store naming the accepted socket.
// - A write on another socket inside such a store first calls
//   existsSync('/dev/null/sonde/IIIIIIII/OOOOOOOO'), the incoming and the
//   outgoing fd in 8 hex digits (bpf/node_sentinel.h): a path that cannot
//   exist (ENOTDIR; no exception, nothing created), whose access() a BPF
//   tracepoint reads. ffffffff for the incoming fd: the write is made outside
//   any request (after its response ended, or on a socket a request used
//   before), so the call has no parent here.
//
// Rules: never throw into the application, never change what it writes or
// what its calls return, wrap once however often it is evaluated. The value
// of the expression is a short status string for the agent's log.
(function (require) {
	'use strict';
	const mark = Symbol.for('sonde.node-context');

	if (globalThis[mark])
		return 'already';
	if (typeof require !== 'function')
		return 'no require';

	const fs = require('fs');
	const net = require('net');
	const { AsyncLocalStorage } = require('async_hooks');
	// Taken now: what the application later does to fs must not reach us.
	const exists = fs.existsSync;
	const prefix = '/dev/null/sonde/';
	const als = new AsyncLocalStorage();
	// On a client socket: whether a sentinel named it (a later write made
	// outside any request must then say so), and a pending 'connect' wait.
	const kNamed = Symbol('sonde.named');
	const kWaiting = Symbol('sonde.waiting');

	// The file descriptor under a socket; -1 while it has none (connecting).
	// A TLS socket's handle wraps the TCP one.
	function fdOf(sock) {
		const h = sock && sock._handle;
		let fd = h ? h.fd : undefined;

		if (!Number.isInteger(fd) && h && h._parent)
			fd = h._parent.fd;
		return Number.isInteger(fd) && fd >= 0 ? fd : -1;
	}

	// HTTP/2 carries many requests on one connection: a store naming the
	// connection could not say which one made a call.
	function multiplexed(server) {
		const name = server && server.constructor && server.constructor.name;

		return name === 'Http2Server' || name === 'Http2SecureServer';
	}

	// The incoming fd a store stands for, or -1 when its request is over or
	// its connection gone (the fd may already be another connection's).
	function liveFd(store) {
		if (store.sock.destroyed || fdOf(store.sock) !== store.fd)
			return -1;
		if (store.res && store.res.writableEnded)
			return -1;
		return store.fd;
	}

	function hex8(n) {
		return ('0000000' + (n >>> 0).toString(16)).slice(-8);
	}

	function signal(inFd, sock) {
		const outFd = fdOf(sock);

		if (outFd < 0)
			return;
		exists(prefix + hex8(inFd) + '/' + hex8(outFd)); // -1 >>> 0: ffffffff
		sock[kNamed] = true;
	}

	// Before each write on a client socket.
	function noteWrite(sock) {
		const store = als.getStore();

		if (sock.server || (store && store.sock === sock))
			return; // an accepted socket: it carries responses, not calls
		if (!store) {
			if (sock[kNamed])
				signal(-1, sock);
			return;
		}
		if (fdOf(sock) >= 0) {
			signal(liveFd(store), sock);
			return;
		}
		// Connecting: net.Socket keeps the bytes until 'connect', and the fd
		// exists only then. Our listener goes first, before the one the
		// write below adds to send them.
		if (sock[kWaiting])
			return;
		sock[kWaiting] = true;
		sock.once('connect', function () {
			sock[kWaiting] = false;
			try {
				signal(liveFd(store), sock);
			} catch (e) {
				// nothing: the application's write goes on
			}
		});
	}

	// The methods we wrap, as found now: own ones, or else looked up on the
	// parent prototype at each call, so that a later wrapper of
	// EventEmitter's emit or Writable's write (another agent's) still runs.
	function original(proto, name) {
		const own = Object.prototype.hasOwnProperty.call(proto, name) ? proto[name] : null;
		const parent = Object.getPrototypeOf(proto);

		return function (self, args) {
			return (own || parent[name]).apply(self, args);
		};
	}
	const serverEmit = original(net.Server.prototype, 'emit');
	const socketWrite = original(net.Socket.prototype, 'write');

	net.Server.prototype.emit = function (event, arg) {
		let store = null;

		try {
			if (event === 'connection' && !multiplexed(this)) {
				const fd = fdOf(arg);

				if (fd >= 0)
					store = { fd: fd, sock: arg, res: null };
			} else if (event === 'request' && !multiplexed(this) && arguments.length > 2) {
				const sock = arg && arg.socket;
				const fd = fdOf(sock);

				if (fd >= 0)
					store = { fd: fd, sock: sock, res: arguments[2] };
			}
		} catch (e) {
			store = null;
		}
		if (!store)
			return serverEmit(this, arguments);
		const self = this;
		const args = arguments;

		return als.run(store, function () {
			return serverEmit(self, args);
		});
	};

	net.Socket.prototype.write = function () {
		try {
			noteWrite(this);
		} catch (e) {
			// nothing: the application's write goes on
		}
		return socketWrite(this, arguments);
	};

	Object.defineProperty(globalThis, mark, { value: { version: 1 } });
	return 'installed';
})(typeof require === 'function' ? require
   : process.mainModule ? process.mainModule.require.bind(process.mainModule) : undefined)
