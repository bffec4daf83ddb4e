// qix.test.js: enigma.js 2.15 from npm, unchanged, against a real Fathom node: opening
// apps, scripts and reloads, hypercubes, list objects, selections and their states,
// sessions that keep their own selections, saved objects, change notifications, and the
// errors a client sees. Run by `make check` (ctest) with FATHOM set to the binary.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { makeSite, destroySite, texts, sleep, WebSocket } = require('./site');

const CSV = (name) => `LOAD * FROM [lib://CustomData/${name}.csv] (txt, utf8, embedded labels, delimiter is ',');`;
const SCRIPT = [`Customers: ${CSV('customers')}`, `Products: ${CSV('products')}`, `Sales: ${CSV('sales')}`].join('\n');

const CUBE = {
  qInfo: { qType: 'my-cube' },
  qHyperCubeDef: {
    qDimensions: [{ qDef: { qFieldDefs: ['Region'], qSortCriterias: [{ qSortByAscii: 1 }], cId: 'r1' } }],
    qMeasures: [{ qDef: { qDef: '=Sum(Amount)', qLabel: 'Total' } }],
    qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 2, qHeight: 50 }],
    customProperty: 'kept',
  },
  visualization: 'table',
};

const LIST = (field) => ({
  qInfo: { qType: 'listbox' },
  qListObjectDef: {
    qDef: { qFieldDefs: [field], qSortCriterias: [{ qSortByAscii: 1 }] },
    qShowAlternatives: true,
    qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 1, qHeight: 20 }],
  },
});

const states = (layout) => Object.fromEntries(
  layout.qListObject.qDataPages[0].qMatrix.map(([c]) => [c.qText, c.qState]),
);

let site;
let appId;

before(async () => {
  site = await makeSite();
  fs.writeFileSync(path.join(site.data, 'customers.csv'),
    'CustomerId,Customer,Region\n1,Alice,East\n2,Bob,West\n3,Carol,East\n4,Dave,North\n');
  fs.writeFileSync(path.join(site.data, 'products.csv'),
    'ProductId,Product,Category\n10,Apple,Fruit\n11,Pear,Fruit\n12,Kale,Veg\n');
  fs.writeFileSync(path.join(site.data, 'sales.csv'),
    'OrderId,CustomerId,ProductId,Amount\n100,1,10,5\n101,1,11,3\n102,2,10,7\n103,3,12,2\n104,2,12,4\n');
  appId = await site.app('Sales', SCRIPT);
  const s = await site.session(appId);
  const doc = await s.global.openDoc(appId);
  assert.equal(await doc.doReload(), true);
  await s.session.close();
});

after(async () => {
  await destroySite(site);
});

test('the engine greets, names its version, and needs an open app for GetActiveDoc', async () => {
  const s = await site.session(appId);
  try {
    await sleep(50);
    assert.deepEqual(s.traffic[0], { jsonrpc: '2.0', method: 'OnConnected', params: { qSessionState: 'SESSION_CREATED' } });
    const v = await s.global.engineVersion();
    assert.equal(v.qComponentVersion, '12.2027.0');
    await assert.rejects(s.global.getActiveDoc(), (e) => e.code === 1007);
    await assert.rejects(s.global.openDoc('no-such-app'), (e) => e.code === 1003);
    const doc = await s.global.openDoc(appId);
    assert.equal(doc.id, appId);
    const again = await s.global.getActiveDoc();
    assert.equal(again.id, appId);
    await assert.rejects(s.global.openDoc(appId), (e) => e.code === 1002);
    const list = await s.global.getDocList();
    assert.ok(list.some((d) => d.qDocId === appId && d.qDocName === 'Sales'));
  } finally {
    await s.session.close();
  }
});

test('the saved script comes back, and the app layout describes the app', async () => {
  const s = await site.session(appId);
  try {
    const doc = await s.global.openDoc(appId);
    assert.equal(await doc.getScript(), SCRIPT);
    const layout = await doc.getAppLayout();
    assert.equal(layout.qTitle, 'Sales');
    assert.equal(layout.qHasData, true);
    assert.equal(layout.qHasScript, true);
    assert.deepEqual(layout.qStateNames, []);
    assert.equal(layout.qLocaleInfo.qDecimalSep, '.');
    assert.match(layout.qLastReloadTime, /^\d{4}-\d\d-\d\dT/);
    const tk = await doc.getTablesAndKeys({ qcx: 1000, qcy: 1000 }, { qcx: 0, qcy: 0 }, 30, true, false);
    assert.deepEqual(tk.qtr.map((t) => [t.qName, t.qNoOfRows]).sort(),
      [['Customers', 4], ['Products', 3], ['Sales', 5]]);
    // the repository has the reload too
    const r = await site.api('GET', `/qrs/app/${appId}`);
    assert.equal(r.status, 200);
    assert.match(r.json.lastReloadTime, /^2\d{3}-/);
  } finally {
    await s.session.close();
  }
});

test('a hypercube aggregates over the linked tables, sorts, and pages', async () => {
  const s = await site.session(appId);
  try {
    const doc = await s.global.openDoc(appId);
    const obj = await doc.createSessionObject(CUBE);
    const layout = await obj.getLayout();
    const hc = layout.qHyperCube;
    assert.deepEqual(hc.qSize, { qcx: 2, qcy: 2 });
    assert.deepEqual(texts(hc.qDataPages[0]), [['East', '10'], ['West', '11']]);
    assert.equal(hc.qDimensionInfo[0].qFallbackTitle, 'Region');
    assert.equal(hc.qDimensionInfo[0].qCardinal, 3);
    assert.equal(hc.qDimensionInfo[0].cId, 'r1', 'custom keys of qDef reach qDimensionInfo');
    assert.equal(hc.customProperty, 'kept', 'custom keys of qHyperCubeDef reach qHyperCube');
    assert.equal(layout.visualization, 'table');
    assert.equal(hc.qMeasureInfo[0].qFallbackTitle, 'Total');
    assert.equal(hc.qMeasureInfo[0].qMin, 10);
    assert.equal(hc.qMeasureInfo[0].qMax, 11);
    assert.equal(hc.qGrandTotalRow[0].qNum, 21);
    assert.deepEqual(layout.qSelectionInfo, {});
    assert.equal(hc.qDataPages[0].qMatrix[0][0].qState, 'O');
    assert.equal(hc.qDataPages[0].qMatrix[0][1].qState, 'L');

    // by the measure, descending, first
    await obj.applyPatches([
      { qOp: 'replace', qPath: '/qHyperCubeDef/qInterColumnSortOrder', qValue: '[1,0]' },
      { qOp: 'add', qPath: '/qHyperCubeDef/qMeasures/0/qSortBy', qValue: '{"qSortByNumeric":-1}' },
    ], false);
    const sorted = (await obj.getLayout()).qHyperCube;
    assert.deepEqual(texts(sorted.qDataPages[0]), [['West', '11'], ['East', '10']]);
    assert.deepEqual(sorted.qEffectiveInterColumnSortOrder, [1, 0]);

    // a dimension sorted by an expression: Region by Sum(Amount), descending, and by
    // Count(OrderId) ascending (no hidden column shows)
    const byExpr = await doc.createSessionObject({
      qInfo: { qType: 'sorted' },
      qHyperCubeDef: {
        qDimensions: [{ qDef: { qFieldDefs: ['Region'], qSortCriterias: [{ qSortByExpression: -1, qExpression: { qv: '=Sum(Amount)' } }] } }],
        qMeasures: [{ qDef: { qDef: 'Count(OrderId)' } }],
        qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 5, qHeight: 10 }],
      },
    });
    const bx = (await byExpr.getLayout()).qHyperCube;
    assert.deepEqual(bx.qSize, { qcx: 2, qcy: 2 });
    assert.deepEqual(texts(bx.qDataPages[0]), [['West', '2'], ['East', '3']]);
    await byExpr.applyPatches([{ qOp: 'replace', qPath: '/qHyperCubeDef/qDimensions/0/qDef/qSortCriterias/0/qSortByExpression', qValue: '1' }], true);
    assert.deepEqual(texts((await byExpr.getLayout()).qHyperCube.qDataPages[0]), [['East', '3'], ['West', '2']]);

    // paging: one row from the second, one column
    const pages = await obj.getHyperCubeData('/qHyperCubeDef', [{ qTop: 1, qLeft: 1, qWidth: 1, qHeight: 5 }]);
    assert.deepEqual(texts(pages[0]), [['10']]);
    assert.deepEqual(pages[0].qArea, { qLeft: 1, qTop: 1, qWidth: 1, qHeight: 1 });
    await assert.rejects(obj.getHyperCubeData('/qHyperCubeDef', [{ qTop: 0, qLeft: 0, qWidth: 2, qHeight: 6000 }]),
      (e) => e.code === 7009);
    await assert.rejects(obj.getHyperCubeData('/qNoSuchDef', [{ qTop: 0, qLeft: 0, qWidth: 1, qHeight: 1 }]));
  } finally {
    await s.session.close();
  }
});

