// Writes examples/sales/objects.json, the sheets and charts of the example app that `make
// demo` and the hub's tests use, and examples/monitoring/site-logs.objects.json, those of
// the monitoring app (`fathom monitoring`, which has them built in). Each chart's properties are the full tree that its
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
const modules = ['sn-bar-chart', 'sn-line-chart', 'sn-pie-chart', 'sn-kpi', 'sn-table', 'sn-filter-pane', 'sn-pivot-table', 'sn-combo-chart', 'sn-scatter-plot'];

const money = { qType: 'F', qnDec: 0, qUseThou: 1, qFmt: '#,##0', qDec: '.', qThou: ',' };
const fixed = (dec) => ({ qType: 'F', qnDec: dec, qUseThou: 1, qFmt: dec ? `#,##0.${'0'.repeat(dec)}` : '#,##0', qDec: '.', qThou: ',' });
const percent = { qType: 'F', qnDec: 1, qUseThou: 0, qFmt: '0.0%', qDec: '.', qThou: ',' };
const dim = (f, label = f) => ({ qDef: { qFieldDefs: [f], qFieldLabels: [label] } });
const mea = (expr, label, fmt) => ({ qDef: { qDef: expr, qLabel: label, ...(fmt ? { qNumFormat: fmt } : {}) } });
const sales = mea('Sum(Amount)', 'Sales', money);

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

