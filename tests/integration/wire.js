#!/usr/bin/env node
// wire.js: a client that behaves as the transport tests need, with Node's own tls and net
// modules only (no WebSocket library, so that it can misbehave on purpose).
//
//   wire.js raw PORT CERTDIR             sends stdin as raw bytes over TLS with the site's
//                                         client certificate; prints what comes back
//   wire.js abandon PORT CERTDIR APP MODE N [HOLD_S]
//                                         opens N QIX sessions on the engine, waits for each
//                                         to say OnConnected, then leaves them: close (a close
//                                         frame), fin (TCP FIN, no close frame), rst (TCP
//                                         reset), silent (stops reading and answering; held
//                                         HOLD_S seconds). Prints "opened N".
//   wire.js idle PORT N HOLD_S            opens N TCP connections that never speak; after
//                                         HOLD_S seconds prints how many the server closed
//   wire.js qix PORT CERTDIR APP METHOD [PARAMS]
//                                         one QIX call on a new session (PARAMS: a JSON
//                                         array, default []); prints the answer's length
//                                         and the round trip in ms
//   wire.js answer PORT CERTDIR APP METHOD [PARAMS]
//                                         the same call; prints the answer itself (JSON)
//   wire.js hold PORT CERTDIR             opens a QIX session and prints "serial S" (the
//                                         serial of the certificate the server presented);
//                                         then for each line on stdin makes one call and
//                                         prints "answer S" with the same serial when it
//                                         comes; ends when stdin closes
//   wire.js flood PORT CERTDIR APP N      opens APP, then sends N GetScript calls, 20 ms
//                                         apart, while reading nothing; prints "sent N" and
//                                         stays until stdin closes
'use strict';
const tls = require('tls');
const net = require('net');
const fs = require('fs');
const crypto = require('crypto');

const [cmd, ...args] = process.argv.slice(2);

function tlsOpts(port, dir) {
  return {
    host: '127.0.0.1', port: Number(port), servername: 'localhost',
    ca: fs.readFileSync(`${dir}/root.pem`), cert: fs.readFileSync(`${dir}/client.pem`),
    key: fs.readFileSync(`${dir}/client_key.pem`),
  };
}

function raw(port, dir) {
  const input = fs.readFileSync(0);
  const s = tls.connect(tlsOpts(port, dir), () => s.write(input));
  const out = [];
  let timer = setTimeout(() => s.destroy(), 5000);
  s.on('data', (d) => {
    out.push(d);
    clearTimeout(timer);
    timer = setTimeout(() => s.destroy(), 1500);
  });
  s.on('error', () => {});
  s.on('close', () => { process.stdout.write(Buffer.concat(out)); process.exit(0); });
}

// A masked client frame (RFC 6455) with opcode `op`.
function frame(op, payload) {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | op, 0x80 | len])
    : len < 65536 ? Buffer.from([0x80 | op, 0x80 | 126, len >> 8, len & 255])
      : (() => { const b = Buffer.alloc(10); b[0] = 0x80 | op; b[1] = 0x80 | 127; b.writeBigUInt64BE(BigInt(len), 2); return b; })();
  const mask = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