test('selections give every value its state, through every linked table', async () => {
  const s = await site.session(appId);
  try {
    const doc = await s.global.openDoc(appId);
    const products = await doc.createSessionObject(LIST('Product'));
    const customers = await doc.createSessionObject(LIST('Customer'));
    const regions = await doc.createSessionObject(LIST('Region'));
    const cube = await doc.createSessionObject(CUBE);
    let changed = 0;
    cube.on('changed', () => { changed++; });
    // the lists of the app's fields and master items do not follow the selection: a new
    // selection does not send their clients for their layouts again
    const lists = await Promise.all([
      doc.createSessionObject({ qInfo: { qType: 'FieldList' }, qFieldListDef: {} }),
      doc.createSessionObject({ qInfo: { qType: 'DimensionList' }, qDimensionListDef: { qType: 'dimension', qData: { title: '/qMetaDef/title' } } }),
    ]);
    let listsChanged = 0;
    for (const l of lists) {
      await l.getLayout();
      l.on('changed', () => { listsChanged++; });
    }

    assert.deepEqual(states(await customers.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'O', Dave: 'O' });
    const apple = (await products.getLayout()).qListObject.qDataPages[0].qMatrix.find(([c]) => c.qText === 'Apple')[0];
    assert.equal(await products.selectListObjectValues('/qListObjectDef', [apple.qElemNumber], false), true);
    await sleep(20);
    assert.ok(changed > 0, 'the cube heard that its data changed');
    assert.equal(listsChanged, 0, 'the lists of fields and dimensions did not change');

    assert.deepEqual(states(await products.getLayout()), { Apple: 'S', Kale: 'A', Pear: 'A' });
    assert.deepEqual(states(await customers.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'X', Dave: 'X' });
    assert.deepEqual(states(await regions.getLayout()), { East: 'O', North: 'X', West: 'O' });
    const counts = (await products.getLayout()).qListObject.qDimensionInfo.qStateCounts;
    assert.equal(counts.qSelected, 1);
    assert.equal(counts.qAlternative, 2);
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]), [['East', '5'], ['West', '7']]);

    // a second value by toggling, through the field API
    const field = await doc.getField('Product');
    assert.equal(await field.selectValues([{ qText: 'Kale' }], true), true);
    assert.deepEqual(states(await products.getLayout()), { Apple: 'S', Kale: 'S', Pear: 'A' });
    assert.equal(await field.getCardinal(), 3);

    // selecting in the cube narrows the products
    const east = (await cube.getLayout()).qHyperCube.qDataPages[0].qMatrix[0][0];
    assert.equal(east.qText, 'East');
    assert.equal(await cube.selectHyperCubeValues('/qHyperCubeDef', 0, [east.qElemNumber], false), true);
    // North has no sales of Apple or Kale, so even without the Region selection it is out
    assert.deepEqual(states(await regions.getLayout()), { East: 'S', North: 'X', West: 'A' });
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]), [['East', '7']]);

    const sel = await doc.createSessionObject({ qInfo: { qType: 'current-selections' }, qSelectionObjectDef: {} });
    const fields = (await sel.getLayout()).qSelectionObject.qSelections.map((x) => [x.qField, x.qSelectedCount]).sort();
    assert.deepEqual(fields, [['Product', 2], ['Region', 1]]);

    await doc.clearAll();
    assert.deepEqual(states(await products.getLayout()), { Apple: 'O', Kale: 'O', Pear: 'O' });
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]), [['East', '10'], ['West', '11']]);

    // cells by row, then clearing one object's field
    assert.equal(await cube.selectHyperCubeCells('/qHyperCubeDef', [1], [0]), true);
    assert.deepEqual(states(await regions.getLayout()), { East: 'A', North: 'A', West: 'S' });
    await regions.clearSelections('/qListObjectDef');
    assert.deepEqual(states(await regions.getLayout()), { East: 'O', North: 'O', West: 'O' });
  } finally {
    await s.session.close();
  }
});

test('selection mode: EndSelections(false) takes back what was selected in it', async () => {
  const s = await site.session(appId);
  try {
    const doc = await s.global.openDoc(appId);
    const lb = await doc.createSessionObject(LIST('Region'));
    const other = await doc.createSessionObject(LIST('Product'));
    await lb.beginSelections(['/qListObjectDef']);
    await assert.rejects(other.beginSelections(['/qListObjectDef']), (e) => e.code === 6003);
    assert.deepEqual((await lb.getLayout()).qSelectionInfo, { qInSelections: true, qMadeSelections: false });
    const north = (await lb.getLayout()).qListObject.qDataPages[0].qMatrix.find(([c]) => c.qText === 'North')[0];
    await lb.selectListObjectValues('/qListObjectDef', [north.qElemNumber], false);
    assert.equal((await lb.getLayout()).qSelectionInfo.qMadeSelections, true);
    assert.equal(states(await lb.getLayout()).North, 'S');
    await lb.endSelections(false);
    assert.deepEqual(states(await lb.getLayout()), { East: 'O', North: 'O', West: 'O' });
    assert.deepEqual((await lb.getLayout()).qSelectionInfo, {});
    // accepted this time
    await lb.beginSelections(['/qListObjectDef']);
    await lb.selectListObjectValues('/qListObjectDef', [north.qElemNumber], false);
    await lb.endSelections(true);
    assert.equal(states(await lb.getLayout()).North, 'S');
  } finally {
    await s.session.close();
  }
});

test('two sessions on one app keep their own selections', async () => {
  const a = await site.session(appId);
  const b = await site.session(appId);
  try {
    const da = await a.global.openDoc(appId);
    const db = await b.global.openDoc(appId);
    const la = await da.createSessionObject(LIST('Customer'));
    const lb = await db.createSessionObject(LIST('Customer'));
    const fa = await da.getField('Region');
    await fa.selectValues([{ qText: 'West' }]);
    assert.deepEqual(states(await la.getLayout()), { Alice: 'X', Bob: 'O', Carol: 'X', Dave: 'X' });
    assert.deepEqual(states(await lb.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'O', Dave: 'O' });
    // session objects belong to their session
    await assert.rejects(db.getObject(la.id), (e) => e.code === 2);
  } finally {
    await a.session.close();
    await b.session.close();
  }
});

test('objects made with CreateObject are saved in the app and seen by later sessions', async () => {
  const a = await site.session(appId);
  let id;
  try {
    const da = await a.global.openDoc(appId);
    const obj = await da.createObject({ qInfo: { qId: 'kpi-1', qType: 'kpi' }, qMetaDef: { title: 'Total' },
      label: { qStringExpression: { qExpr: "='Sum: ' & Sum(Amount)" } }, total: { qValueExpression: { qExpr: '=Sum(Amount)' } } });
    id = obj.id;
    assert.equal(id, 'kpi-1');
    const layout = await obj.getLayout();
    assert.equal(layout.label, 'Sum: 21');
    assert.equal(layout.total, 21);
    assert.equal(layout.qMeta.title, 'Total');
    await da.doSave();
  } finally {
    await a.session.close();
  }
  const b = await site.session(appId);
  try {
    const db = await b.global.openDoc(appId);
    const infos = await db.getAllInfos();
    assert.ok(infos.some((i) => i.qId === 'kpi-1' && i.qType === 'kpi'));
    const obj = await db.getObject('kpi-1');
    const props = await obj.getProperties();
    assert.equal(props.qMetaDef.title, 'Total');
    await obj.setProperties({ ...props, qMetaDef: { title: 'Renamed' } });
    assert.equal((await obj.getLayout()).qMeta.title, 'Renamed');
    // soft patches change the layout and the effective properties, not the properties
    await obj.applyPatches([{ qOp: 'replace', qPath: '/qMetaDef/title', qValue: '"Soft"' }], true);
    assert.equal((await obj.getLayout()).qMeta.title, 'Soft');
    assert.equal((await obj.getEffectiveProperties()).qMetaDef.title, 'Soft');
    assert.equal((await obj.getProperties()).qMetaDef.title, 'Renamed');
    await assert.rejects(db.getObject('no-such-object'), (e) => e.code === 2);
    assert.equal(await db.destroyObject('kpi-1'), true);
    await assert.rejects(db.getObject('kpi-1'), (e) => e.code === 2);
  } finally {
    await b.session.close();
  }
});

test('a reload in one session reaches the other sessions on the app', async () => {
  const a = await site.session(appId);
  const b = await site.session(appId);
  try {
    const da = await a.global.openDoc(appId);
    const db = await b.global.openDoc(appId);
    const cube = await db.createSessionObject(CUBE);
    const fb = await db.getField('Region');
    await fb.selectValues([{ qText: 'West' }]);
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]), [['West', '11']]);
    let changed = false;
    cube.on('changed', () => { changed = true; });
    // new data changes the list of fields (their counts of values) too
    const fieldList = await db.createSessionObject({ qInfo: { qType: 'FieldList' }, qFieldListDef: {} });
    await fieldList.getLayout();
    let listChanged = false;
    fieldList.on('changed', () => { listChanged = true; });
    fs.appendFileSync(path.join(site.data, 'sales.csv'), '105,4,11,100\n106,2,11,1\n');
    assert.equal(await da.doReload(), true);
    for (let i = 0; i < 50 && !(changed && listChanged); i++) await sleep(20);
    assert.ok(changed, 'the other session heard of the new data');
    assert.ok(listChanged, 'and its list of fields with it');
    // new data, and B's selection carried over by value
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]), [['West', '12']]);
    await fb.clear();
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]),
      [['East', '10'], ['North', '100'], ['West', '12']]);
  } finally {
    await a.session.close();
    await b.session.close();
  }
});

test('a failed reload answers false and leaves the data as it was', async () => {
  const other = await site.app('Broken', 'LOAD * FROM [lib://CustomData/sales.csv] (txt, utf8, embedded labels, delimiter is \',\');');
  const s = await site.session(other);
  try {
    const doc = await s.global.openDoc(other);
    assert.equal(await doc.doReload(), true);
    const cube = await doc.createSessionObject({ qInfo: { qType: 'c' }, qHyperCubeDef: {
      qMeasures: [{ qDef: { qDef: 'Count(OrderId)' } }], qInitialDataFetch: [{ qWidth: 1, qHeight: 1 }] } });
    const before = texts((await cube.getLayout()).qHyperCube.qDataPages[0]);
    const bad = 'LOAD * FROM [lib://CustomData/no-such-file.csv] (txt);';
    assert.notEqual(await doc.getScript(), bad); // the answer made here is kept...
    await doc.setScript(bad);
    assert.equal(await doc.getScript(), bad); // ...until the script changes
    assert.equal(await doc.doReload(), false);
    assert.deepEqual(texts((await cube.getLayout()).qHyperCube.qDataPages[0]), before);
    const log = await site.api('GET', `/qrs/app/${other}/reload/log`);
    assert.match(log.text, /no-such-file\.csv/);
  } finally {
    await s.session.close();
  }
});

test('bad requests get JSON-RPC errors, and the port wants a site certificate', async () => {
  // raw WebSocket: malformed JSON, an unknown method, a bad handle
  const ws = new WebSocket(site.url(appId), { ...site.tls });
  const msgs = [];
  await new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  ws.on('message', (m) => msgs.push(JSON.parse(m.toString())));
  ws.send('{"jsonrpc":"2.0","id":1,');
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, handle: -1, method: 'NoSuchMethod', params: [] }));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, handle: 99, method: 'GetLayout', params: [] }));
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, handle: -1, method: 'OpenDoc', params: { qDocName: appId } }));
  for (let i = 0; i < 100 && msgs.length < 5; i++) await sleep(20);
  ws.close();
  const byId = Object.fromEntries(msgs.filter((m) => 'id' in m).map((m) => [m.id, m]));
  assert.equal(byId.null.error.code, -32700);
  assert.equal(byId[2].error.code, -32601);
  assert.equal(byId[3].error.code, -32602);
  assert.equal(byId[4].result.qReturn.qHandle, 1, 'params by name work too');

  // no client certificate: refused before any upgrade
  const bare = new WebSocket(site.url(appId), { ca: site.tls.ca });
  const status = await new Promise((resolve) => {
    bare.on('unexpected-response', (req, res) => resolve(res.statusCode));
    bare.on('error', () => resolve('error'));
  });
  assert.equal(status, 403);
});

