// Writes examples/sales/objects.json: the sheets and charts of the example app that
// `make demo` and the hub's tests use. Each chart's properties are the full tree that its
// nebula.js chart module makes for a new chart (generateProperties, run in Chromium), with
// the example's dimensions, measures and titles, as a chart made in the hub would be.
// Run it again after changing a chart module's version: node scripts/example-objects.mjs
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const out = resolve(here, '../../examples/sales/objects.json');
const modules = ['sn-bar-chart', 'sn-line-chart', 'sn-pie-chart', 'sn-kpi', 'sn-table', 'sn-filter-pane', 'sn-pivot-table', 'sn-combo-chart', 'sn-scatter-plot'];

const money = { qType: 'F', qnDec: 0, qUseThou: 1, qFmt: '#,##0', qDec: '.', qThou: ',' };
const dim = (f) => ({ qDef: { qFieldDefs: [f], qFieldLabels: [f] } });
const mea = (expr, label, fmt) => ({ qDef: { qDef: expr, qLabel: label, ...(fmt ? { qNumFormat: fmt } : {}) } });
const sales = mea('Sum(Amount)', 'Sales', money);

const charts = [
  ['kpi-sales', 'kpi', 'Sales', [mea('Sum(Amount)', 'Sales')]], // automatic: 508.38M
  ['kpi-orders', 'kpi', 'Orders', [mea('Count(OrderId)', 'Orders')]],
  ['kpi-quantity', 'kpi', 'Units', [mea('Sum(Quantity)', 'Units')]],
  ['bar-region', 'barchart', 'Sales by region', [dim('Region'), sales]],
  ['bar-product', 'barchart', 'Sales by product', [dim('Product'), sales]],
  ['line-year', 'linechart', 'Sales by year', [dim('Year'), sales]],
  ['table-country', 'table', 'Countries', [dim('Country'), dim('Region'), sales, mea('Sum(Quantity)', 'Units')]],
  ['pie-product', 'piechart', 'Share of sales by product', [dim('Product'), sales]],
  ['bar-year-product', 'barchart', 'Sales by year and product', [dim('Year'), dim('Product'), sales], { barGrouping: { grouping: 'stacked' } }],
  ['table-product', 'table', 'Products', [dim('Product'), sales, mea('Count(OrderId)', 'Orders'), mea('Avg(Amount)', 'Average order', money)]],
  ['filter-products', 'filterpane', 'Filters', []],
  // regions and their countries down the side, years across: regions collapsed at first
  ['pivot-region-year', 'pivot-table', 'Sales by region and year', [dim('Region'), dim('Country'), dim('Year'), sales], {}, { qNoOfLeftDims: 2 }],
  // sales as bars and units as a line, by year; and each product by its sales and units
  ['combo-year', 'combochart', 'Sales and units by year', [dim('Year'), sales, mea('Sum(Quantity)', 'Units')]],
  ['scatter-product', 'scatterplot', 'Products by sales and units', [dim('Product'), sales, mea('Sum(Quantity)', 'Units')]],
];
// a filter pane's list boxes are its children, as the filter pane makes them
const filterChildren = { 'filter-products': [['filter-product', 'Product'], ['filter-country', 'Country']] };

const listbox = (id, field) => ({
  qInfo: { qId: id, qType: 'listbox' },
  title: field,
  qListObjectDef: {
    qDef: { qFieldDefs: [field], qSortCriterias: [{ qSortByState: 1, qSortByAscii: 1, qSortByNumeric: 1 }] },
    qInitialDataFetch: [{ qLeft: 0, qTop: 0, qWidth: 1, qHeight: 100 }],
  },
});
const cell = (name, type, col, row, colspan, rowspan) => ({ name, type, col, row, colspan, rowspan });
const sheet = (id, title, rank, cells) => ({
  qInfo: { qId: id, qType: 'sheet' },
  qMetaDef: { title, description: '' },
  rank,
  columns: 24,
  rows: 12,
  cells,
});
const sheets = [
  sheet('sheet-overview', 'Overview', 0, [
    cell('kpi-sales', 'kpi', 0, 0, 6, 2),
    cell('kpi-orders', 'kpi', 6, 0, 6, 2),
    cell('kpi-quantity', 'kpi', 12, 0, 6, 2),
    cell('list-region', 'listbox', 18, 0, 3, 6),
    cell('list-year', 'listbox', 21, 0, 3, 6),
    cell('bar-region', 'barchart', 0, 2, 9, 5),
    cell('line-year', 'linechart', 9, 2, 9, 5),
    cell('bar-product', 'barchart', 0, 7, 9, 5),
    cell('table-country', 'table', 9, 7, 15, 5),
  ]),
  sheet('sheet-products', 'Products', 1, [
    cell('pie-product', 'piechart', 0, 0, 9, 6),
    cell('bar-year-product', 'barchart', 9, 0, 12, 6),
    cell('filter-products', 'filterpane', 21, 0, 3, 6),
    cell('table-product', 'table', 0, 6, 24, 6),
  ]),
  sheet('sheet-regions', 'Regions', 2, [
    cell('pivot-region-year', 'pivot-table', 0, 0, 24, 6),
    cell('combo-year', 'combochart', 0, 6, 12, 6),
    cell('scatter-product', 'scatterplot', 12, 6, 12, 6),
  ]),
];

