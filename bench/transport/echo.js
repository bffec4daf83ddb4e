#!/usr/bin/env node
// bench/transport/echo.js PORT CERT KEY [SIZE]: a TLS WebSocket echo server with the ws
// package, the baseline of the QIX round trip. With SIZE, it answers every message with one
// text message of SIZE bytes instead: the best a server can do for a client that receives
// a large answer (the baseline of the 64 MiB GetScript).
'use strict';
const https = require('https');
const fs = require('fs');
const { WebSocketServer } = require('ws');
const [port, cert, key, size] = process.argv.slice(2);
const big = size ? Buffer.alloc(Number(size), 'x') : null;
const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 256 << 20 });
wss.on('connection', (ws) => ws.on('message', (m, binary) => {
  if (big) ws.send(big, { binary: false });
  else ws.send(m, { binary });
}));
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