test('a session with a TTL outlives its socket and is resumed with its selections; one without is not', async () => {
  const suffix = '/identity/ttl-test/ttl/30';
  const s = await site.session(appId, { suffix });
  const doc = await s.global.openDoc(appId);
  const field = await doc.getField('Region');
  assert.equal(await field.select('East'), true);
  await s.session.suspend();
  await sleep(200); // the socket is gone; the engine keeps the session
  await s.session.resume(true); // onlyIfAttached: rejects if the engine made a new session
  assert.ok(s.traffic.some((m) => m.method === 'OnConnected' && m.params.qSessionState === 'SESSION_ATTACHED'));
  const list = await doc.createSessionObject(LIST('Region'));
  assert.equal(states(await list.getLayout()).East, 'S');
  await s.session.close();

  // no TTL: a new socket is a new session
  const t = await site.session(appId, { suffix: '/identity/no-ttl' });
  await t.global.openDoc(appId);
  await t.session.suspend();
  await assert.rejects(t.session.resume(true));
  await t.session.close().catch(() => {});

  // another identity does not get the parked one
  const u = await site.session(appId, { suffix: '/identity/ttl-test-2/ttl/30' });
  await sleep(50);
  assert.equal(u.traffic[0].params.qSessionState, 'SESSION_CREATED');
  await u.session.close();
});

test('through the proxy, a signed-in person explores an app with a cookie and no certificate', async () => {
  const cookie = await site.signIn('admin', site.adminPassword);
  const origin = `https://localhost:${site.proxyPort}`;
  const s = await site.session(appId, { proxy: true, ws: { headers: { Cookie: cookie, Origin: origin } } });
  const doc = await s.global.openDoc(appId);
  const field = await doc.getField('Region');
  assert.equal(await field.select('East'), true);
  const cube = await doc.createSessionObject(CUBE);
  const layout = await cube.getLayout();
  assert.deepEqual(texts(layout.qHyperCube.qDataPages[0]), [['East', '10']]);
  await s.session.close();

  // the same request without a session, or from another site, gets no socket
  const refused = (headers) => new Promise((resolve) => {
    const ws = new WebSocket(site.proxyUrl(appId), { ca: site.tls.ca, headers });
    ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
    ws.on('open', () => { ws.close(); resolve('open'); });
    ws.on('error', () => resolve('error'));
  });
  assert.equal(await refused({ Origin: origin }), 401);
  assert.equal(await refused({ Cookie: cookie, Origin: 'https://evil.example' }), 403);
});

test('through the proxy, a person opens only the apps the security rules let them read', async () => {
  const { execFileSync } = require('node:child_process');
  execFileSync(process.env.FATHOM, ['user', 'add', 'viewer', '--dir', site.dir], { input: 'a viewer password\n' });
  const cookie = await site.signIn('viewer', 'a viewer password');
  const ws = { headers: { Cookie: cookie, Origin: `https://localhost:${site.proxyPort}` } };
  let s = await site.session(appId, { proxy: true, ws });
  await assert.rejects(s.global.openDoc(appId), (err) => err.code === 5);
  assert.deepEqual(await s.global.getDocList(), []);
  await s.session.close();

  // published to the Everyone stream, it opens for every signed-in person
  const stream = await site.api('POST', '/qrs/stream', { name: 'Everyone' });
  assert.equal(stream.status, 201);
  const pub = await site.api('PUT', `/qrs/app/${appId}/publish?stream=${stream.json.id}`);
  assert.equal(pub.status, 200);
  s = await site.session(appId, { proxy: true, ws });
  const doc = await s.global.openDoc(appId);
  const cube = await doc.createSessionObject(CUBE);
  const rows = texts((await cube.getLayout()).qHyperCube.qDataPages[0]);
  assert.deepEqual(rows[0], ['East', '10']);
  assert.deepEqual((await s.global.getDocList()).map((d) => d.qDocId), [appId]);
  await s.session.close();
});

test('through the proxy, a person changes an app only when the rules let them update it', async () => {
  const { execFileSync } = require('node:child_process');
  execFileSync(process.env.FATHOM, ['user', 'add', 'editor', '--dir', site.dir], { input: 'an editor password\n' });
  const cookie = await site.signIn('editor', 'an editor password');
  const ws = { headers: { Cookie: cookie, Origin: `https://localhost:${site.proxyPort}` } };
  // the app is published (the test before): its readers may explore, not change it
  const s = await site.session(appId, { proxy: true, ws });
  const doc = await s.global.openDoc(appId);
  await assert.rejects(doc.setScript('X: LOAD 1 AS X AUTOGENERATE 1;'), (e) => e.code === 5);
  await assert.rejects(doc.doSave(), (e) => e.code === 5);
  await assert.rejects(doc.createObject({ qInfo: { qType: 'sheet' } }), (e) => e.code === 5);
  // what lives in the session is theirs
  const mine = await doc.createSessionObject(CUBE);
  await mine.setProperties({ ...CUBE, qInfo: { qId: mine.id, qType: 'my-cube' }, extra: 1 });
  assert.equal((await mine.getProperties()).extra, 1);
  await s.session.close();
  // an administrator through the proxy may change it
  const admin = await site.signIn('admin', site.adminPassword);
  const a = await site.session(appId, { proxy: true, ws: { headers: { Cookie: admin, Origin: ws.headers.Origin } } });
  const adoc = await a.global.openDoc(appId);
  const obj = await adoc.createObject({ qInfo: { qType: 'sheet' }, title: 'by admin' });
  assert.ok(obj.id);
  await a.session.close();
});

test('through the proxy, the group a ticket names opens an app of a stream only that group reads', async () => {
  const stream = await site.api('POST', '/qrs/stream', { name: 'SalesQix' });
  const copy = await site.api('POST', `/qrs/app/${appId}/copy?name=SalesCopy`);
  assert.equal(copy.status, 201);
  assert.equal((await site.api('PUT', `/qrs/app/${copy.json.id}/publish?stream=${stream.json.id}`)).status, 200);
  const rule = await site.api('POST', '/qrs/systemrule', {
    name: 'SalesQix', category: 'Security', resourceFilter: `Stream_${stream.json.id}`, actions: 2,
    rule: 'user.group = "Sales"',
  });
  assert.equal(rule.status, 201);
  const origin = `https://localhost:${site.proxyPort}`;
  for (const [id, group, opens] of [['sally', 'Sales', true], ['fred', 'Finance', false]]) {
    const cookie = await site.ticketSession('CORP', id, [{ group }]);
    const s = await site.session(copy.json.id, { proxy: true, ws: { headers: { Cookie: cookie, Origin: origin } } });
    if (opens) assert.ok(await s.global.openDoc(copy.json.id));
    else await assert.rejects(s.global.openDoc(copy.json.id), (e) => e.code === 5);
    await s.session.close();
  }
});

test('section access: each person sees the data of their lines; a person with no line, or a value the data lacks, cannot open the app', async () => {
  const script = [
    'Section Access;',
    'LOAD * INLINE [',
    'ACCESS, USERID, REGION',
    'USER, corp\\sally, East',
    'USER, CORP\\walt, WEST',
    'USER, CORP\\nora, SOUTH',
    'ADMIN, CORP\\ada,',
    '];',
    'Section Application;',
    `Customers: LOAD *, Upper(Region) AS REGION FROM [lib://CustomData/sa-customers.csv] (txt, utf8, embedded labels, delimiter is ',');`,
    `Sales: ${CSV('sa-sales')}`,
  ].join('\n');
  // files of its own: other tests change the suite's
  fs.writeFileSync(path.join(site.data, 'sa-customers.csv'),
    'CustomerId,Customer,Region\n1,Alice,East\n2,Bob,West\n3,Carol,East\n4,Dave,North\n');
  fs.writeFileSync(path.join(site.data, 'sa-sales.csv'),
    'OrderId,CustomerId,Amount\n100,1,5\n101,1,3\n102,2,7\n103,3,2\n104,2,4\n');
  const id = await site.app('Secured', script);
  const r = await site.session(id);
  assert.equal(await (await r.global.openDoc(id)).doReload(), true);
  await r.session.close();
  const stream = await site.api('POST', '/qrs/stream', { name: 'Secured' });
  assert.equal((await site.api('PUT', `/qrs/app/${id}/publish?stream=${stream.json.id}`)).status, 200);
  const rule = await site.api('POST', '/qrs/systemrule', {
    name: 'Secured', category: 'Security', resourceFilter: `Stream_${stream.json.id}`, actions: 2,
    rule: 'user.userDirectory = "CORP"',
  });
  assert.equal(rule.status, 201);
  const origin = `https://localhost:${site.proxyPort}`;
  // sales by customer: East is Alice (5 + 3) and Carol (2), West is Bob (7 + 4)
  for (const [user, total, customers] of [['sally', 10, 'Alice,Carol'], ['walt', 11, 'Bob'],
    ['ada', 21, 'Alice,Bob,Carol,Dave'], ['nora', null], ['zed', null]]) {
    const cookie = await site.ticketSession('CORP', user, []);
    const s = await site.session(id, { proxy: true, ws: { headers: { Cookie: cookie, Origin: origin } } });
    try {
      if (total === null) {
        await assert.rejects(s.global.openDoc(id), (e) => e.code === 5, user);
        continue;
      }
      const doc = await s.global.openDoc(id);
      assert.equal(await doc.evaluate('Sum(Amount)'), String(total), user);
      const list = await doc.createSessionObject(LIST('Customer'));
      assert.equal(Object.keys(states(await list.getLayout())).sort().join(','), customers, user);
      // the access table is not data; a USER line does not read the script
      const { qtr } = await doc.getTablesAndKeys({ qcx: 0, qcy: 0 }, { qcx: 0, qcy: 0 }, 0, true, false);
      assert.deepEqual(qtr.map((t) => t.qName).sort(), ['Customers', 'Sales']);
      if (user === 'ada') assert.match(await doc.getScript(), /Section Access/);
      else await assert.rejects(doc.getScript(), (e) => e.code === 5);
    } finally {
      await s.session.close();
    }
  }
});

test('a locked field keeps its selection until it is unlocked; ClearAll leaves it unless asked', async () => {
  const s = await site.session(appId, { suffix: '/identity/locks' });
  const doc = await s.global.openDoc(appId);
  const region = await doc.getField('Region');
  assert.equal(await region.select('East'), true);
  assert.equal(await region.lock(), true);
  assert.equal(await region.select('West'), false);
  assert.equal(await region.clear(), false);
  const list = await doc.createSessionObject(LIST('Region'));
  let layout = await list.getLayout();
  assert.equal(states(layout).East, 'S');
  assert.equal(layout.qListObject.qDimensionInfo.qLocked, true);
  assert.equal((await list.selectListObjectValues('/qListObjectDef', [1], false)), false);
  await doc.clearAll(false);
  assert.equal(states(await list.getLayout()).East, 'S');
  // other fields are cleared meanwhile, and ClearAll(true) clears and unlocks
  const product = await doc.getField('Product');
  assert.equal(await product.select('Kale'), true);
  await doc.clearAll(false);
  assert.equal(states(await list.getLayout()).East, 'S');
  await doc.clearAll(true);
  layout = await list.getLayout();
  assert.equal(states(layout).East, 'O');
  assert.equal(layout.qListObject.qDimensionInfo.qLocked, false);
  // a list object locks its field too
  assert.equal(await region.select('West'), true);
  await list.lock('/qListObjectDef');
  assert.equal(await region.select('East'), false);
  await list.unlock('/qListObjectDef');
  assert.equal(await region.select('East'), true);
  await s.session.close();
});

