// sheet.js: DuckDB's side of the hub benchmark (bench/hub_run): the example app's data
// (examples/sales/sales.qvs) made by the same formulas from a range of row numbers, then
// the queries the Overview sheet's charts need (three KPIs, two lists, two bar charts, a
// line and a table), all of them, with no selection and with Region = North: the least
// work any engine does to draw that sheet. Median of 5 each; prints "name value" lines.
//
//   node sheet.js ROWS [THREADS]
'use strict';

const { DuckDBInstance } = require('@duckdb/node-api');

const SHEET = [
  'SELECT sum(Amount) FROM v',
  'SELECT count(OrderId) FROM v',
  'SELECT sum(Quantity) FROM v',
  'SELECT DISTINCT Region FROM v',
  'SELECT DISTINCT Year FROM v',
  'SELECT Region, sum(Amount) FROM v GROUP BY Region',
  'SELECT Year, sum(Amount) FROM v GROUP BY Year',
  'SELECT Product, sum(Amount) FROM v GROUP BY Product',
  'SELECT Country, Region, sum(Amount), sum(Quantity) FROM v GROUP BY Country, Region',
];

async function main() {
  const rows = Number(process.argv[2] || 10000000);
  const db = await DuckDBInstance.create(':memory:', { threads: String(process.argv[3] || 2) });
  const conn = await db.connect();
  const t0 = process.hrtime.bigint();
  await conn.run(`CREATE TABLE sales AS SELECT r AS OrderId,
      ['NO','DE','ES','PL','GB'][r % 5 + 1] AS CountryCode,
      ['Anchor','Buoy','Compass','Dinghy','Ensign','Flare','Galley'][(r // 5) % 7 + 1] AS Product,
      2021 + (r // 35) % 5 AS Year,
      ((r * 7919) % 997 + 50) * [3,2,5,1,4,2,3][(r // 5) % 7 + 1] + 40 * ((r // 35) % 5) + 25 * (r % 5) AS Amount,
      r % 9 + 1 AS Quantity
    FROM range(1, ${rows + 1}) t(r)`);
  await conn.run(`CREATE TABLE countries AS SELECT * FROM (VALUES
      ('NO','Norway','North'), ('DE','Germany','Central'), ('ES','Spain','South'),
      ('PL','Poland','Central'), ('GB','United Kingdom','North')) c(CountryCode, Country, Region)`);
  console.log(`make_s ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)}`);
  const total = await conn.runAndReadAll('SELECT sum(Amount) FROM sales');
  console.log(`sales_total ${total.getRows()[0][0]}`);
  for (const [name, where] of [['sheet_ms', ''], ['north_ms', "WHERE c.Region = 'North'"]]) {
    await conn.run(`CREATE OR REPLACE VIEW v AS SELECT s.*, c.Country, c.Region FROM sales s JOIN countries c USING (CountryCode) ${where}`);
    const times = [];
    for (let i = 0; i < 5; i++) {
      const s = process.hrtime.bigint();
      for (const q of SHEET) await conn.runAndReadAll(q);
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
    times.sort((a, b) => a - b);
    console.log(`${name} ${times[2].toFixed(1)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
