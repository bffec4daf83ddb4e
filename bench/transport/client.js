#!/usr/bin/env node
// bench/transport/client.js: the client side of bench/transport_run (Node, the ws package
// from tests/qix). Each command prints one line of figures.
//
//   client.js rtt URL CERTDIR APP N          GetAppLayout round trips on one session:
//                                            "median_ms p99_ms"
//   client.js echo-rtt URL N SIZE            round trips of SIZE-byte messages to an echo
//                                            server: "median_ms p99_ms"
//   client.js script URL CERTDIR APP         one GetScript: "bytes ms"
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

async function big(url) {
  const ws = new WebSocket(url, { rejectUnauthorized: false, perMessageDeflate: false, maxPayload: 256 << 20 });
  await new Promise((res) => ws.on('open', res));
  const t = now();
  ws.send('{}');
  ws.on('message', (m) => { console.log(`${m.length} ${(now() - t).toFixed(1)}`); ws.close(); });
}

function tlsGet(host, port, path) {
  const t = now();
  let bytes = 0;
  const s = tls.connect({ host, port: Number(port), rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
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
else if (cmd === 'big') big(a[0]);
else if (cmd === 'tls-get') tlsGet(a[0], a[1], a[2]);
else if (cmd === 'idle') idle(a[0], a[1], Number(a[2]), Number(a[3]));
else { console.error('usage: see the top of client.js'); process.exit(2); }