test('Back and Forward step through the selections, and the current selections count them', async () => {
  const s = await site.session(appId, { suffix: '/identity/history' });
  const doc = await s.global.openDoc(appId);
  const sel = await doc.createSessionObject({ qInfo: { qType: 'current-selections' }, qSelectionObjectDef: {} });
  const fields = async () => (await sel.getLayout()).qSelectionObject.qSelections
    .map((x) => `${x.qField}=${x.qSelected}`).sort().join(' ');
  const counts = async () => {
    const o = (await sel.getLayout()).qSelectionObject;
    return [o.qBackCount, o.qForwardCount];
  };
  await doc.clearAll(true);
  const before = (await counts())[0];
  assert.equal(await (await doc.getField('Region')).select('East'), true);
  assert.equal(await (await doc.getField('Product')).select('Apple'), true);
  assert.equal(await fields(), 'Product=Apple Region=East');
  assert.deepEqual(await counts(), [before + 2, 0]);
  await doc.back();
  assert.equal(await fields(), 'Region=East');
  await doc.back();
  assert.equal(await fields(), '');
  assert.deepEqual(await counts(), [before, 2]);
  await doc.forward();
  assert.equal(await fields(), 'Region=East');
  // a new selection forgets what Forward had
  assert.equal(await (await doc.getField('Region')).select('West'), true);
  assert.deepEqual(await counts(), [before + 2, 0]);
  await s.session.close();
});

test('a list object search shows the values it matches; accepting selects them, aborting does not', async () => {
  const s = await site.session(appId, { suffix: '/identity/search' });
  const doc = await s.global.openDoc(appId);
  await doc.clearAll(true);
  const list = await doc.createSessionObject(LIST('Customer'));
  const shown = async () => texts((await list.getLayout()).qListObject.qDataPages[0]).map((r) => r[0]);
  assert.deepEqual(await shown(), ['Alice', 'Bob', 'Carol', 'Dave']);
  assert.equal(await list.searchListObjectFor('/qListObjectDef', 'c'), true);
  assert.deepEqual(await shown(), ['Carol']);
  assert.equal((await list.getLayout()).qListObject.qSize.qcy, 1);
  const page = await list.getListObjectData('/qListObjectDef', [{ qTop: 0, qLeft: 0, qWidth: 1, qHeight: 10 }]);
  assert.equal(page[0].qMatrix.length, 1);
  await list.abortListObjectSearch('/qListObjectDef');
  assert.deepEqual(await shown(), ['Alice', 'Bob', 'Carol', 'Dave']);
  assert.equal(states(await list.getLayout()).Carol, 'O');
  // wildcards match the whole value; accepting selects the matches
  await list.searchListObjectFor('/qListObjectDef', '*a*e*');
  assert.deepEqual(await shown(), ['Alice', 'Dave']);
  await list.acceptListObjectSearch('/qListObjectDef', false);
  let st = states(await list.getLayout());
  assert.equal(st.Alice, 'S'); assert.equal(st.Dave, 'S'); assert.notEqual(st.Bob, 'S');
  // with qToggleMode the selection made before stays
  await list.searchListObjectFor('/qListObjectDef', 'bo');
  await list.acceptListObjectSearch('/qListObjectDef', true);
  st = states(await list.getLayout());
  assert.deepEqual(['Alice', 'Bob', 'Dave'].map((n) => st[n]), ['S', 'S', 'S']);
  await s.session.close();
});

test("a measure's number format writes its texts, its grand total and its qMeasureInfo", async () => {
  const s = await site.session(appId);
  try {
    const doc = await s.global.openDoc(appId);
    // a format code is written with its own separators
    const fmt = { qType: 'F', qnDec: 2, qUseThou: 1, qFmt: '# ##0,00 kr', qDec: ',', qThou: ' ' };
    const obj = await doc.createSessionObject({
      qInfo: { qType: 'formatted' },
      qHyperCubeDef: {
        qDimensions: [{ qDef: { qFieldDefs: ['Region'], qSortCriterias: [{ qSortByAscii: 1 }] } }],
        qMeasures: [
          { qDef: { qDef: 'Sum(Amount) * 1000.5', qNumFormat: fmt } },
          { qDef: { qDef: 'Sum(Amount) / 3', qNumFormat: { qType: 'U', qFmt: '0.0' } } },
        ],
        qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 3, qHeight: 10 }],
      },
    });
    const hc = (await obj.getLayout()).qHyperCube;
    const kr = (n) => {
      const [int, dec] = n.toFixed(2).split('.');
      return `${int.replace(/\B(?=(\d{3})+$)/g, ' ')},${dec} kr`;
    };
    const rows = hc.qDataPages[0].qMatrix;
    assert.ok(rows.length >= 2);
    assert.deepEqual(rows[0].slice(0, 2).map((c) => c.qText), ['East', '10 005,00 kr'], 'East sums 10');
    for (const r of rows) {
      assert.equal(r[1].qText, kr(r[1].qNum));
      assert.notEqual(r[2].qText, r[2].qNum.toFixed(1), 'an automatic (U) format is not applied');
    }
    assert.equal(hc.qGrandTotalRow[0].qText, kr(hc.qGrandTotalRow[0].qNum));
    assert.deepEqual(hc.qMeasureInfo[0].qNumFormat, fmt);
    assert.equal(hc.qMeasureInfo[0].qIsAutoFormat, false);
    assert.equal(hc.qMeasureInfo[1].qIsAutoFormat, true, 'an automatic (U) format is left to the client');
    const [page] = await obj.getHyperCubeData('/qHyperCubeDef', [{ qTop: 1, qLeft: 1, qWidth: 1, qHeight: 1 }]);
    assert.equal(page.qMatrix[0][0].qText, rows[1][1].qText);
  } finally {
    await s.session.close();
  }
});

test('child objects: a filter pane holds list boxes, saved with it, listed in its layout, destroyed with it', async () => {
  const listbox = (id, field) => ({
    qInfo: { qId: id, qType: 'listbox' },
    title: field,
    qListObjectDef: { qDef: { qFieldDefs: [field] }, qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 1, qHeight: 10 }] },
  });
  const a = await site.session(appId);
  try {
    const doc = await a.global.openDoc(appId);
    const pane = await doc.createObject({ qInfo: { qId: 'pane-1', qType: 'filterpane' }, qChildListDef: { qData: { title: '/title', deep: '/qListObjectDef/qDef/qFieldDefs/0', none: '/nope' } } });
    let changed = 0;
    pane.on('changed', () => { changed += 1; });
    await pane.getLayout();
    // the tree as stardust writes it: the parent and its two children
    await pane.setFullPropertyTree({
      qProperty: { ...(await pane.getProperties()), title: 'Filters' },
      qChildren: [
        { qProperty: listbox('lb-region', 'Region'), qChildren: [] },
        { qProperty: listbox('lb-product', 'Product'), qChildren: [] },
      ],
    });
    let layout = await pane.getLayout();
    assert.equal(layout.title, 'Filters');
    assert.deepEqual(layout.qChildList.qItems.map((i) => [i.qInfo.qId, i.qInfo.qType, i.qData.title, i.qData.deep, i.qData.none]),
      [['lb-region', 'listbox', 'Region', 'Region', null], ['lb-product', 'listbox', 'Product', 'Product', null]]);
    assert.ok(changed >= 1, 'the parent changed');
    assert.deepEqual((await pane.getChildInfos()).map((i) => i.qId), ['lb-region', 'lb-product']);
    // a child is an object of its own: its list, a selection in it, its parent
    const region = await doc.getObject('lb-region');
    assert.deepEqual(states(await region.getLayout()), { East: 'O', North: 'O', West: 'O' });
    await region.selectListObjectValues('/qListObjectDef', [0], false);
    assert.equal((await region.getLayout()).qListObject.qDataPages[0].qMatrix[0][0].qState, 'S');
    await doc.clearAll();
    assert.equal((await region.getParent()).id, 'pane-1');
    // CreateChild adds one (with new properties for the parent), DestroyChild takes one away
    const year = await pane.createChild(listbox('lb-customer', 'Customer'), { ...(await pane.getProperties()), title: 'Three' });
    assert.equal(year.id, 'lb-customer');
    layout = await pane.getLayout();
    assert.equal(layout.title, 'Three');
    assert.deepEqual(layout.qChildList.qItems.map((i) => i.qInfo.qId), ['lb-region', 'lb-product', 'lb-customer']);
    assert.equal(await pane.destroyChild('lb-product'), true);
    assert.equal(await pane.destroyChild('kpi-none'), false, 'not a child of this object');
    await assert.rejects(doc.getObject('lb-product'), (e) => e.code === 2);
    // the full tree comes back as set, and a tree without a child destroys it
    const tree = await pane.getFullPropertyTree();
    assert.deepEqual(tree.qChildren.map((c) => c.qProperty.qInfo.qId), ['lb-region', 'lb-customer']);
    assert.equal(tree.qChildren[0].qProperty.title, 'Region');
    tree.qChildren = [{ ...tree.qChildren[1], qProperty: { ...tree.qChildren[1].qProperty, title: 'Who' } }];
    await pane.setFullPropertyTree(tree);
    assert.deepEqual((await pane.getLayout()).qChildList.qItems.map((i) => [i.qInfo.qId, i.qData.title]), [['lb-customer', 'Who']]);
    await assert.rejects(doc.getObject('lb-region'), (e) => e.code === 2);
    await doc.doSave();
  } finally {
    await a.session.close();
  }
  // saved with the app: a later session sees the tree, and the children go with their parent
  const b = await site.session(appId);
  try {
    const doc = await b.global.openDoc(appId);
    const pane = await doc.getObject('pane-1');
    assert.deepEqual((await pane.getLayout()).qChildList.qItems.map((i) => i.qInfo.qId), ['lb-customer']);
    assert.equal((await pane.getFullPropertyTree()).qChildren[0].qProperty.title, 'Who');
    await assert.rejects(pane.setFullPropertyTree({ qProperty: await pane.getProperties(), qChildren: {} }), (e) => e.code === -32602);
    assert.equal(await doc.destroyObject('pane-1'), true);
    await assert.rejects(doc.getObject('lb-customer'), (e) => e.code === 2);
    assert.ok(!(await doc.getAllInfos()).some((i) => i.qId.startsWith('lb-')));
    // session objects have children too, kept in the session
    const so = await doc.createSessionObject({ qInfo: { qType: 'filterpane' }, qChildListDef: {} });
    const child = await so.createChild(listbox('', 'Category'));
    assert.deepEqual((await so.getLayout()).qChildList.qItems.map((i) => i.qInfo.qId), [child.id]);
    assert.deepEqual(states(await child.getLayout()), { Fruit: 'O', Veg: 'O' });
    await doc.doSave();
  } finally {
    await b.session.close();
  }
});

