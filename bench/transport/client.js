#!/usr/bin/env node
// bench/transport/client.js: the client side of bench/transport_run (Node, the ws package
// from tests/qix). Each command prints one line of figures.
//
//   client.js rtt URL CERTDIR APP N          GetAppLayout round trips on one session:
//                                            "median_ms p99_ms"
//   client.js echo-rtt URL N SIZE            round trips of SIZE-byte messages to an echo
//                                            server: "median_ms p99_ms"
//   client.js script URL CERTDIR APP         one GetScript: "bytes ms"
//   client.js script-raw URL CERTDIR APP     the same over a raw TLS socket that counts the
//                                            answer's bytes as they arrive, as tls-get does,
//                                            instead of assembling the message: "bytes ms"
//   client.js big URL                        one large message from echo.js with SIZE,
//                                            received as script receives it: "bytes ms"
//   client.js tls-get HOST PORT PATH         one HTTP GET over raw TLS 1.3: "bytes ms"
//   client.js idle URL CERTDIR N ADDRS APP   opens N sessions on APP, each with the app open
//                                            (from ADDRS loopback source addresses), then
//                                            times a new one's OpenDoc and GetAppLayout
//                                            while they stay open: "opened ms"; stays until
//                                            stdin closes
'use strict';
const WebSocket = require('ws');
const fs = require('fs');
const tls = require('tls');
const crypto = require('crypto');

const [cmd, ...a] = process.argv.slice(2);
const certs = (dir) => ({ ca: fs.readFileSync(`${dir}/root.pem`), cert: fs.readFileSync(`${dir}/client.pem`), key: fs.readFileSync(`${dir}/client_key.pem`) });
const now = () => Number(process.hrtime.bigint()) / 1e6;
const pct = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

function session(url, opts) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...opts, perMessageDeflate: false });
    const waiting = new Map();
    let id = 0;
    ws.call = (method, handle, params) => new Promise((res) => {
      id++;
      waiting.set(id, res);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, handle, params }));
    });
    ws.on('message', (m) => {
      if (m.length > (1 << 20) && waiting.size === 1) {
        // a large answer: timed on arrival, not parsed (the peer's bytes are not parsed either)
        const [[k, r]] = waiting; waiting.delete(k); r({ msg: null, bytes: m.length }); return;
      }
      const msg = JSON.parse(m);
      if (msg.method === 'OnConnected') resolve(ws);
      else if (waiting.has(msg.id)) { const r = waiting.get(msg.id); waiting.delete(msg.id); r({ msg, bytes: m.length }); }
    });
    ws.on('error', reject);
  });
}

async function rtt(url, dir, app, n) {
  const ws = await session(`${url}/app/${app}`, certs(dir));
  const doc = (await ws.call('OpenDoc', -1, [app])).msg.result.qReturn.qHandle;
  const ts = [];
  for (let i = 0; i < n + 50; i++) {
    const t = now();
    await ws.call('GetAppLayout', doc, []);
    if (i >= 50) ts.push(now() - t);
  }
  console.log(`${pct(ts, 0.5).toFixed(3)} ${pct(ts, 0.99).toFixed(3)}`);
  ws.close();
}

function echoRtt(url, n, size) {
  const ws = new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false, maxPayload: 256 << 20 });
  const msg = 'x'.repeat(size);
  const ts = [];
  const warm = size > (1 << 20) ? 1 : 50;
  let t = 0;
  ws.on('open', () => { t = now(); ws.send(msg); });
  ws.on('message', () => {
    ts.push(now() - t);
    if (ts.length === n + warm) { const s = ts.slice(warm); console.log(`${pct(s, 0.5).toFixed(3)} ${pct(s, 0.99).toFixed(3)}`); ws.close(); return; }
    t = now(); ws.send(msg);
  });
}

async function script(url, dir, app) {
  const ws = await session(`${url}/app/${app}`, { ...certs(dir), maxPayload: 256 << 20 });
  const doc = (await ws.call('OpenDoc', -1, [app])).msg.result.qReturn.qHandle;
  const t = now();
  const r = await ws.call('GetScript', doc, []);
  console.log(`${r.bytes} ${(now() - t).toFixed(1)}`);
  ws.close();
}

