// SPDX-License-Identifier: MIT
// The Node (@grpc/grpc-js) side of sonde's gRPC integration tests, without
// protoc: a service described by hand on raw buffers, messages hand-encoded as
// google.protobuf.StringValue (field 1, length-delimited).
//
//   node grpc_peer.js server PORT   sonde.test.Echo: Say (unary), Count (server streaming)
//   node grpc_peer.js client ADDR   Say hello, Say status:5, Say status:13, Count 3, Nope
//
// @grpc/grpc-js comes from tools/otlp-receiver/node_modules (NODE_PATH).
'use strict';

const grpc = require('@grpc/grpc-js');

const raw = (b) => b;
const method = (name, responseStream) => ({
  path: `/sonde.test.Echo/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});
const echo = { Say: method('Say', false), Count: method('Count', true) };

function encode(text) {
  const data = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x0a, data.length]), data]);
}

function decode(msg) {
  return msg.length >= 2 ? msg.subarray(2, 2 + msg[1]).toString() : '';
}

function server(port) {
  const srv = new grpc.Server();
  srv.addService(echo, {
    Say(call, callback) {
      const arg = decode(call.request);
      if (arg.startsWith('status:')) {
        callback({ code: Number(arg.slice(7)), details: 'asked for' });
        return;
      }
      callback(null, encode(`said ${arg}`));
    },
    Count(call) {
      const n = Number(decode(call.request));
      for (let i = 1; i <= n; i++) call.write(encode(String(i)));
      call.end();
    },
  });
  srv.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    console.log('ready');
  });
}

const codeName = (code) => Object.keys(grpc.status).find((k) => grpc.status[k] === code);

function unary(client, path, arg) {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, raw, raw, encode(arg), (err) => {
      resolve(err ? codeName(err.code) : 'OK');
    });
  });
}

async function client(addr) {
  const Client = grpc.makeGenericClientConstructor(echo, 'Echo');
  const c = new Client(addr, grpc.credentials.createInsecure());
  for (const arg of ['hello', 'status:5', 'status:13']) {
    console.log(`Say ${arg}: ${await unary(c, '/sonde.test.Echo/Say', arg)}`);
  }
  const got = await new Promise((resolve) => {
    let n = 0;
    const call = c.Count(encode('3'));
    call.on('data', () => n++);
    call.on('status', (s) => resolve(`${n}: ${codeName(s.code)}`));
    call.on('error', () => {});
  });
  console.log(`Count ${got}`);
  console.log(`Nope: ${await unary(c, '/sonde.test.Echo/Nope', '')}`);
  c.close();
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'server') server(arg);
else if (mode === 'client') client(arg);
else {
  console.error('usage: grpc_peer.js server PORT | client ADDR');
  process.exit(2);
}