test('binned data: a scatter plot gets its points in a range, or a grid of their counts when there are too many', async () => {
  const id = await site.app('Points', 'Points: LOAD RecNo() AS P, Mod(RecNo() * 7, 100) AS X, Mod(RecNo() * 13, 50) AS Y AUTOGENERATE 2000;');
  const s = await site.session(id);
  try {
    const doc = await s.global.openDoc(id);
    assert.equal(await doc.doReload(), true);
    const obj = await doc.createSessionObject({
      qInfo: { qType: 'scatterplot' },
      qHyperCubeDef: {
        qDimensions: [{ qDef: { qFieldDefs: ['P'] } }],
        qMeasures: [{ qDef: { qDef: 'Sum(X)' } }, { qDef: { qDef: 'Sum(Y)' } }],
      },
    });
    // the points, computed here from the script's formulas
    const points = [];
    for (let p = 1; p <= 2000; p += 1) points.push({ p, x: (p * 7) % 100, y: (p * 13) % 50 });
    const binned = (range, most, level, method = 0) => obj.getHyperCubeBinnedData('/qHyperCubeDef',
      [{ qTop: 0, qLeft: 0, qWidth: 3, qHeight: 2000 }], { qWidth: 0, qHeight: 0 }, range, most, level, method);
    // few enough: the points in the range, whole rows, and an empty grid
    let pages = await binned([{ qLeft: 0, qTop: 25, qWidth: 50, qHeight: 25 }], 5000, 3);
    const inRange = points.filter((q) => q.x <= 50 && q.y <= 25);
    assert.equal(pages[0].qMatrix.length, 0);
    assert.deepEqual(pages[1].qMatrix.map(([d, x, y]) => `${d.qText}:${x.qNum}:${y.qNum}`).sort(),
      inRange.map((q) => `${q.p}:${q.x}:${q.y}`).sort());
    // too many: a grid of 8 x 8 cells over the range, each with the points it holds
    pages = await binned([{ qLeft: 0, qTop: 50, qWidth: 100, qHeight: 50 }], 100, 3);
    assert.equal(pages[1].qMatrix.length, 0);
    const want = new Map();
    for (const q of points) {
      const cell = Math.min(7, Math.floor(q.y / 6.25)) * 8 + Math.min(7, Math.floor(q.x / 12.5));
      want.set(cell, (want.get(cell) || 0) + 1);
    }
    const [head, ...cells] = pages[0].qMatrix.map((row) => row[0]);
    assert.equal(head.qNum, Math.max(...want.values()));
    assert.deepEqual(new Map(cells.map((c) => [c.qElemNumber, c.qNum])), want);
    const corner = cells.find((c) => c.qElemNumber === 9); // second column, second row
    assert.deepEqual(JSON.parse(corner.qText), [12.5, 12.5, 25, 6.25]);
    await assert.rejects(binned([], 100, 3, 1), (e) => e.code === 8);
  } finally {
    await s.session.close();
  }
});

test('range selections: measures in a range select their rows, numbers on an axis select between bounds', async () => {
  // an app of its own: the suite's app changes as other tests reload it
  const id = await site.app('Ranges', [
    'Customers: LOAD * INLINE [\nCustomerId, Customer\n1, Alice\n2, Bob\n3, Carol\n4, Dave\n];',
    'Sales: LOAD * INLINE [\nOrderId, CustomerId, Amount\n100, 1, 5\n101, 1, 3\n102, 2, 7\n103, 3, 2\n104, 2, 4\n];',
  ].join('\n'));
  const s = await site.session(id);
  try {
    const doc = await s.global.openDoc(id);
    assert.equal(await doc.doReload(), true);
    // Sum(Amount) by Customer: Alice 8, Bob 11, Carol 2 (Dave has no sales); values of the
    // field selected in that are not selected are alternatives (A)
    const obj = await doc.createSessionObject({
      qInfo: { qType: 'bars' },
      qHyperCubeDef: {
        qDimensions: [{ qDef: { qFieldDefs: ['Customer'] } }],
        qMeasures: [{ qDef: { qDef: 'Sum(Amount)' } }, { qDef: { qDef: 'Count(OrderId)' } }],
        qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 3, qHeight: 10 }],
      },
    });
    const list = await doc.createSessionObject(LIST('Customer'));
    const amounts = await doc.createSessionObject(LIST('Amount'));
    const range = (min, max, ix = 0, eq = true) => ({ qRange: { qMin: min, qMax: max, qMinInclEq: eq, qMaxInclEq: eq }, qMeasureIx: ix });
    assert.equal(await obj.rangeSelectHyperCubeValues('/qHyperCubeDef', [range(3, 11)]), true);
    assert.deepEqual(states(await list.getLayout()), { Alice: 'S', Bob: 'S', Carol: 'A', Dave: 'A' });
    await doc.clearAll();
    // bounds in either order; a bound not included leaves the value on it out
    assert.equal(await obj.rangeSelectHyperCubeValues('/qHyperCubeDef', [range(11, 8, 0, false)]), false, 'nothing lies strictly between');
    assert.deepEqual(states(await list.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'O', Dave: 'O' });
    // two ranges: both must hold, or either with qOrMode
    assert.equal(await obj.rangeSelectHyperCubeValues('/qHyperCubeDef', [range(0, 9), range(2, 2, 1)]), true);
    assert.deepEqual(states(await list.getLayout()), { Alice: 'S', Bob: 'A', Carol: 'A', Dave: 'A' });
    await doc.clearAll();
    assert.equal(await obj.rangeSelectHyperCubeValues('/qHyperCubeDef', [range(0, 3), range(11, 20)], [], true), true);
    assert.deepEqual(states(await list.getLayout()), { Alice: 'A', Bob: 'S', Carol: 'S', Dave: 'A' });
    await doc.clearAll();
    assert.equal(await obj.multiRangeSelectHyperCubeValues('/qHyperCubeDef', [{ qRanges: [range(10, 100)], qColumnsToSelect: [0] }]), true);
    assert.deepEqual(states(await list.getLayout()), { Alice: 'A', Bob: 'S', Carol: 'A', Dave: 'A' });
    await doc.clearAll();
    // a continuous range on a numeric axis (the list of amounts, and a cube by amount)
    assert.equal(await amounts.selectListObjectContinuousRange('/qListObjectDef', [{ qMin: 3, qMax: 5, qMinInclEq: true, qMaxInclEq: true }]), true);
    assert.deepEqual(states(await amounts.getLayout()), { 2: 'A', 3: 'S', 4: 'S', 5: 'S', 7: 'A' });
    await doc.clearAll();
    const byAmount = await doc.createSessionObject({ qInfo: { qType: 'line' }, qHyperCubeDef: { qDimensions: [{ qDef: { qFieldDefs: ['Amount'] } }], qMeasures: [{ qDef: { qDef: 'Count(OrderId)' } }] } });
    assert.equal(await byAmount.selectHyperCubeContinuousRange('/qHyperCubeDef', [{ qRange: { qMin: 6, qMax: 100, qMinInclEq: true, qMaxInclEq: false }, qDimIx: 0 }]), true);
    assert.deepEqual(states(await amounts.getLayout()), { 2: 'A', 3: 'A', 4: 'A', 5: 'A', 7: 'S' });
    assert.deepEqual(states(await list.getLayout()), { Alice: 'X', Bob: 'O', Carol: 'X', Dave: 'X' });
    await doc.clearAll();
    await assert.rejects(obj.rangeSelectHyperCubeValues('/nope', [range(0, 1)]), (e) => e.code === 8, 'a path to no definition is an invalid parameter');
  } finally {
    await s.session.close();
  }
});

test('stacked cubes (qMode K): a tree of values with their stacks\' sums, paged by the first dimension', async () => {
  const id = await site.app('Stacked', [
    'Customers: LOAD * INLINE [\nCustomerId, Customer, Region\n1, Alice, East\n2, Bob, West\n3, Carol, East\n4, Dave, North\n];',
    'Sales: LOAD * INLINE [\nOrderId, CustomerId, Category, Amount\n100, 1, Fruit, 5\n101, 1, Fruit, 3\n102, 2, Fruit, 7\n103, 3, Veg, 2\n104, 2, Veg, 4\n];',
  ].join('\n'));
  const s = await site.session(id);
  try {
    const doc = await s.global.openDoc(id);
    assert.equal(await doc.doReload(), true);
    // as sn-bar-chart asks for a stacked bar: qMode K, an empty initial page (all of it)
    const def = {
      qMode: 'K',
      qAlwaysFullyExpanded: true,
      qDimensions: [{ qDef: { qFieldDefs: ['Region'], qSortCriterias: [{ qSortByAscii: 1 }] } },
        { qDef: { qFieldDefs: ['Category'], qSortCriterias: [{ qSortByAscii: 1 }] } }],
      qMeasures: [{ qDef: { qDef: 'Sum(Amount) - 5' } }],
      qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 0, qHeight: 0 }],
    };
    const obj = await doc.createSessionObject({ qInfo: { qType: 'barchart' }, qHyperCubeDef: def });
    // the tree, written out: what each node says and holds
    const tree = (n) => ({ t: n.qText, type: n.qType, pos: n.qMaxPos, neg: n.qMinNeg, ...(n.qType === 'V' ? { v: n.qValue } : { sub: n.qSubNodes.map(tree) }) });
    let hc = (await obj.getLayout()).qHyperCube;
    assert.equal(hc.qMode, 'K');
    assert.deepEqual(hc.qDataPages, []);
    assert.equal(hc.qStackedDataPages.length, 1);
    // Sum(Amount) - 5: East Fruit 3, Veg -3; West Fruit 2, Veg -1 (North has no sales)
    const page = hc.qStackedDataPages[0];
    const leaf = (v) => ({ t: String(v), type: 'V', pos: Math.max(v, 0), neg: Math.min(v, 0), v });
    const cat = (t, v) => ({ t, type: 'N', pos: Math.max(v, 0), neg: Math.min(v, 0), sub: [leaf(v)] });
    assert.deepEqual(page.qData.map(tree), [{ t: '', type: 'R', pos: 5, neg: -4, sub: [
      { t: 'East', type: 'N', pos: 3, neg: -3, sub: [cat('Fruit', 3), cat('Veg', -3)] },
      { t: 'West', type: 'N', pos: 2, neg: -1, sub: [cat('Fruit', 2), cat('Veg', -1)] },
    ] }]);
    assert.deepEqual(page.qArea, { qLeft: 0, qTop: 0, qWidth: 0, qHeight: 0 }, 'an empty page asked for is answered as asked, with all of the data');
    assert.deepEqual([page.qData[0].qUp, page.qData[0].qDown], [0, 0]);
    assert.deepEqual(hc.qDimensionInfo.map((d) => [d.qCardinal, d.qCardinalities.qHypercubeCardinal]), [[3, 2], [2, 2]], 'the cube has two of three regions');
    // a page from the second value of the first dimension on; and a limit on cells
    let [p] = await obj.getHyperCubeStackData('/qHyperCubeDef', [{ qTop: 1, qLeft: 0, qWidth: 3, qHeight: 5 }]);
    assert.deepEqual(p.qData[0].qSubNodes.map((n) => n.qText), ['West']);
    assert.deepEqual([p.qArea.qTop, p.qArea.qHeight, p.qData[0].qUp, p.qData[0].qDown], [1, 1, 1, 0]);
    [p] = await obj.getHyperCubeStackData('/qHyperCubeDef', [{ qTop: 0, qLeft: 0, qWidth: 3, qHeight: 2 }], 5);
    assert.deepEqual(p.qData[0].qSubNodes.map((n) => n.qText), ['East'], 'five cells: East, its two categories and their values');
    assert.deepEqual([p.qArea.qHeight, p.qData[0].qDown], [1, 1]);
    // clicking a segment: its nodes' qElemNo select, as in a straight cube
    const east = page.qData[0].qSubNodes[0];
    assert.equal(await obj.selectHyperCubeValues('/qHyperCubeDef', 1, [east.qSubNodes[1].qElemNo], false), true);
    hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual(hc.qStackedDataPages[0].qData.map(tree), [{ t: '', type: 'R', pos: 0, neg: -4, sub: [
      { t: 'East', type: 'N', pos: 0, neg: -3, sub: [cat('Veg', -3)] },
      { t: 'West', type: 'N', pos: 0, neg: -1, sub: [cat('Veg', -1)] },
    ] }]);
    // its qRow is the row of the straight cube, for SelectHyperCubeCells
    await doc.clearAll();
    assert.equal(await obj.selectHyperCubeCells('/qHyperCubeDef', [east.qSubNodes[0].qSubNodes[0].qRow], [0, 1]), true);
    const s2 = await doc.createSessionObject(LIST('Customer'));
    assert.deepEqual(states(await s2.getLayout()), { Alice: 'O', Bob: 'X', Carol: 'X', Dave: 'X' }, 'East and Fruit: Alice');
    // a straight cube of the same definition has no stacked pages
    await obj.setProperties({ qInfo: { qId: obj.id, qType: 'barchart' }, qHyperCubeDef: { ...def, qMode: 'S', qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 3, qHeight: 10 }] } });
    hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual([hc.qMode, hc.qStackedDataPages.length, hc.qDataPages[0].qMatrix.length], ['S', 0, 1]);
  } finally {
    await s.session.close();
  }
});

