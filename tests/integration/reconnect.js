#!/usr/bin/env node
// reconnect.js: a person's enigma.js session through a proxy, as a browser keeps one.
//
//   reconnect.js PROXY_URL CA COOKIE APP FIELD VALUE
//   reconnect.js PROXY_URL CA COOKIE APP once
//
// Opens wss://.../app/APP through the proxy with the session cookie, opens the app, selects
// VALUE in FIELD and prints "selected". When the engine closes the socket (its node died)
// it prints "closed CODE", opens a new session through the same proxy (as enigma.js
// clients do on a reconnect, trying for up to 30 s), and prints the selections that the new
// session starts with as "resumed FIELD=V1,V2;...". With "once" it opens the app, prints
// the number of its fields as "fields N", what ClientPlatform() says there (the socket's
// User-Agent is "reconnect.js/1 (test)") as "platform P", and closes the session. Uses the QIX
// suite's npm packages.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const mods = path.join(__dirname, '..', 'qix', 'node_modules');
const enigma = require(path.join(mods, 'enigma.js'));
const schema = require(path.join(mods, 'enigma.js', 'schemas', '12.2027.0.json'));
const WebSocket = require(path.join(mods, 'ws'));

const [base, caFile, cookie, app, field, value] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);
const url = `${base.replace(/^https/, 'wss')}/app/${app}`;

function open() {
  return enigma.create({
    schema,
    url,
    createSocket: (u) => new WebSocket(u, {
      ca, headers: { Cookie: `X-Qlik-Session=${cookie}`, Origin: base, 'User-Agent': 'reconnect.js/1 (test)' },
    }),
  });
}

async function selections(doc) {
  const obj = await doc.createSessionObject({
    qInfo: { qType: 'current-selections' }, qSelectionObjectDef: {},
  });
  const layout = await obj.getLayout();
  return layout.qSelectionObject.qSelections
    .map((s) => `${s.qField}=${s.qSelectedFieldSelectionInfo.map((v) => v.qName).join(',')}`)
    .join(';');
}

async function once() {
  const session = open();
  const doc = await (await session.open()).openDoc(app);
  const tables = await doc.getTablesAndKeys({}, {}, 0, true, false);
  console.log(`fields ${tables.qtr.reduce((n, t) => n + t.qFields.length, 0)}`);
  console.log(`platform ${await doc.evaluate('ClientPlatform()')}`);
  await session.close();
}

async function main() {
  if (field === 'once') return once();
  const session = open();
  const global = await session.open();
  const doc = await global.openDoc(app);
  const f = await doc.getField(field);
  await f.selectValues([{ qText: value }], false, false);
  const closed = new Promise((resolve) => session.on('closed', (e) => resolve(e && e.code)));
  console.log('selected');
  const code = await closed;
  console.log(`closed ${code}`);
  const until = Date.now() + 30000;
  for (;;) {
    try {
      const again = open();
      const g = await again.open();
      const d = await g.openDoc(app);
      console.log(`resumed ${await selections(d)}`);
      await again.close();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(`reconnect.js: ${err && (err.message || err.code || err)}`);
  process.exit(1);
});
