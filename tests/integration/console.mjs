// console.mjs: the browser's side of console.bats. Signs in at node1's proxy as the
// administrator and, on the console's Nodes page: node2 asks to join (`fathom node join`
// without a password), the page shows it waiting, Approve shows its one-time password,
// node2 finishes its join with it and starts, the page shows it Running, Make central moves
// the central role to it; then node3 is added and approved from the form. Prints
// "password3 <password>" for the suite to use. Environment: FATHOM, D2, SH, DB_URL, PX1,
// ADMIN_PW, JOIN_ARGS, ALLOW_ROOT; screenshots in $FATHOM_TEST_OUT/console if set.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { launchChromium } from '../../web/scripts/chromium.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(root, 'web/package.json'));
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const env = process.env;
const join = env.JOIN_ARGS.split(' ').filter(Boolean);
const fathom = (...args) => execFileSync(env.FATHOM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const shots = env.FATHOM_TEST_OUT ? path.join(env.FATHOM_TEST_OUT, 'console') : null;
if (shots) fs.mkdirSync(shots, { recursive: true });

const browser = await launchChromium();
let page;
try {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1360, height: 900 } });
  page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => d.accept());
  const origin = `https://localhost:${env.PX1}`;
  await page.goto(`${origin}/qmc/nodes`);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', env.ADMIN_PW);
  await page.click('button[type=submit]');
  await page.waitForSelector('table[aria-label="Nodes"] td:text-is("node1")');

  const row = (name) => `table[aria-label="Nodes"] tr:has(td:first-child:text-is("${name}"))`;
  const cell = async (name, n) => (await page.textContent(`${row(name)} td:nth-child(${n})`)).trim();
  /** Refreshes the page's list until node `name`'s status starts with `want`. */
  const until = async (name, want, col = 4) => {
    for (let i = 0; i < 150; i++) {
      await page.click('.page-head button:text-is("Refresh")');
      await page.waitForTimeout(200);
      if ((await page.$(row(name))) && (await cell(name, col)).startsWith(want)) return;
    }
    throw new Error(`${name}: "${(await page.$(row(name))) ? await cell(name, col) : 'no row'}", not "${want}"`);
  };

  // node2 asks to join, and waits
  fathom('node', 'join', '--dir', env.D2, '--share', env.SH, '--db', env.DB_URL, '--name', 'node2', ...join);
  await until('node2', 'Waiting for approval');
  await page.click(`${row('node2')} button:text-is("Approve")`);
  const pw = (await page.waitForSelector('pre[aria-label="One-time password for node2"]').then((e) => e.textContent())).trim();
  assert.ok(pw.length >= 16, pw);
  if (shots) await page.screenshot({ path: path.join(shots, '1-approved.png'), fullPage: true });
  await until('node2', 'Approved, joining');

  // node2 finishes with the password, starts, and runs
  fathom('node', 'join', '--dir', env.D2, '--password', pw);
  const args = ['run', '--dir', env.D2, '--heartbeat-interval', '1', ...(env.ALLOW_ROOT ? [env.ALLOW_ROOT] : [])];
  const log = fs.openSync(path.join(env.D2, 'stderr.log'), 'a');
  const child = spawn(env.FATHOM, args, { stdio: ['ignore', log, log], detached: true });
  fs.writeFileSync(path.join(env.D2, 'pid'), String(child.pid));
  child.unref();
  await until('node2', 'Running');

  // node2 made a failover candidate, then given the central role
  assert.equal(await cell('node1', 5), 'Central');
  assert.equal(await cell('node2', 6), 'no');
  assert.equal(await page.$(`${row('node2')} button:text-is("Make central")`), null);
  await page.click(`${row('node2')} button:text-is("Make candidate")`);
  await page.waitForSelector('.notice.ok:text-is("node2 may now take the central role.")');
  assert.equal(await cell('node2', 6), 'yes');
  await page.click(`${row('node2')} button:text-is("Make central")`);
  await page.waitForSelector('.notice.ok:text-is("The central role moves to node2.")');
  await until('node2', 'Central', 5);
  assert.equal(await cell('node1', 5), '');
  if (shots) await page.screenshot({ path: path.join(shots, '2-central.png'), fullPage: true });

  // the health page: the database's connections against max_connections, as PostgreSQL counts them
  await page.click('nav#side a:text-is("Health")');
  const db = await page.waitForSelector('dl.facts dt:text-is("Database") + dd').then((e) => e.textContent());
  const m = /^PostgreSQL: (\d+) of (\d+) connections in use; standbys: none$/.exec(db);
  assert.ok(m, db);
  console.log(`connections ${m[1]} ${m[2]}`);
  // the service cluster: the database as far as it is safe to show, never its password
  await page.click('nav#side a:text-is("Service cluster")');
  const conn = await page.waitForSelector('dl.facts dt:text-is("This node reaches") + dd').then((e) => e.textContent());
  assert.match(conn, new RegExp(`^PostgreSQL: .*127\\.0\\.0\\.1.*${new URL(env.DB_URL).port}`));
  assert.ok(!conn.includes('secret'), conn);
  await page.click('nav#side a:text-is("Nodes")');
  await page.waitForSelector('table[aria-label="Nodes"] td:text-is("node2")');

  // node3 added and approved from the form
  await page.fill('input[name=newNode]', 'node3');
  await page.fill('input[name=newHost]', 'localhost');
  await page.click('form[aria-label="Add a node"] button[type=submit]');
  const pw3 = (await page.waitForSelector('pre[aria-label="One-time password for node3"]').then((e) => e.textContent())).trim();
  await until('node3', 'Approved, joining');
  // node4 added, then removed: its row goes, and the node the page runs on offers no Remove
  await page.fill('input[name=newNode]', 'node4');
  await page.fill('input[name=newHost]', 'localhost');
  await page.click('form[aria-label="Add a node"] button[type=submit]');
  await page.waitForSelector('pre[aria-label="One-time password for node4"]');
  await until('node4', 'Approved, joining');
  assert.equal(await page.$(`${row('node1')} button:text-is("Remove")`), null);
  assert.equal(await page.$(`${row('node2')} button:text-is("Remove")`), null); /* central */
  await page.click(`${row('node4')} button:text-is("Remove")`);
  await page.waitForSelector('.notice.ok:text-is("node4 is removed; the other nodes refuse its certificates.")');
  assert.equal(await page.$(row('node4')), null);
  await page.evaluate(axeSource);
  const bad = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id));
  assert.deepEqual(bad, []);
  assert.deepEqual(errors, []);
  console.log(`password3 ${pw3}`);
} catch (err) {
  if (shots && page) await page.screenshot({ path: path.join(shots, 'failed.png'), fullPage: true }).catch(() => {});
  throw err;
} finally {
  await browser.close();
}