test('pivot cubes (qMode P): rows and columns of values, expanded and collapsed per session, paged, and selected', async () => {
  const id = await site.app('Pivot', 'Sales: LOAD * INLINE [\nRegion, Customer, Category, OrderId, Amount\nEast, Alice, Fruit, 100, 5\nEast, Alice, Fruit, 101, 3\nWest, Bob, Fruit, 102, 7\nEast, Carol, Veg, 103, 2\nWest, Bob, Veg, 104, 4\n];');
  const s = await site.session(id);
  try {
    const doc = await s.global.openDoc(id);
    assert.equal(await doc.doReload(), true);
    const dim = (f) => ({ qDef: { qFieldDefs: [f], qSortCriterias: [{ qSortByAscii: 1 }] } });
    // as sn-pivot-table makes one: two dimensions on the left, one on top, two measures
    const def = {
      qMode: 'P',
      qAlwaysFullyExpanded: false,
      qNoOfLeftDims: 2,
      qDimensions: [dim('Region'), dim('Customer'), dim('Category')],
      qMeasures: [{ qDef: { qDef: 'Sum(Amount)', qLabel: 'Amount' } }, { qDef: { qDef: 'Count(OrderId)', qLabel: 'Orders' } }],
      qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 50, qHeight: 50 }],
    };
    const obj = await doc.createSessionObject({ qInfo: { qType: 'pivot-table' }, qHyperCubeDef: def });
    const node = (n) => [n.qText, n.qType, n.qCanExpand ? '+' : n.qCanCollapse ? '-' : '', n.qUp, n.qDown, ...(n.qSubNodes.length ? [n.qSubNodes.map(node)] : [])];
    const data = (pg) => pg.qData.map((r) => r.map((c) => (c.qType === 'U' ? null : c.qNum)));
    let hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual([hc.qMode, hc.qNoOfLeftDims, hc.qEffectiveInterColumnSortOrder, hc.qSize], ['P', 2, [0, 1, 2, -1], { qcx: 4, qcy: 2 }]);
    assert.deepEqual([hc.qDataPages, hc.qStackedDataPages, hc.qPivotDataPages.length], [[], [], 1]);
    let [page] = hc.qPivotDataPages;
    // regions collapsed: each shows its measures over all of its customers
    assert.deepEqual(page.qLeft.map(node), [['East', 'N', '+', 0, 0], ['West', 'N', '+', 0, 0]]);
    const pseudo = [['Amount', 'P', '', 0, 0], ['Orders', 'P', '', 0, 0]];
    assert.deepEqual(page.qTop.map(node), [['Fruit', 'N', '', 0, 0, pseudo], ['Veg', 'N', '', 0, 0, pseudo]]);
    assert.deepEqual(data(page), [[8, 2, 2, 1], [7, 1, 4, 1]]);
    assert.deepEqual(page.qArea, { qLeft: 0, qTop: 0, qWidth: 4, qHeight: 2 });
    // East expanded in this session: its customers, each with only what they bought
    assert.deepEqual(await obj.expandLeft('/qHyperCubeDef', 0, 0, false), {});
    hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual(hc.qSize, { qcx: 4, qcy: 3 });
    [page] = hc.qPivotDataPages;
    // West, collapsed, has an empty cell (E) where East has its customers: every row as deep
    assert.deepEqual(page.qLeft.map(node), [['East', 'N', '-', 0, 0, [['Alice', 'N', '', 0, 0], ['Carol', 'N', '', 0, 0]]], ['West', 'N', '+', 0, 0, [['', 'E', '', 0, 0]]]]);
    assert.deepEqual(data(page), [[8, 2, null, null], [null, null, 2, 1], [7, 1, 4, 1]]);
    assert.equal((await obj.getLayout()).qHasSoftPatches, true, 'the expansion is the session\'s own');
    // a page from the middle: East's second customer and West, the Veg columns
    [page] = await obj.getHyperCubePivotData('/qHyperCubeDef', [{ qTop: 1, qLeft: 2, qWidth: 2, qHeight: 2 }]);
    assert.deepEqual(page.qLeft.map(node), [['East', 'N', '-', 1, 0, [['Carol', 'N', '', 0, 0]]], ['West', 'N', '+', 0, 0, [['', 'E', '', 0, 0]]]]);
    assert.deepEqual(page.qTop.map(node), [['Veg', 'N', '', 0, 0, pseudo]]);
    assert.deepEqual(data(page), [[2, 1], [4, 1]]);
    assert.deepEqual(page.qArea, { qLeft: 2, qTop: 1, qWidth: 2, qHeight: 2 });
    [page] = await obj.getHyperCubePivotData('/qHyperCubeDef', [{ qTop: 0, qLeft: 1, qWidth: 2, qHeight: 1 }]);
    assert.deepEqual(page.qTop.map(node), [['Fruit', 'N', '', 1, 0, [pseudo[1]]], ['Veg', 'N', '', 0, 1, [pseudo[0]]]]);
    await assert.rejects(obj.getHyperCubePivotData('/qHyperCubeDef', [{ qTop: 0, qLeft: 0, qWidth: 101, qHeight: 100 }]), (e) => e.code === 7009);
    // collapsed again; then everything expanded at once; the pseudo dimension is no value
    await obj.collapseLeft('/qHyperCubeDef', 0, 0, false);
    assert.deepEqual((await obj.getLayout()).qHyperCube.qSize, { qcx: 4, qcy: 2 });
    await obj.expandLeft('/qHyperCubeDef', 0, 0, true);
    hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual(hc.qPivotDataPages[0].qLeft.map(node), [['East', 'N', '-', 0, 0, [['Alice', 'N', '', 0, 0], ['Carol', 'N', '', 0, 0]]], ['West', 'N', '-', 0, 0, [['Bob', 'N', '', 0, 0]]]]);
    await assert.rejects(obj.expandTop('/qHyperCubeDef', 1, 0, false), (e) => e.code === 8);
    await assert.rejects(obj.expandLeft('/qHyperCubeDef', 0, 5, false), (e) => e.code === 8, 'no such level');
    // a click on a customer selects it: the pivot keeps what goes with Alice
    assert.deepEqual(await obj.selectPivotCells('/qHyperCubeDef', [{ qType: 'L', qRow: 0, qCol: 1 }], false, false), true);
    hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual([hc.qSize, hc.qPivotDataPages[0].qLeft.map(node), data(hc.qPivotDataPages[0])], [{ qcx: 2, qcy: 1 }, [['East', 'N', '-', 0, 0, [['Alice', 'N', '', 0, 0]]]], [[8, 2]]]);
    const customers = await doc.createSessionObject(LIST('Customer'));
    assert.deepEqual(states(await customers.getLayout()), { Alice: 'S', Bob: 'A', Carol: 'A' });
    // a top cell selects its column's value
    await doc.clearAll();
    assert.equal(await obj.selectPivotCells('/qHyperCubeDef', [{ qType: 'T', qRow: 0, qCol: 2 }], false, false), true);
    assert.deepEqual(states(await customers.getLayout()), { Alice: 'X', Bob: 'O', Carol: 'O' }, 'Veg: Bob and Carol');
    await doc.clearAll();
    // always fully expanded: nothing to expand or collapse; -1 left dimensions: all of them
    await obj.setProperties({ qInfo: { qId: obj.id, qType: 'pivot-table' }, qHyperCubeDef: { ...def, qAlwaysFullyExpanded: true, qNoOfLeftDims: -1 } });
    hc = (await obj.getLayout()).qHyperCube;
    assert.deepEqual([hc.qNoOfLeftDims, hc.qSize, hc.qPivotDataPages[0].qTop], [4, { qcx: 1, qcy: 8 }, []]);
    assert.deepEqual(hc.qPivotDataPages[0].qLeft[0].qSubNodes[0].qSubNodes.map(node), [['Fruit', 'N', '', 0, 0, pseudo]]);
    assert.deepEqual(data(hc.qPivotDataPages[0]).flat(), [8, 2, 2, 1, 7, 1, 4, 1], 'Alice Fruit, Carol Veg, Bob Fruit and Veg');
    // totals (qOtherTotalSpec TOTAL_EXPR): each region's customers get a total after them,
    // the regions a grand total; a total's measures are over what its parent holds
    const totals = (d) => ({ ...d, qOtherTotalSpec: { qTotalMode: 'TOTAL_EXPR' } });
    await obj.setProperties({ qInfo: { qId: obj.id, qType: 'pivot-table' }, qHyperCubeDef: { ...def, qAlwaysFullyExpanded: true, qShowTotalsAbove: false, qDimensions: [totals(dim('Region')), { ...totals(dim('Customer')), qTotalLabel: { qv: 'All customers' } }, dim('Category')] } });
    hc = (await obj.getLayout()).qHyperCube;
    [page] = hc.qPivotDataPages;
    const names = (n) => [n.qText, n.qType, ...(n.qType === 'P' || !n.qSubNodes.length ? [] : [n.qSubNodes.map(names)])];
    assert.deepEqual(page.qLeft.map(names), [
      ['East', 'N', [['Alice', 'N'], ['Carol', 'N'], ['All customers', 'T']]],
      ['West', 'N', [['Bob', 'N'], ['All customers', 'T']]],
      ['Totals', 'T', [['', 'E']]],
    ]);
    assert.deepEqual(hc.qSize, { qcx: 4, qcy: 6 });
    assert.deepEqual(data(page), [[8, 2, null, null], [null, null, 2, 1], [8, 2, 2, 1], [7, 1, 4, 1], [7, 1, 4, 1], [15, 3, 6, 2]]);
    assert.equal(await obj.selectPivotCells('/qHyperCubeDef', [{ qType: 'L', qRow: 5, qCol: 0 }], false, false), true);
    assert.deepEqual(states(await customers.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'O' }, 'a total is no value to select');
  } finally {
    await s.session.close();
  }
});

