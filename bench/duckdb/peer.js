// peer.js: DuckDB's side of the engine benchmark, on the same CSV in the same run.
//
//   node peer.js SALES_CSV THREADS
//   node peer.js SALES_CSV THREADS DBFILE
//
// With PEER_LOAD_ONLY=1 in the environment: only the load (in memory), printing load_s
// and peak_mib (engine_run takes turns with Fathom's reload so).
//
// With DBFILE: only the load, into a database file instead (ATTACH it, CREATE TABLE AS
// SELECT * FROM read_csv, DETACH, which checkpoints: the table is on disk, as Fathom's
// reload ends with the app file written). Prints load_s and peak_mib.
//
// Loads the CSV into an in-memory table (CREATE TABLE AS SELECT * FROM read_csv), then
// runs the hypercube's GROUP BY (region x channel, Sum(amount), Count(DISTINCT customer)),
// a KPI's sum(amount) and a bar chart's sum(amount) by region, each without a selection and
// with three products (median of 10 each). Prints "name value" lines: load seconds, peak
// memory of the process in MiB, the loaded table's memory (duckdb_memory()) and the
// process's resident memory in MiB, and milliseconds per query.
'use strict';

const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [csv, threads, file] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
  const conn = await db.connect();
  const quoted = (s) => `'${s.replace(/'/g, "''")}'`;
  if (file) {
    const t0 = process.hrtime.bigint();
    await conn.run(`ATTACH ${quoted(file)} AS f`);
    await conn.run(`CREATE TABLE f.sales AS SELECT * FROM read_csv(${quoted(csv)})`);
    await conn.run('DETACH f');
    console.log(`load_s ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)}`);
    console.log(`peak_mib ${Math.round(process.resourceUsage().maxRSS / 1024)}`);
    return;
  }
  const t0 = process.hrtime.bigint();
  await conn.run(`CREATE TABLE sales AS SELECT * FROM read_csv('${csv.replace(/'/g, "''")}')`);
  const load = Number(process.hrtime.bigint() - t0) / 1e9;
  if (process.env.PEER_LOAD_ONLY === '1') {
    console.log(`load_s ${load.toFixed(2)}`);
    console.log(`peak_mib ${Math.round(process.resourceUsage().maxRSS / 1024)}`);
    return;
  }
  const count = await conn.runAndReadAll('SELECT count(*) FROM sales');
  console.log(`load_s ${load.toFixed(2)}`);
  console.log(`rows ${count.getRows()[0][0]}`);
  console.log(`peak_mib ${Math.round(process.resourceUsage().maxRSS / 1024)}`);
  // the table's memory as DuckDB counts it, and the process's once loaded
  const mem = await conn.runAndReadAll('SELECT sum(memory_usage_bytes) FROM duckdb_memory()');
  console.log(`table_mib ${Math.round(Number(mem.getRows()[0][0]) / 1048576)}`);
  console.log(`rss_mib ${Math.round(process.memoryUsage().rss / 1048576)}`);
  const queries = {
    cube: (where) => `SELECT region, channel, sum(amount), count(DISTINCT customer) FROM sales ${where} GROUP BY region, channel`,
    cube_kpi: (where) => `SELECT sum(amount) FROM sales ${where}`,
    cube_bar: (where) => `SELECT region, sum(amount) FROM sales ${where} GROUP BY region`,
  };
  const runs = [];
  for (const [sel, where] of [['all', ''], ['three', "WHERE product IN ('P0001', 'P0002', 'P0003')"]])
    for (const [kind, q] of Object.entries(queries)) runs.push([`${kind}_${sel}`, () => q(where)]);
  for (const [name, q] of runs) {
    const times = [];
    let rows = 0;
    for (let i = 0; i < 10; i++) {
      const s = process.hrtime.bigint();
      const r = await conn.runAndReadAll(q());
      times.push(Number(process.hrtime.bigint() - s) / 1e6);
      rows = r.getRows().length;
    }
    times.sort((a, b) => a - b);
    console.log(`${name}_ms ${times[5].toFixed(2)}`);
    console.log(`${name}_rows ${rows}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
