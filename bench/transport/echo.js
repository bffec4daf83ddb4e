#!/usr/bin/env node
// bench/transport/echo.js PORT CERT KEY: a TLS WebSocket echo server with the ws package,
// the baseline of the QIX round trip.
'use strict';
const https = require('https');
const fs = require('fs');
const { WebSocketServer } = require('ws');
const [port, cert, key] = process.argv.slice(2);
const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 256 << 20 });
wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