test('pivot cubes sorted by an expression per level: each level by its values\' own totals, on the current selection', async () => {
  const id = await site.app('PivotSort', 'Sales: LOAD * INLINE [\nRegion, Customer, Category, OrderId, Amount\nEast, Alice, Fruit, 100, 5\nEast, Alice, Fruit, 101, 3\nWest, Bob, Fruit, 102, 7\nEast, Carol, Veg, 103, 2\nWest, Bob, Veg, 104, 4\n];');
  const s = await site.session(id);
  try {
    const doc = await s.global.openDoc(id);
    assert.equal(await doc.doReload(), true);
    const byExpr = (f, dir, x) => ({ qDef: { qFieldDefs: [f], qSortCriterias: [{ qSortByExpression: dir, qExpression: { qv: x }, qSortByAscii: 1 }] } });
    const def = {
      qMode: 'P',
      qAlwaysFullyExpanded: true,
      qNoOfLeftDims: 2,
      // regions by their total amount, largest first; a region's customers by theirs, smallest first
      qDimensions: [byExpr('Region', -1, '=Sum(Amount)'), byExpr('Customer', 1, 'Sum(Amount)'), { qDef: { qFieldDefs: ['Category'], qSortCriterias: [{ qSortByAscii: 1 }] } }],
      qMeasures: [{ qDef: { qDef: 'Sum(Amount)', qLabel: 'Amount' } }],
      qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 50, qHeight: 50 }],
    };
    const obj = await doc.createSessionObject({ qInfo: { qType: 'pivot-table' }, qHyperCubeDef: def });
    const tree = (n) => [n.qText, ...(n.qSubNodes.length ? [n.qSubNodes.map(tree)] : [])];
    const data = (pg) => pg.qData.map((r) => r.map((c) => (c.qType === 'U' ? null : c.qNum)));
    let [page] = (await obj.getLayout()).qHyperCube.qPivotDataPages;
    // West 11 before East 10 (the names' order would put East first); Carol 2 before Alice 8
    assert.deepEqual(page.qLeft.map(tree), [['West', [['Bob']]], ['East', [['Carol'], ['Alice']]]]);
    assert.deepEqual(page.qTop.map(tree), [['Fruit'], ['Veg']]);
    assert.deepEqual(data(page), [[7, 4], [null, 2], [8, null]], 'each row\'s values follow it');
    // the other way round: regions smallest first, customers largest first
    await obj.setProperties({ qInfo: { qId: obj.id, qType: 'pivot-table' }, qHyperCubeDef: { ...def, qDimensions: [byExpr('Region', 1, '=Sum(Amount)'), byExpr('Customer', -1, 'Sum(Amount)'), def.qDimensions[2]] } });
    [page] = (await obj.getLayout()).qHyperCube.qPivotDataPages;
    assert.deepEqual(page.qLeft.map(tree), [['East', [['Alice'], ['Carol']]], ['West', [['Bob']]]]);
    assert.deepEqual(data(page), [[8, null], [null, 2], [7, 4]]);
    // on a selection the totals are the selection's: Fruit alone makes East 8 and West 7
    await obj.setProperties({ qInfo: { qId: obj.id, qType: 'pivot-table' }, qHyperCubeDef: def });
    await (await doc.getField('Category')).selectValues([{ qText: 'Fruit' }]);
    [page] = (await obj.getLayout()).qHyperCube.qPivotDataPages;
    assert.deepEqual(page.qLeft.map(tree), [['East', [['Alice']]], ['West', [['Bob']]]]);
    assert.deepEqual(data(page), [[8], [7]]);
    // a level whose expression has no value for some (a text) keeps them last, in their own order
    await doc.clearAll();
    await obj.setProperties({ qInfo: { qId: obj.id, qType: 'pivot-table' }, qHyperCubeDef: { ...def, qDimensions: [byExpr('Region', 1, "=If(Region = 'West', 1, 'none')"), def.qDimensions[1], def.qDimensions[2]] } });
    [page] = (await obj.getLayout()).qHyperCube.qPivotDataPages;
    assert.deepEqual(page.qLeft.map(tree)[0][0], 'West');
  } finally {
    await s.session.close();
  }
});

test('bookmarks: a named selection, saved with the app, applied by a later session, listed, destroyed', async () => {
  const a = await site.session(appId);
  let id;
  try {
    const doc = await a.global.openDoc(appId);
    const region = await doc.getField('Region');
    await region.selectValues([{ qText: 'East' }]);
    const bm = await doc.createBookmark({ qInfo: { qType: 'bookmark' }, qMetaDef: { title: 'The East' }, title: 'The East' });
    id = bm.id;
    const layout = await bm.getLayout();
    assert.equal(layout.qMeta.title, 'The East');
    assert.deepEqual(layout.qBookmark.qStateData[0].qFieldItems.map((f) => [f.qDef.qName, f.qValues.map((v) => v.qText)]), [['Region', ['East']]]);
    await assert.rejects(doc.createBookmark({ qInfo: { qType: 'sheet' } }), (e) => e.code === -32602);
    await doc.doSave();
  } finally {
    await a.session.close();
  }
  const b = await site.session(appId);
  try {
    const doc = await b.global.openDoc(appId);
    const list = await doc.createSessionObject(LIST('Customer'));
    assert.deepEqual(states(await list.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'O', Dave: 'O' });
    // listed, with what qData asks of each
    const bl = await doc.createSessionObject({ qInfo: { qType: 'BookmarkList' }, qBookmarkListDef: { qType: 'bookmark', qData: { title: '/qMetaDef/title' } } });
    const items = (await bl.getLayout()).qBookmarkList.qItems;
    assert.deepEqual(items.map((i) => [i.qInfo.qId, i.qData.title]), [[id, 'The East']]);
    assert.deepEqual((await doc.getBookmarks({ qTypes: ['bookmark'], qData: { t: '/title' } })).map((i) => i.qData.t), ['The East']);
    // applied: the selection of the other session comes back here; Back undoes it
    assert.equal(await doc.applyBookmark(id), true);
    assert.deepEqual(states(await list.getLayout()), { Alice: 'O', Bob: 'X', Carol: 'O', Dave: 'X' });
    await doc.back();
    assert.deepEqual(states(await list.getLayout()), { Alice: 'O', Bob: 'O', Carol: 'O', Dave: 'O' });
    const bm = await doc.getBookmark(id);
    assert.equal(await bm.apply(), true);
    assert.deepEqual(states(await list.getLayout()), { Alice: 'O', Bob: 'X', Carol: 'O', Dave: 'X' });
    await doc.clearAll();
    assert.equal(await doc.applyBookmark('no-such-bookmark'), false);
    await assert.rejects(doc.getBookmark('no-such-bookmark'), (e) => e.code === 2);
    assert.equal(await doc.destroyBookmark(id), true);
    assert.deepEqual((await bl.getLayout()).qBookmarkList.qItems, []);
    await doc.doSave();
  } finally {
    await b.session.close();
  }
});

test('a person who may only read the app makes private bookmarks: theirs alone, saved at once, deleted by them', async () => {
  // the app is published (the tests before) and "editor" may only read it
  const origin = `https://localhost:${site.proxyPort}`;
  const as = async (user, password) =>
    site.session(appId, { proxy: true, ws: { headers: { Cookie: await site.signIn(user, password), Origin: origin } } });
  const titles = async (doc) => (await doc.getBookmarks({ qTypes: ['bookmark'], qData: { title: '/qMetaDef/title' } })).map((b) => b.qData.title).sort();
  const r = await as('editor', 'an editor password');
  const a = await as('admin', site.adminPassword);
  let pub;
  try {
    const rdoc = await r.global.openDoc(appId);
    await (await rdoc.getField('Region')).selectValues([{ qText: 'West' }]);
    // the engine names whose it is, whatever the client says
    const bm = await rdoc.createBookmark({ qInfo: { qType: 'bookmark' }, qMetaDef: { title: 'my west', privateTo: 'someone else' } });
    assert.match((await bm.getProperties()).qMetaDef.privateTo, /UserId=editor/);
    assert.deepEqual(await titles(rdoc), ['my west']);
    // another person neither lists, opens nor applies it
    const adoc = await a.global.openDoc(appId);
    assert.deepEqual(await titles(adoc), []);
    await assert.rejects(adoc.getBookmark(bm.id), (e) => e.code === 2);
    assert.equal(await adoc.applyBookmark(bm.id), false);
    assert.ok(!(await adoc.getAllInfos()).some((i) => i.qId === bm.id));
    // it was saved with the app at once (a reader may not save): nothing is left unsaved
    assert.equal((await adoc.getAppLayout()).qModified, false);
    // its id taken by another object is a new id: nobody writes over what they cannot see
    const over = await adoc.createBookmark({ qInfo: { qId: bm.id, qType: 'bookmark' }, qMetaDef: { title: 'over it' } });
    assert.notEqual(over.id, bm.id);
    assert.equal(await adoc.destroyBookmark(over.id), true);
    pub = (await adoc.createBookmark({ qInfo: { qType: 'bookmark' }, qMetaDef: { title: 'everyone' } })).id;
    await adoc.doSave();
    // the reader sees both, applies theirs, may delete theirs and not the app's
    assert.deepEqual(await titles(rdoc), ['everyone', 'my west']);
    await rdoc.clearAll();
    assert.equal(await rdoc.applyBookmark(bm.id), true);
    await assert.rejects(rdoc.destroyBookmark(pub), (e) => e.code === 5);
    assert.equal(await rdoc.destroyBookmark(bm.id), true);
    assert.deepEqual(await titles(rdoc), ['everyone']);
    assert.equal((await adoc.getAppLayout()).qModified, false);
    assert.equal(await adoc.destroyBookmark(pub), true);
    await adoc.doSave();
  } finally {
    await r.session.close();
    await a.session.close();
  }
});