// A WebSocket client on a raw TLS socket: frames are parsed as they arrive; messages up to
// 1 MiB are handed to onmsg, larger ones only counted and reported to onbig when complete.
function rawSession(url, opts) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: u.hostname, port: Number(u.port), servername: u.hostname, ...opts }, () => {
      const key = crypto.randomBytes(16).toString('base64');
      s.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    const c = {
      onmsg: null, onbig: null,
      send(obj) {
        const p = Buffer.from(JSON.stringify(obj));
        const n = p.length;
        const h = n < 126 ? Buffer.from([0x81, 0x80 | n]) : Buffer.from([0x81, 0x80 | 126, n >> 8, n & 255]);
        const mask = crypto.randomBytes(4);
        for (let i = 0; i < n; i++) p[i] ^= mask[i & 3];
        s.write(Buffer.concat([h, mask, p]));
      },
      close() { s.destroy(); },
    };
    let upgraded = false;
    let head = Buffer.alloc(0); // bytes of a response head or a frame head not yet complete
    let frame = null;           // the frame whose payload is arriving
    let msg = { bytes: 0, parts: [], big: false };
    const payload = (d) => {
      const take = Math.min(frame.len - frame.got, d.length);
      if (!msg.big) msg.parts.push(d.subarray(0, take));
      frame.got += take;
      msg.bytes += take;
      if (frame.got === frame.len) {
        if (frame.op < 8 && frame.fin) {
          if (msg.big) c.onbig(msg.bytes);
          else c.onmsg(Buffer.concat(msg.parts));
        }
        if (frame.op < 8 && frame.fin || frame.op >= 8) msg = { bytes: 0, parts: [], big: false };
        frame = null;
      }
      return d.subarray(take);
    };
    s.on('data', (d) => {
      if (!upgraded) {
        head = Buffer.concat([head, d]);
        const i = head.indexOf('\r\n\r\n');
        if (i < 0) return;
        if (!head.toString('latin1', 0, 12).startsWith('HTTP/1.1 101')) { reject(new Error(head.toString('latin1', 0, i))); return; }
        upgraded = true;
        d = head.subarray(i + 4);
        head = Buffer.alloc(0);
        resolve(c);
      }
      while (d.length) {
        if (frame) { d = payload(d); continue; }
        head = head.length ? Buffer.concat([head, d]) : d;
        d = Buffer.alloc(0);
        if (head.length < 2) return;
        const l7 = head[1] & 127;
        const hl = l7 < 126 ? 2 : l7 === 126 ? 4 : 10;
        if (head.length < hl) return;
        const len = l7 < 126 ? l7 : l7 === 126 ? head.readUInt16BE(2) : Number(head.readBigUInt64BE(2));
        frame = { len, got: 0, fin: (head[0] & 0x80) !== 0, op: head[0] & 15 };
        if (frame.op < 8 && len > (1 << 20)) msg.big = true;
        d = head.subarray(hl);
        head = Buffer.alloc(0);
        if (len === 0) payload(Buffer.alloc(0));
      }
    });
    s.on('error', reject);
  });
}

async function scriptRaw(url, dir, app) {
  const c = await rawSession(`${url}/app/${app}`, certs(dir));
  const next = () => new Promise((res) => { c.onmsg = (m) => res(JSON.parse(m)); });
  let m = await next();
  while (m.method !== 'OnConnected') m = await next();
  c.send({ jsonrpc: '2.0', id: 1, method: 'OpenDoc', handle: -1, params: [app] });
  do m = await next(); while (m.id !== 1);
  const doc = m.result.qReturn.qHandle;
  const t = now();
  const got = new Promise((res) => { c.onbig = res; });
  c.send({ jsonrpc: '2.0', id: 2, method: 'GetScript', handle: doc, params: [] });
  const bytes = await got;
  console.log(`${bytes} ${(now() - t).toFixed(1)}`);
  c.close();
}

async function big(url) {
  const ws = new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false, maxPayload: 256 << 20 });
  await new Promise((res) => ws.on('open', res));
  const t = now();
  ws.send('{}');
  ws.on('message', (m) => { console.log(`${m.length} ${(now() - t).toFixed(1)}`); ws.close(); });
}

function tlsGet(host, port, path) {
  let t = 0; // from the request, as script-raw times from its call
  let bytes = 0;
  const s = tls.connect({ host, port: Number(port), rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
    t = now();
    s.write(`GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`);
  });
  s.on('data', (d) => { bytes += d.length; });
  s.on('end', () => { console.log(`${bytes} ${(now() - t).toFixed(1)}`); });
}

async function idle(url, dir, n, addrs) {
  const opts = certs(dir);
  const app = a[4];
  const socks = [];
  const batch = 100;
  const open = async (j) => {
    const ws = await session(`${url}/app/${app}`, { ...opts, localAddress: `127.0.0.${2 + (j % addrs)}` });
    await ws.call('OpenDoc', -1, [app]);
    return ws;
  };
  for (let i = 0; i < n; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(n, i + batch); j++) group.push(open(j));
    socks.push(...await Promise.all(group));
  }
  const t = now();
  const ws = await session(`${url}/app/${app}`, opts);
  const doc = (await ws.call('OpenDoc', -1, [app])).msg.result.qReturn.qHandle;
  await ws.call('GetAppLayout', doc, []);
  console.log(`${socks.length} ${(now() - t).toFixed(1)}`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

if (cmd === 'rtt') rtt(a[0], a[1], a[2], Number(a[3]));
else if (cmd === 'echo-rtt') echoRtt(a[0], Number(a[1]), Number(a[2]));
else if (cmd === 'script') script(a[0], a[1], a[2]);
else if (cmd === 'script-raw') scriptRaw(a[0], a[1], a[2]);
else if (cmd === 'big') big(a[0]);
else if (cmd === 'tls-get') tlsGet(a[0], a[1], a[2]);
else if (cmd === 'idle') idle(a[0], a[1], Number(a[2]), Number(a[3]));
else { console.error('usage: see the top of client.js'); process.exit(2); }
