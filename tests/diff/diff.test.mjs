// diff.test.mjs: the engine's hypercubes against DuckDB's GROUP BY on the same generated
// sales rows (bench/gen_sales), on random queries: dimensions, Sum, Count, Count DISTINCT,
// Avg, Min, Max, Count(*) and expressions the engine evaluates group by group, without a
// selection and with random products, regions and channels selected. Enough rows
// (1,200,000) that the engine computes the one-pass cubes in two parts on two threads.
//
//   FATHOM=build/fathom GEN_SALES=build/gen_sales ENGINE_QUERY=build/engine_query \
//     node --test tests/diff/diff.test.mjs
//
// DuckDB is the npm package of the engine benchmark's peer (bench/duckdb, installed by
// scripts/deps.sh). DIFF_ROWS and DIFF_QUERIES change the sizes; DIFF_SEED the queries.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../bench/duckdb/package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');

const ROWS = Number(process.env.DIFF_ROWS ?? 1200000);
const QUERIES = Number(process.env.DIFF_QUERIES ?? 150);
let seed = Number(process.env.DIFF_SEED ?? 20261206);
const bin = (name) => process.env[name] ?? path.join(path.dirname(process.env.FATHOM ?? 'build/fathom'), name.toLowerCase());

/** A small seeded generator, so a failing query can be run again. */
function rand(n) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return Math.floor((seed / 2147483648) * n);
}
const pick = (list) => list[rand(list.length)];
function some(list, most) {
  const out = new Set();
  for (let i = 0, n = 1 + rand(most); i < n; i++) out.add(pick(list));
  return [...out];
}

// the engine's measure and DuckDB's for it
const MEASURES = [
  ['Sum(amount)', 'sum(amount)'],
  ['Count(amount)', 'count(amount)'],
  ['Count(DISTINCT customer)', 'count(DISTINCT customer)'],
  ['Count(DISTINCT product)', 'count(DISTINCT product)'],
  ['Avg(amount)', 'avg(amount)'],
  ['Min(amount)', 'min(amount)'],
  ['Max(amount)', 'max(amount)'],
  ['Count(*)', 'count(*)'],
  ['Sum(quantity)', 'sum(quantity)'],
  ['Sum(amount * quantity)', 'sum(amount * quantity)'],
  ['Sum(amount) / Count(amount)', 'sum(amount) / count(amount)'],
  ['Max(quantity) - Min(quantity)', 'max(quantity) - min(quantity)'],
];
// dimensions, and the pairs of them small enough to list
const ONE = ['region', 'channel', 'product', 'quantity', 'date'];
const TWO = [['region', 'channel'], ['channel', 'region'], ['region', 'quantity'], ['quantity', 'channel'], ['region', 'product']];
const PRODUCTS = Array.from({ length: 2000 }, (_, i) => `P${String(i + 1).padStart(4, '0')}`);
const REGIONS = ['North', 'South', 'East', 'West', 'Central'];
const CHANNELS = Array.from({ length: 37 }, (_, i) => `Channel ${String(i + 1).padStart(2, '0')}`);

function query() {
  const d = rand(3);
  const dims = d === 0 ? [] : d === 1 ? [pick(ONE)] : pick(TWO);
  const measures = some(MEASURES, 3);
  const select = {};
  const s = rand(5);
  if (s === 1 || s === 3) select.product = some(PRODUCTS, 5);
  if (s === 2 || s === 3) select.region = some(REGIONS, 2);
  if (s === 4) select.channel = some(CHANNELS, 3);
  return { dims, measures, select };
}

function sql(q) {
  const dims = q.dims.map((f) => `CAST("${f}" AS VARCHAR)`);
  const where = Object.entries(q.select)
    .map(([f, vs]) => `"${f}" IN (${vs.map((v) => `'${v}'`).join(', ')})`)
    .join(' AND ');
  const cols = [...dims, ...q.measures.map(([, m]) => m)].join(', ');
  return `SELECT ${cols} FROM sales${where ? ` WHERE ${where}` : ''}${dims.length ? ` GROUP BY ${dims.join(', ')}` : ''}`;
}

/** Rows as a map from their dimensions' texts to their measures. */
function byKey(rows, nd) {
  const m = new Map();
  for (const r of rows) m.set(JSON.stringify(r.slice(0, nd).map(String)), r.slice(nd).map((v) => (v === null ? null : Number(v))));
  return m;
}

const close = (a, b) => (a === null || b === null ? a === b : Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)));

test(`the engine's cubes equal DuckDB's on ${QUERIES} random queries over ${ROWS} rows`, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'diff-'));
  try {
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    execFileSync(bin('GEN_SALES'), [data, String(ROWS)]);
    const fmt = "(txt, utf8, embedded labels, delimiter is ',')";
    fs.writeFileSync(path.join(dir, 'one.qvs'), `Sales: LOAD * FROM [lib://Data/sales.csv] ${fmt};\n`);
    const fathom = process.env.FATHOM ?? 'build/fathom';
    execFileSync(fathom, ['app', 'file', '--script', path.join(dir, 'one.qvs'), '--out', path.join(dir, 'one.fapp')]);
    execFileSync(fathom, ['reload-worker', '--in', path.join(dir, 'one.fapp'), '--out', path.join(dir, 'app.fapp'),
      '--log', path.join(dir, 'reload.log'), '--connection', `Data=${data}`]);

    const queries = Array.from({ length: QUERIES }, query);
    const lines = queries.map((q) => JSON.stringify({ dims: q.dims, measures: q.measures.map(([m]) => m), select: q.select }));
    const out = execFileSync(bin('ENGINE_QUERY'), [path.join(dir, 'app.fapp')], {
      input: `${lines.join('\n')}\n`, maxBuffer: 1 << 30,
    }).toString().trim().split('\n');
    assert.equal(out.length, queries.length);

    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const conn = await db.connect();
    await conn.run(`CREATE TABLE sales AS SELECT * FROM read_csv('${path.join(data, 'sales.csv')}')`);
    let rowsCompared = 0;
    for (let i = 0; i < queries.length; i++) {
      const q = queries[i];
      const mine = JSON.parse(out[i]);
      assert.ok(Array.isArray(mine), `query ${i} (${lines[i]}): the engine answered ${out[i]}`);
      const theirs = (await conn.runAndReadAll(sql(q))).getRows();
      const a = byKey(mine, q.dims.length);
      const b = byKey(theirs, q.dims.length);
      assert.equal(a.size, b.size, `query ${i} (${lines[i]}): ${a.size} rows, DuckDB ${b.size}`);
      for (const [k, vs] of b) {
        const got = a.get(k);
        assert.ok(got, `query ${i} (${lines[i]}): no row ${k}`);
        vs.forEach((v, j) => assert.ok(close(got[j], v),
          `query ${i} (${lines[i]}), row ${k}, ${q.measures[j][0]}: ${got[j]}, DuckDB ${v}`));
      }
      rowsCompared += b.size;
    }
    assert.ok(rowsCompared > QUERIES, `only ${rowsCompared} rows compared`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