// Each example: where it goes, its charts ([id, type, title, fields, more properties, more
// of the cube]), the list boxes of its filter panes, its sheets, its list boxes and its
// master items.
const examples = [
  {
    out: '../../examples/sales/objects.json',
    charts: [
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
    ],
    filterChildren: { 'filter-products': [['filter-product', 'Product'], ['filter-country', 'Country']] },
    sheets: [
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
    ],
    lists: [listbox('list-region', 'Region'), listbox('list-year', 'Year')],
    // master items, for charts made in the hub
    library: [
      { qInfo: { qId: 'master-region', qType: 'dimension' }, qDim: { qGrouping: 'N', qFieldDefs: ['Region'], qFieldLabels: ['Region'], title: 'Region' }, qMetaDef: { title: 'Region' } },
      { qInfo: { qId: 'master-sales', qType: 'measure' }, qMeasure: { qLabel: 'Sales', qDef: 'Sum(Amount)', qNumFormat: money }, qMetaDef: { title: 'Sales' } },
    ],
  },
  {
    // the monitoring app's sheets, over the tables of examples/monitoring/site-logs.qvs
    out: '../../examples/monitoring/site-logs.objects.json',
    charts: [
      ['kpi-reloads', 'kpi', 'Reloads', [mea('Count(ReloadAt)', 'Reloads', fixed(0))]],
      ['kpi-reload-seconds', 'kpi', 'Average reload', [mea('Avg(ReloadSeconds)', 'Average reload (s)', fixed(2))]],
      ['kpi-task-success', 'kpi', 'Task executions that succeeded', [mea('Sum(ExecutionSucceeded) / Count(ExecutionAt)', 'Executions that succeeded', percent)]],
      ['kpi-executions', 'kpi', 'Task executions', [mea('Count(ExecutionAt)', 'Executions', fixed(0))]],
      ['bar-reload-app', 'barchart', 'Reload time by app', [dim('AppId', 'App'), mea('Max(ReloadSeconds)', 'Longest (s)', fixed(2)), mea('Avg(ReloadSeconds)', 'Average (s)', fixed(2))]],
      ['bar-execution-result', 'barchart', 'Task executions by result', [dim('ExecutionResult', 'Result'), mea('Count(ExecutionAt)', 'Executions', fixed(0))]],
      ['table-reloads', 'table', 'Reloads by app and node', [dim('AppId', 'App'), dim('Node'), mea('Count(ReloadAt)', 'Reloads', fixed(0)), mea('Avg(ReloadSeconds)', 'Average (s)', fixed(2)), mea('Max(ReloadSeconds)', 'Longest (s)', fixed(2))]],
      ['table-tasks', 'table', 'Tasks', [dim('TaskId', 'Task'), dim('ExecutionAppId', 'App'), mea('Count(ExecutionAt)', 'Executions', fixed(0)), mea('Sum(ExecutionSucceeded) / Count(ExecutionAt)', 'Succeeded', percent), mea('Avg(ExecutionSeconds)', 'Average (s)', fixed(2))]],
      ['kpi-nodes', 'kpi', 'Nodes', [mea('Count(DISTINCT Node)', 'Nodes', fixed(0))]],
      ['kpi-resident', 'kpi', 'Largest resident memory (MiB)', [mea('Max(ResidentMiB)', 'Largest resident MiB', fixed(0))]],
      ['kpi-sessions', 'kpi', 'Most engine sessions', [mea('Max(EngineSessions)', 'Most engine sessions', fixed(0))]],
      ['line-resident', 'linechart', 'Resident memory by node (MiB)', [dim('StatsMinute', 'Time'), dim('Node'), mea('Max(ResidentMiB)', 'MiB', fixed(0))]],
      ['line-sessions', 'linechart', 'Engine sessions by node', [dim('StatsMinute', 'Time'), dim('Node'), mea('Max(EngineSessions)', 'Sessions', fixed(0))]],
      ['table-nodes', 'table', 'Nodes', [dim('Node'), mea("Timestamp(Max(StartedAt), 'YYYY-MM-DD hh:mm:ss')", 'Last start'), mea('Count(StartedAt)', 'Starts', fixed(0)), mea('Max(AppsLoaded)', 'Most apps loaded', fixed(0)), mea('Max(AppsMiB)', 'Most app MiB', fixed(0))]],
      ['kpi-requests', 'kpi', 'Requests', [mea('Count(RequestAt)', 'Requests', fixed(0))]],
      ['kpi-server-errors', 'kpi', 'Answered with a server error', [mea('Sum(ServerError) / Count(RequestAt)', 'Answered with a server error', percent)]],
      ['kpi-sign-ins', 'kpi', 'Sign-ins', [mea('Count(SignInAt)', 'Sign-ins', fixed(0))]],
      ['table-routes', 'table', 'Requests by route', [dim('RequestService', 'Service'), dim('Method'), dim('Route'), mea('Count(RequestAt)', 'Requests', fixed(0)), mea('Avg(RequestMs)', 'Average ms', fixed(1)), mea('Max(RequestMs)', 'Longest ms', fixed(1)), mea('Sum(ServerError)', 'Server errors', fixed(0))]],
      ['bar-status', 'barchart', 'Requests by status', [dim('Status'), mea('Count(RequestAt)', 'Requests', fixed(0))]],
      ['bar-sign-ins', 'barchart', 'Sign-ins by person', [dim('SignInUser', 'Person'), mea('Count(SignInAt)', 'Sign-ins', fixed(0))]],
      ['kpi-changes', 'kpi', 'Changes', [mea('Count(ChangeAt) - Sum(Refused)', 'Changes', fixed(0))]],
      ['kpi-refused', 'kpi', 'Refused', [mea('Sum(Refused)', 'Refused (403)', fixed(0))]],
      ['bar-changed-by', 'barchart', 'Changes and refusals by person', [dim('ChangedBy', 'Person'), mea('Count(ChangeAt) - Sum(Refused)', 'Changes', fixed(0)), mea('Sum(Refused)', 'Refused', fixed(0))]],
      ['table-changes', 'table', 'Every change and refusal', [dim('ChangeAt', 'Time'), dim('ChangedBy', 'Person'), dim('ChangeMethod', 'Method'), dim('ChangePath', 'Path'), dim('ChangeStatus', 'Status'), mea('Count(ChangeAt)', 'Count', fixed(0))]],
      ['bar-level', 'barchart', 'Log lines by level', [dim('Level'), mea('Count(At)', 'Lines', fixed(0))]],
      ['table-log', 'table', 'Log lines (pick a level in Filters)', [dim('At', 'Time'), dim('Node'), dim('Level'), dim('Service'), dim('Message'), mea('Count(At)', 'Lines', fixed(0))]],
      ['filter-log', 'filterpane', 'Filters', []],
    ],
    filterChildren: { 'filter-log': [['filter-log-node', 'Node'], ['filter-log-level', 'Level'], ['filter-log-service', 'Service'], ['filter-log-day', 'Day']] },
    sheets: [
      sheet('sheet-reloads', 'Reloads and tasks', 0, [
        cell('kpi-reloads', 'kpi', 0, 0, 5, 2),
        cell('kpi-reload-seconds', 'kpi', 5, 0, 5, 2),
        cell('kpi-executions', 'kpi', 10, 0, 5, 2),
        cell('kpi-task-success', 'kpi', 15, 0, 5, 2),
        cell('list-node-reloads', 'listbox', 20, 0, 4, 6),
        cell('bar-reload-app', 'barchart', 0, 2, 12, 4),
        cell('bar-execution-result', 'barchart', 12, 2, 8, 4),
        cell('table-reloads', 'table', 0, 6, 12, 6),
        cell('table-tasks', 'table', 12, 6, 12, 6),
      ]),
      sheet('sheet-nodes', 'Nodes', 1, [
        cell('kpi-nodes', 'kpi', 0, 0, 6, 2),
        cell('kpi-resident', 'kpi', 6, 0, 6, 2),
        cell('kpi-sessions', 'kpi', 12, 0, 6, 2),
        cell('list-node-nodes', 'listbox', 18, 0, 6, 6),
        cell('line-resident', 'linechart', 0, 2, 9, 5),
        cell('line-sessions', 'linechart', 9, 2, 9, 5),
        cell('table-nodes', 'table', 0, 7, 24, 5),
      ]),
      sheet('sheet-requests', 'Requests and sign-ins', 2, [
        cell('kpi-requests', 'kpi', 0, 0, 8, 2),
        cell('kpi-server-errors', 'kpi', 8, 0, 8, 2),
        cell('kpi-sign-ins', 'kpi', 16, 0, 8, 2),
        cell('bar-status', 'barchart', 0, 2, 12, 4),
        cell('bar-sign-ins', 'barchart', 12, 2, 12, 4),
        cell('table-routes', 'table', 0, 6, 24, 6),
      ]),
      sheet('sheet-changes', 'Changes (audit)', 3, [
        cell('kpi-changes', 'kpi', 0, 0, 6, 2),
        cell('kpi-refused', 'kpi', 6, 0, 6, 2),
        cell('bar-changed-by', 'barchart', 12, 0, 12, 4),
        cell('table-changes', 'table', 0, 4, 24, 8),
      ]),
      sheet('sheet-log', 'Log', 4, [
        cell('bar-level', 'barchart', 0, 0, 10, 4),
        cell('filter-log', 'filterpane', 10, 0, 14, 4),
        cell('table-log', 'table', 0, 4, 24, 8),
      ]),
    ],
    lists: [listbox('list-node-reloads', 'Node'), listbox('list-node-nodes', 'Node')],
    library: [],
  },
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
  for (const ex of examples) {
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
      { charts: ex.charts, modules },
    );
    // the modules give each dimension and measure a random cId: number them instead, so
    // that the file changes only when the charts do
    const numberIds = (v, id, n = { i: 0 }) => {
      if (Array.isArray(v)) v.forEach((x) => numberIds(x, id, n));
      else if (v && typeof v === 'object')
        for (const k of Object.keys(v)) {
          if (k === 'cId' && typeof v[k] === 'string') v[k] = `${id}-${n.i++}`;
          else numberIds(v[k], id, n);
        }
    };
    for (const p of made) numberIds(p, p.qInfo.qId);
    // a filter pane's list boxes are its children, as the filter pane makes them
    const trees = made.map((p) => {
      const kids = ex.filterChildren[p.qInfo.qId];
      if (!kids) return p;
      const child = ([id, field]) => ({ qProperty: { ...listbox(id, field), visualization: 'listbox', qListObjectDef: { ...listbox(id, field).qListObjectDef, qShowAlternatives: true } }, qChildren: [] });
      return { qProperty: p, qChildren: kids.map(child) };
    });
    const out = resolve(here, ex.out);
    writeFileSync(out, `${JSON.stringify([...ex.sheets, ...trees, ...ex.lists, ...ex.library], null, 1)}\n`);
    console.log(`wrote ${out}: ${ex.sheets.length} sheets, ${made.length} charts, ${ex.lists.length} lists, ${ex.library.length} master items`);
  }
} finally {
  await browser.close();
  server.close();
}