test('variables: made, read by name, used by $(name) and $(=...) in chart expressions, changed, saved, destroyed', async () => {
  const a = await site.session(appId);
  try {
    const doc = await a.global.openDoc(appId);
    const total = (await doc.createSessionObject({ qInfo: { qType: 'kpi' }, v: { qValueExpression: { qExpr: '=Sum(Amount)' } } }));
    const sum = (await total.getLayout()).v;
    const rate = await doc.createVariableEx({ qInfo: { qType: 'variable' }, qName: 'vRate', qDefinition: '3', qComment: 'a rate' });
    await doc.createVariableEx({ qInfo: { qType: 'variable' }, qName: 'vTotal', qDefinition: '=Sum(Amount) * $(vRate)' });
    await assert.rejects(doc.createVariableEx({ qInfo: { qType: 'variable' }, qName: 'vRate' }), (e) => e.code === 8, 'a name is taken once');
    await assert.rejects(doc.createVariableEx({ qInfo: { qType: 'variable' } }), (e) => e.code === -32602, 'a variable needs a name');
    const layout = await rate.getLayout();
    assert.equal(layout.qText, '3');
    assert.equal(layout.qNum, 3);
    assert.equal((await (await doc.getVariableByName('vTotal')).getLayout()).qNum, sum * 3, 'a definition with = is computed');
    // in a chart's measure and in a value expression
    const cube = await doc.createSessionObject({
      qInfo: { qType: 'bars' },
      qHyperCubeDef: { qDimensions: [], qMeasures: [{ qDef: { qDef: 'Sum(Amount) * $(vRate)' } }, { qDef: { qDef: '$(vTotal) + $(=Count(OrderId))' } }], qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 2, qHeight: 1 }] },
      e: { qValueExpression: { qExpr: '=$(vRate)$(vNobody)0 * 2' } },
    });
    const cl = await cube.getLayout();
    assert.equal(cl.qHyperCube.qError, undefined, JSON.stringify(cl.qHyperCube.qError));
    const count = (await (await doc.createSessionObject({ qInfo: { qType: 'k' }, c: { qValueExpression: { qExpr: '=Count(OrderId)' } } })).getLayout()).c;
    assert.deepEqual(cl.qHyperCube.qDataPages[0].qMatrix[0].map((c) => c.qNum), [sum * 3, sum * 3 + count]);
    assert.equal(cl.e, 60, 'an unknown name expands to nothing: 30 * 2');
    // changed: the charts that use it follow
    await rate.setNumValue(2);
    assert.equal((await rate.getRawContent()), '2');
    assert.equal((await cube.getLayout()).qHyperCube.qDataPages[0].qMatrix[0][0].qNum, sum * 2);
    await rate.setStringValue('1');
    const list = await doc.createSessionObject({ qInfo: { qType: 'VariableList' }, qVariableListDef: { qType: 'variable', qData: { c: '/qComment' } } });
    const items = (await list.getLayout()).qVariableList.qItems;
    assert.deepEqual(items.map((i) => [i.qName, i.qDefinition, i.qData.c]).sort(), [['vRate', '1', 'a rate'], ['vTotal', '=Sum(Amount) * $(vRate)', null]]);
    // a variable that names itself stops expanding
    await doc.createVariableEx({ qInfo: { qType: 'variable' }, qName: 'vLoop', qDefinition: '=$(vLoop) + 1' });
    await (await doc.getVariableByName('vLoop')).getLayout();
    await doc.doSave();
  } finally {
    await a.session.close();
  }
  const b = await site.session(appId);
  try {
    const doc = await b.global.openDoc(appId);
    const rate = await doc.getVariableByName('vRate');
    assert.equal((await rate.getLayout()).qText, '1', 'saved with the app');
    assert.equal((await doc.getVariableById(rate.id)).id, rate.id);
    await assert.rejects(doc.getVariableByName('vNobody'), (e) => e.code === 2);
    assert.equal(await doc.destroyVariableByName('vTotal'), true);
    assert.equal(await doc.destroyVariableById(rate.id), true);
    assert.equal(await doc.destroyVariableByName('vLoop'), true);
    assert.equal(await doc.destroyVariableByName('vRate'), false);
    await doc.doSave();
  } finally {
    await b.session.close();
  }
});

test("the load script's variables are the app's after a reload, and chart expressions use them", async () => {
  const id = await site.app('Script variables', [
    'SET vRate = 3;',
    "LET vWhere = 'East';",
    'T: LOAD * INLINE [\nRegion, Amount\nEast, 5\nWest, 7\nEast, 1\n];',
  ].join('\n'));
  const s = await site.session(id);
  try {
    const doc = await s.global.openDoc(id);
    // one made in the app first: the script's SET gives it its value
    await doc.createVariableEx({ qInfo: { qType: 'variable' }, qName: 'vWhere', qDefinition: 'West' });
    await doc.doSave();
    assert.equal(await doc.doReload(), true);
    const rate = await doc.getVariableByName('vRate');
    const l = await rate.getLayout();
    assert.deepEqual([l.qText, l.qNum, l.qIsScriptCreated], ['3', 3, true]);
    assert.equal((await (await doc.getVariableByName('vWhere')).getLayout()).qText, 'East');
    const cube = await doc.createSessionObject({
      qInfo: { qType: 'kpi' },
      qHyperCubeDef: { qMeasures: [{ qDef: { qDef: "Sum({<Region={'$(vWhere)'}>} Amount) * $(vRate)" } }], qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 1, qHeight: 1 }] },
    });
    assert.equal((await cube.getLayout()).qHyperCube.qDataPages[0].qMatrix[0][0].qNum, 18);
    // a script that no longer sets a variable takes it away (and keeps the app's own)
    await doc.setScript('T: LOAD * INLINE [\nRegion, Amount\nEast, 5\n];');
    assert.equal(await doc.doReload(), true);
    await assert.rejects(doc.getVariableByName('vRate'), (e) => e.code === 2);
    assert.equal((await (await doc.getVariableByName('vWhere')).getLayout()).qText, 'East');
  } finally {
    await s.session.close();
  }
});

test('master items: a dimension and a measure made once, used by qLibraryId in charts and lists, listed, destroyed', async () => {
  const a = await site.session(appId);
  try {
    const doc = await a.global.openDoc(appId);
    const dim = await doc.createDimension({ qInfo: { qType: 'dimension' }, qDim: { qGrouping: 'N', qFieldDefs: ['Region'], qFieldLabels: ['Sales region'] }, qMetaDef: { title: 'Region' } });
    const mea = await doc.createMeasure({ qInfo: { qType: 'measure' }, qMeasure: { qLabel: 'Twice the sales', qDef: 'Sum(Amount) * 2' }, qMetaDef: { title: 'Twice' } });
    assert.deepEqual((await dim.getDimension()).qFieldDefs, ['Region']);
    assert.equal((await mea.getMeasure()).qDef, 'Sum(Amount) * 2');
    await assert.rejects(doc.createMeasure({ qInfo: { qType: 'measure' } }), (e) => e.code === -32602);
    // a chart that names them, and one that writes the same out: the same rows
    const byLib = await doc.createSessionObject({ qInfo: { qType: 'bars' }, qHyperCubeDef: {
      qDimensions: [{ qLibraryId: dim.id, qDef: { qSortCriterias: [{ qSortByAscii: 1 }] } }], qMeasures: [{ qLibraryId: mea.id, qDef: {} }],
      qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 2, qHeight: 10 }] } });
    const plain = await doc.createSessionObject({ qInfo: { qType: 'bars' }, qHyperCubeDef: {
      qDimensions: [{ qDef: { qFieldDefs: ['Region'], qSortCriterias: [{ qSortByAscii: 1 }] } }], qMeasures: [{ qDef: { qDef: 'Sum(Amount) * 2' } }],
      qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 2, qHeight: 10 }] } });
    const rows = (l) => l.qHyperCube.qDataPages[0].qMatrix.map((r) => r.map((c) => c.qText));
    const lib = await byLib.getLayout();
    assert.deepEqual(rows(lib), rows(await plain.getLayout()));
    assert.ok(rows(lib).length >= 2);
    assert.equal(lib.qHyperCube.qDimensionInfo[0].qFallbackTitle, 'Sales region');
    assert.equal(lib.qHyperCube.qMeasureInfo[0].qFallbackTitle, 'Twice the sales');
    assert.equal((await byLib.getProperties()).qHyperCubeDef.qMeasures[0].qDef.qDef, undefined, 'the properties keep the reference only');
    assert.equal((await byLib.getEffectiveProperties()).qHyperCubeDef.qMeasures[0].qDef.qDef, 'Sum(Amount) * 2');
    // a list of the master dimension's field
    const list = await doc.createSessionObject({ qInfo: { qType: 'listbox' }, qListObjectDef: { qLibraryId: dim.id, qInitialDataFetch: [{ qTop: 0, qLeft: 0, qWidth: 1, qHeight: 10 }] } });
    assert.ok(Object.keys(states(await list.getLayout())).includes('East'));
    // the lists of master items
    const lists = await doc.createSessionObject({ qInfo: { qType: 'lists' }, qDimensionListDef: { qType: 'dimension', qData: { t: '/qMetaDef/title' } }, qMeasureListDef: { qType: 'measure', qData: { t: '/qMetaDef/title' } } });
    const ll = await lists.getLayout();
    assert.deepEqual(ll.qDimensionList.qItems.map((i) => [i.qInfo.qId, i.qData.t]), [[dim.id, 'Region']]);
    assert.deepEqual(ll.qMeasureList.qItems.map((i) => [i.qInfo.qId, i.qData.t]), [[mea.id, 'Twice']]);
    assert.equal((await doc.getMeasure(mea.id)).id, mea.id);
    await assert.rejects(doc.getDimension(mea.id), (e) => e.code === 2, 'a measure is no dimension');
    assert.equal(await doc.destroyDimension(dim.id), true);
    assert.equal(await doc.destroyMeasure(mea.id), true);
    assert.equal(await doc.destroyMeasure(mea.id), false);
    assert.deepEqual((await lists.getLayout()).qDimensionList.qItems, []);
  } finally {
    await a.session.close();
  }
});
