// bench/proxy/client.js: the clients of bench/proxy_run, on Node's https (keep-alive) and
// enigma.js. Each mode prints one line.
//
//   setup BASE CERTS APPS STREAMS    makes STREAMS streams (one named Everyone), APPS apps
//                                    (every fifth published to Everyone, the rest spread
//                                    over the other streams or unpublished) and custom
//                                    security rules up to 20 in all; prints "ready"
//   signin BASE CA USER PASSWORD     prints the session cookie
//   qrs BASE CA AUTH PATH N          GET PATH N times; AUTH is "cert:CERTS" or a cookie;
//                                    prints the median ms and the length of the last answer
//   layout URL CA AUTH APP N         a QIX session on APP, then GetAppLayout N times; prints
//                                    the median round trip in ms
//   idle URL CA AUTH APP N ADDRS     opens N sessions on APP (OpenDoc each) from ADDRS
//                                    loopback addresses, then times a new session's OpenDoc
//                                    and GetAppLayout; prints "N ms" and holds them until
//                                    stdin closes
'use strict';
const fs = require('fs');
const https = require('https');
const enigma = require('enigma.js');
const schema = require('enigma.js/schemas/12.2027.0.json');
const WebSocket = require('ws');

const XRF = 'abcdefghijklmnop';
const [mode, ...args] = process.argv.slice(2);
const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });

function tlsOf(auth, ca) {
  if (auth.startsWith('cert:')) {
    const d = auth.slice(5);
    return { ca: fs.readFileSync(`${d}/root.pem`), cert: fs.readFileSync(`${d}/client.pem`),
      key: fs.readFileSync(`${d}/client_key.pem`), headers: {} };
  }
  return { ca: fs.readFileSync(ca), headers: { Cookie: auth } };
}

function call(base, tls, method, path, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(`${base}${path}${path.includes('?') ? '&' : '?'}xrfkey=${XRF}`);
    const req = https.request({
      host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent,
      ca: tls.ca, cert: tls.cert, key: tls.key,
      headers: { 'X-Qlik-Xrfkey': XRF, 'Content-Type': 'application/json', ...tls.headers },
    }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

async function must(p, want) {
  const r = await p;
  if (r.status !== want) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  return r.text ? JSON.parse(r.text) : null;
}

async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

const median = (a) => a.sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];

async function setup([base, certs, apps, streams]) {
  const tls = tlsOf(`cert:${certs}`);
  const ids = [];
  for (let i = 0; i < Number(streams); i++) {
    const s = await must(call(base, tls, 'POST', '/qrs/stream', { name: i === 0 ? 'Everyone' : `Stream ${i}` }), 201);
    ids.push(s.id);
  }
  await must(call(base, tls, 'POST', '/qrs/custompropertydefinition',
    { name: 'Department', valueType: 'Text', choiceValues: ['Sales', 'Finance'], objectTypes: ['User', 'Stream'] }), 201);
  // 9 custom rules, so that 20 rules govern every request (11 default ones)
  for (let i = 1; i <= 9; i++) {
    await must(call(base, tls, 'POST', '/qrs/systemrule', {
      name: `Department ${i}`, category: 'Security', resourceFilter: `Stream_${ids[i]}`, actions: 2,
      rule: `user.@Department = "Team${i}" and !user.IsAnonymous()`,
    }), 201);
  }
  await pool(Number(apps), 8, async (i) => {
    const a = await must(call(base, tls, 'POST', `/qrs/app?name=App%20${i}`, { name: `App ${i}` }), 201);
    const s = i % 5 === 0 ? ids[0] : i % 3 === 0 ? ids[1 + (i % (ids.length - 1))] : null;
    if (s) await must(call(base, tls, 'PUT', `/qrs/app/${a.id}/publish?stream=${s}`), 200);
  });
  console.log('ready');
}

async function signin([base, ca, user, password]) {
  const u = new URL(`${base}/sign-in`);
  const form = new URLSearchParams({ username: user, password }).toString();
  const cookie = await new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      ca: fs.readFileSync(ca), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, (res) => {
      res.resume();
      const c = (res.headers['set-cookie'] || [])[0];
      if (res.statusCode !== 303 || !c) reject(new Error(`sign-in: ${res.statusCode}`));
      else resolve(c.split(';')[0]);
    });
    req.on('error', reject);
    req.end(form);
  });
  console.log(cookie);
}

async function qrs([base, ca, auth, path, n]) {
  const tls = tlsOf(auth, ca);
  const times = [];
  let len = 0;
  await must(call(base, tls, 'GET', path), 200); // warm
  for (let i = 0; i < Number(n); i++) {
    const t = process.hrtime.bigint();
    const r = await call(base, tls, 'GET', path);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    len = JSON.parse(r.text).length;
  }
  console.log(`${median(times).toFixed(2)} ${len}`);
}

async function layout([url, ca, auth, app, n]) {
  const tls = tlsOf(auth, ca);
  const origin = url.replace(/^wss:/, 'https:').replace(/\/app\/.*$/, '');
  const session = enigma.create({
    schema, url,
    createSocket: (u) => new WebSocket(u, { ca: tls.ca, cert: tls.cert, key: tls.key,
      headers: { ...tls.headers, Origin: origin } }),
  });
  const global = await session.open();
  const doc = await global.openDoc(app);
  for (let i = 0; i < 20; i++) await doc.getAppLayout();
  const times = [];
  for (let i = 0; i < Number(n); i++) {
    const t = process.hrtime.bigint();
    await doc.getAppLayout();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  await session.close();
  console.log(median(times).toFixed(3));
}

// A raw QIX session: the socket, and call(method, handle, params) answering the reply.
function rawSession(url, tls, origin, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ca: tls.ca, cert: tls.cert, key: tls.key, localAddress,
      headers: { ...tls.headers, Origin: origin }, perMessageDeflate: false });
    let id = 0;
    const waiting = new Map();
    ws.on('message', (m) => {
      const msg = JSON.parse(m);
      if (msg.method === 'OnConnected') resolve(ws);
      if (waiting.has(msg.id)) { waiting.get(msg.id)(msg); waiting.delete(msg.id); }
    });
    ws.on('error', reject);
    ws.call = (method, handle, params) => new Promise((res) => {
      id += 1;
      waiting.set(id, res);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, handle, params }));
    });
  });
}

async function idle([url, ca, auth, app, n, addrs]) {
  const tls = tlsOf(auth, ca);
  const origin = url.replace(/^wss:/, 'https:').replace(/\/app\/.*$/, '');
  const socks = [];
  for (let i = 0; i < Number(n); i += 100) {
    const group = [];
    for (let j = i; j < Math.min(Number(n), i + 100); j++) {
      group.push(rawSession(url, tls, origin, `127.0.0.${2 + (j % Number(addrs))}`)
        .then(async (ws) => { await ws.call('OpenDoc', -1, [app]); return ws; }));
    }
    socks.push(...await Promise.all(group));
  }
  const t = process.hrtime.bigint();
  const ws = await rawSession(url, tls, origin);
  const doc = (await ws.call('OpenDoc', -1, [app])).result.qReturn.qHandle;
  await ws.call('GetAppLayout', doc, []);
  console.log(`${socks.length} ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)}`);
  process.stdin.resume();
  await new Promise((res) => process.stdin.on('end', res));
}

const modes = { setup, signin, qrs, layout, idle };
modes[mode](args).then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); });