// Opens a WebSocket on /app/APP by hand; resolves with the socket once the 101 and the
// first message (OnConnected) arrived, with `onText` called for every later text message.
function openSession(port, dir, app, onText) {
  return new Promise((resolve, reject) => {
    const tcp = net.connect(Number(port), '127.0.0.1');
    const s = tls.connect({ ...tlsOpts(port, dir), socket: tcp }, () => {
      const key = crypto.randomBytes(16).toString('base64');
      s.write(`GET /app/${app} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let connected = false;
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.slice(0, 12).toString().includes('101')) { reject(new Error(buf.toString())); s.destroy(); return; }
        upgraded = true;
        buf = buf.slice(end + 4);
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 127, off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const op = buf[0] & 15;
        const payload = buf.slice(off, off + len);
        buf = buf.slice(off + len);
        if (op === 9) s.write(frame(10, payload)); // answer pings unless paused
        if (op !== 1) continue;
        if (!connected) { connected = true; s.tcp = tcp; resolve(s); } else if (onText) onText(payload);
      }
    });
    s.on('error', (e) => { if (!connected) reject(e); });
  });
}

async function abandon(port, dir, app, mode, n, hold) {
  const socks = [];
  for (let i = 0; i < n; i++) socks.push(await openSession(port, dir, app));
  console.log(`opened ${socks.length}`);
  for (const s of socks) {
    if (mode === 'close') s.end(frame(8, Buffer.from([0x03, 0xe8])));
    else if (mode === 'fin') s.tcp.end(); // FIN with neither close_notify nor a close frame
    else if (mode === 'rst') s.tcp.resetAndDestroy();
    else if (mode === 'silent') { s.pause(); s.removeAllListeners('data'); }
  }
  setTimeout(() => process.exit(0), mode === 'silent' ? hold * 1000 : 500);
}

function idle(port, n, hold) {
  let closed = 0;
  let opened = 0;
  for (let i = 0; i < n; i++) {
    const s = net.connect(Number(port), '127.0.0.1');
    s.on('connect', () => opened++);
    s.on('close', () => closed++);
    s.on('error', () => {});
  }
  setTimeout(() => { console.log(`opened ${opened} closed ${closed}`); process.exit(0); }, hold * 1000);
}

async function qix(port, dir, app, method, params = [], print = false) {
  let t0 = 0;
  const s = await openSession(port, dir, app, (payload) => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(print ? payload.toString() : `${payload.length} ${ms.toFixed(2)}`);
    s.end(frame(8, Buffer.from([0x03, 0xe8])));
    setTimeout(() => process.exit(0), 100);
  });
  t0 = process.hrtime.bigint();
  s.write(frame(1, JSON.stringify({ jsonrpc: '2.0', id: 1, handle: -1, method, params })));
}

async function flood(port, dir, app, n) {
  let opened;
  const doc = new Promise((res) => { opened = res; });
  const s = await openSession(port, dir, app, (payload) => opened(JSON.parse(payload)));
  s.write(frame(1, JSON.stringify({ jsonrpc: '2.0', id: 1, handle: -1, method: 'OpenDoc', params: [app] })));
  const handle = (await doc).result.qReturn.qHandle;
  s.pause(); // from here on nothing is read
  s.removeAllListeners('data');
  s.on('error', () => {});
  let sent = 0;
  const timer = setInterval(() => {
    if (sent === n || s.destroyed) {
      clearInterval(timer);
      console.log(`sent ${sent}`);
      return;
    }
    sent++;
    s.write(frame(1, JSON.stringify({ jsonrpc: '2.0', id: 1 + sent, handle, method: 'GetScript', params: [] })));
  }, 20);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

async function hold(port, dir) {
  let id = 0;
  const s = await openSession(port, dir, '', () => console.log(`answer ${s.getPeerCertificate().serialNumber}`));
  console.log(`serial ${s.getPeerCertificate().serialNumber}`);
  s.on('close', () => { console.log('closed'); process.exit(1); });
  const lines = require('readline').createInterface({ input: process.stdin });
  lines.on('line', () => {
    id++;
    s.write(frame(1, JSON.stringify({ jsonrpc: '2.0', id, handle: -1, method: 'EngineVersion', params: [] })));
  });
  lines.on('close', () => process.exit(0));
}

if (cmd === 'raw') raw(args[0], args[1]);
else if (cmd === 'abandon') abandon(args[0], args[1], args[2], args[3], Number(args[4]), Number(args[5] || 5)).catch((e) => { console.error(e.message); process.exit(1); });
else if (cmd === 'idle') idle(args[0], Number(args[1]), Number(args[2]));
else if (cmd === 'qix' || cmd === 'answer') qix(args[0], args[1], args[2], args[3], args[4] ? JSON.parse(args[4]) : [], cmd === 'answer').catch((e) => { console.error(e.message); process.exit(1); });
else if (cmd === 'hold') hold(args[0], args[1]).catch((e) => { console.error(e.message); process.exit(1); });
else if (cmd === 'flood') flood(args[0], args[1], args[2], Number(args[3])).catch((e) => { console.error(e.message); process.exit(1); });
else { console.error('usage: see the top of wire.js'); process.exit(2); }