// the modules need an origin with storage: an empty page on loopback
const server = createServer((_, res) => res.end('<!doctype html><html><body></body></html>'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('pageerror', e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.addScriptTag({ path: require.resolve('@nebula.js/stardust/dist/stardust.js') });
  for (const m of modules) await page.addScriptTag({ path: require.resolve(`@nebula.js/${m}`) });
  const made = await page.evaluate(
    async ({ charts, modules }) => {
      const names = { 'sn-bar-chart': 'barchart', 'sn-line-chart': 'linechart', 'sn-pie-chart': 'piechart', 'sn-kpi': 'kpi', 'sn-table': 'table', 'sn-filter-pane': 'filterpane', 'sn-pivot-table': 'pivot-table', 'sn-combo-chart': 'combochart', 'sn-scatter-plot': 'scatterplot' };
      const types = modules.map((m) => ({ name: names[m], load: async () => window[m] }));
      const app = { id: 'example', session: { config: {} }, on() {}, getAppLayout: async () => ({ qLocaleInfo: {} }) };
      const n = window.stardust.embed(app, { types, context: { language: 'en-US' } });
      const res = [];
      for (const [id, type, title, fields, more, cube] of charts) {
        const p = await n.generateProperties({ type, fields, properties: { title, ...more } });
        Object.assign(p.qHyperCubeDef ?? {}, cube); // the module's cube with these settings
        p.qInfo = { qId: id, qType: type };
        res.push(p);
      }
      return res;
    },
    { charts, modules },
  );
  const lists = [listbox('list-region', 'Region'), listbox('list-year', 'Year')];
  // master items, for charts made in the hub
  const library = [
    { qInfo: { qId: 'master-region', qType: 'dimension' }, qDim: { qGrouping: 'N', qFieldDefs: ['Region'], qFieldLabels: ['Region'], title: 'Region' }, qMetaDef: { title: 'Region' } },
    { qInfo: { qId: 'master-sales', qType: 'measure' }, qMeasure: { qLabel: 'Sales', qDef: 'Sum(Amount)', qNumFormat: money }, qMetaDef: { title: 'Sales' } },
  ];
  // the modules give each dimension and measure a random cId: number them instead, so that
  // the file changes only when the charts do
  const numberIds = (v, id, n = { i: 0 }) => {
    if (Array.isArray(v)) v.forEach((x) => numberIds(x, id, n));
    else if (v && typeof v === 'object')
      for (const k of Object.keys(v)) {
        if (k === 'cId' && typeof v[k] === 'string') v[k] = `${id}-${n.i++}`;
        else numberIds(v[k], id, n);
      }
  };
  for (const p of made) numberIds(p, p.qInfo.qId);
  const trees = made.map((p) => {
    const kids = filterChildren[p.qInfo.qId];
    if (!kids) return p;
    const child = ([id, field]) => ({ qProperty: { ...listbox(id, field), visualization: 'listbox', qListObjectDef: { ...listbox(id, field).qListObjectDef, qShowAlternatives: true } }, qChildren: [] });
    return { qProperty: p, qChildren: kids.map(child) };
  });
  writeFileSync(out, `${JSON.stringify([...sheets, ...trees, ...lists, ...library], null, 1)}\n`);
  console.log(`wrote ${out}: ${sheets.length} sheets, ${made.length} charts, ${lists.length} lists, ${library.length} master items`);
} finally {
  await browser.close();
  server.close();
}
