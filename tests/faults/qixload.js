#!/usr/bin/env node
// qixload.js: a person's engine sessions through a node's proxy, one after another, as
// the load of the fault suite (lab.bash start_qix).
//
//   qixload.js PROXY_URL CA COOKIE APP LOG STOP
//
// Until the file STOP exists: opens wss://.../app/APP through the proxy with the session
// cookie, opens the app, reads its data model, closes the session, and appends a line to
// LOG: "ok MS" or "fail MS WHY" (WHY: "503" when the proxy refused the socket with 503 or
// the engine answered 503, LOCERR_HTTP_503: try again; "timeout" when the whole session
// took more than 5 s, else the error's message and its code). Waits 300 ms between
// sessions. Uses the QIX suite's npm packages.
//
// With QIXLOAD_SELECT=Field=Value each session also selects that value (which the node
// keeps for the person in the database); with QIXLOAD_ONCE=1 it makes one session and
// exits, 0 when it succeeded.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const mods = path.join(__dirname, '..', 'qix', 'node_modules');
const enigma = require(path.join(mods, 'enigma.js'));
const schema = require(path.join(mods, 'enigma.js', 'schemas', '12.2027.0.json'));
const WebSocket = require(path.join(mods, 'ws'));

const [base, caFile, cookie, app, logFile, stopFile] = process.argv.slice(2);
if (!stopFile) {
  process.stderr.write('usage: qixload.js PROXY_URL CA COOKIE APP LOG STOP\n');
  process.exit(2);
}
const ca = fs.readFileSync(caFile);
const url = `${base.replace(/^https/, 'wss')}/app/${app}`;
const LIMIT_MS = 5000;

function why(err) {
  const m = String((err && err.message) || err);
  // the proxy refused the socket with 503, or the engine answered LOCERR_HTTP_503
  if (/Unexpected server response: 503/.test(m) || (err && err.code === 503)) return '503';
  // a socket's own code after the message ("Client network socket disconnected before
  // secure TLS connection was established" is ECONNRESET: a socket the fault closed)
  // (enigma.js passes some socket errors on without their code: that message is Node's
  // ConnResetException, so its code is named here)
  const c = err && typeof err.code === 'string' ? err.code
    : /disconnected before secure TLS connection was established/.test(m) ? 'ECONNRESET' : '';
  const code = c && !m.includes(c) ? ` (${c})` : '';
  return (m.replace(/\s+/g, ' ').slice(0, 200) + code);
}

async function one() {
  let refused = null;
  const session = enigma.create({
    schema,
    url,
    suspendOnClose: false,
    createSocket: (u) => {
      const ws = new WebSocket(u, {
        ca, headers: { Cookie: `X-Qlik-Session=${cookie}`, Origin: base },
      });
      ws.on('unexpected-response', (_req, res) => {
        refused = res.statusCode;
        ws.emit('error', new Error(`Unexpected server response: ${res.statusCode}`));
      });
      return ws;
    },
  });
  session.on('error', () => {});
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), LIMIT_MS);
  });
  try {
    await Promise.race([limit, (async () => {
      const doc = await (await session.open()).openDoc(app);
      await doc.getTablesAndKeys({}, {}, 0, true, false);
      const pick = process.env.QIXLOAD_SELECT;
      if (pick) {
        const [field, value] = pick.split('=');
        if (!(await (await doc.getField(field)).select(value))) throw new Error(`${pick} was not selected`);
      }
    })()]);
  } catch (err) {
    if (refused) throw new Error(`Unexpected server response: ${refused}`);
    throw err;
  } finally {
    clearTimeout(timer);
    session.close().catch(() => {});
  }
}

async function main() {
  if (process.env.QIXLOAD_ONCE === '1') {
    await one();
    return;
  }
  while (!fs.existsSync(stopFile)) {
    const t0 = Date.now();
    let line;
    try {
      await one();
      line = `ok ${Date.now() - t0}`;
    } catch (err) {
      line = `fail ${Date.now() - t0} ${why(err)}`;
    }
    fs.appendFileSync(logFile, `${line}\n`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`qixload: ${err.stack || err}\n`);
  process.exit(1);
});
