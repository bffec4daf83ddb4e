// measure.mjs: the hub's side of bench/hub_run. A real node (tests/qix/site.js) with the
// example app reloaded at OUT/sales.qvs's size, published to Everyone; then Debian's
// chromium (playwright-core) measures, as a person would feel them:
//   sheet_cold_ms  sign-in (the form submitted) to every chart of the Overview sheet drawn,
//                  the app's first open on the node (it is read from the share);
//   sheet_ms       the same with the app already open on the node, new browser each time
//                  (no cached files, no session): median of 5; sheet_shown_ms and
//                  sheet_first_ms: when the sheet's cells were on the page, and when the
//                  first chart was drawn;
//   click_ms       a click on the bar "North" to every chart that follows it redrawn with
//                  the selection (the Orders KPI and the table with North's figures, the
//                  other KPIs and the other charts' axes changed): median of 3 (cleared between, and every chart redrawn
//                  without it); click_first_ms the first of them, the only one on a
//                  selection no session had made (the next are answered from the
//                  engine's cache);
//   confirm_ms     then a click on the chart's confirm button to the bar chart redrawn
//                  with North alone; both_ms from the first click to that;
//   *_still_ms     the same in a browser that asks for reduced motion.
//   node bench/hub/measure.mjs OUT
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { launchChromium } from '../../web/scripts/chromium.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(root, 'web/package.json'));
const { makeSite, destroySite, sleep } = require(path.join(root, 'tests/qix/site.js'));

const out = path.resolve(process.argv[2]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const site = await makeSite();
let browser;
try {
  const made = execFileSync(process.env.FATHOM, ['app', 'create', 'Sales example', '--dir', site.dir, '--script',
    path.join(out, 'sales.qvs'), '--objects', path.join(root, 'examples/sales/objects.json')], { encoding: 'utf8' });
  const app = /\(([0-9a-f-]{36})\)/.exec(made)[1];
  const t0 = process.hrtime.bigint();
  await site.api('POST', `/qrs/app/${app}/reload`);
  for (;;) {
    const a = await site.api('GET', `/qrs/app/${app}`);
    if (a.json?.lastReloadTime && !a.json.lastReloadTime.startsWith('1753')) break;
    await sleep(200);
  }
  console.log(`reload_s ${(ms(t0) / 1000).toFixed(2)}`);
  const stream = (await site.api('POST', '/qrs/stream', { name: 'Everyone' })).json.id;
  await site.api('PUT', `/qrs/app/${app}/publish?stream=${stream}`);
  browser = await launchChromium();
  const origin = `https://localhost:${site.proxyPort}`;
  const sheet = `${origin}/sense/app/${app}/sheet/sheet-overview`;

  async function openSheet(options = {}) {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 }, ...options });
    const page = await ctx.newPage();
    await page.goto(sheet);
    await page.fill('input[name=username]', 'admin');
    await page.fill('input[name=password]', site.adminPassword);
    const t = process.hrtime.bigint();
    await page.click('button[type=submit]');
    // where the time goes: the sheet's cells on the page (signed in, the hub's scripts
    // run, the app opened, its sheets read), then the first chart drawn
    await page.waitForSelector('.cell', { timeout: 120000 });
    const shown = ms(t);
    await page.waitForSelector('.cell[data-rendered=yes]', { timeout: 120000 });
    const first = ms(t);
    await page.waitForFunction(() => {
      const all = document.querySelectorAll('.cell');
      return all.length > 0 && [...all].every((c) => c.dataset.rendered === 'yes') &&
        /\d/.test(document.querySelector('[data-object-id=kpi-orders]')?.textContent ?? '');
    }, null, { polling: 'raf', timeout: 120000 });
    return { ctx, page, t: ms(t), shown, first };
  }

  const cold = await openSheet();
  console.log(`sheet_cold_ms ${cold.t.toFixed(0)}`);
  await cold.ctx.close();
  const warm = [];
  const phases = [];
  let last;
  for (let i = 0; i < 5; i++) {
    last?.ctx.close();
    last = await openSheet();
    warm.push(last.t);
    phases.push(last);
  }
  console.log(`sheet_ms ${median(warm).toFixed(0)}`);
  console.log(`sheet_runs ${warm.map((x) => x.toFixed(0)).join(',')}`);
  console.log(`sheet_shown_ms ${median(phases.map((p) => p.shown)).toFixed(0)}`);
  console.log(`sheet_first_ms ${median(phases.map((p) => p.first)).toFixed(0)}`);
  console.log(`charts ${await last.page.locator('.cell').count()}`);

  const orders = async (page) => (await page.locator('[data-object-id=kpi-orders]').innerText()).replace(/^Orders\s*/, '').trim();
  // Three clicks on the bar North, each cleared after. A click selects at once (the bar
  // chart is in selection mode, every other chart follows); the chart's confirm button
  // then ends the selection mode and the bar chart shows North alone. Each is timed from
  // its own input: the click to every other chart redrawn, the confirm to the bar chart
  // redrawn with North alone.
  async function clickRuns(page) {
    const before = await orders(page);
    // what shows of every chart that follows a click: the texts of the KPIs, the table and
    // the bar chart's axis; the line chart draws its axes too, so its pixels (a sum of
    // every 16th)
    const FOLLOW = ['kpi-sales', 'kpi-orders', 'kpi-quantity', 'table-country', 'bar-product', 'line-year'];
    // with `was`, whether every one has changed since and the Orders KPI and the table show
    // North's figures
    const look = ([ids, was, before]) => {
      const now = ids.map((id) => {
        const e = document.querySelector(`[data-object-id=${id}]`);
        if (id !== 'line-year') return e?.textContent ?? '';
        let sum = 0;
        for (const c of e?.querySelectorAll('canvas') ?? []) {
          if (!c.width || !c.height) continue;
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < d.length; i += 64) sum = (sum * 31 + d[i] + d[i + 1] + d[i + 2]) % 1000000007;
        }
        return String(sum);
      });
      if (!was) return now;
      const [k, tab] = [now[1], now[3]];
      return !k.includes(before) && /\d/.test(k) && tab.includes('Norway') && !tab.includes('Germany') && now.every((x, i) => x !== was[i]);
    };
    const texts = () => page.evaluate(look, [FOLLOW, null, null]);
    const runs = { click: [], confirm: [], both: [] };
    for (let i = 0; i < 3; i++) {
      await page.waitForSelector('[data-object-id=bar-region] canvas');
      await page.waitForFunction(() => /Central/.test(document.querySelector('[data-object-id=bar-region]')?.textContent ?? ''));
      await sleep(500);
      const label = await page.locator('[data-object-id=bar-region] svg text', { hasText: /^North$/ }).boundingBox();
      if (!label) throw new Error('no bar labelled North');
      const was = await texts();
      const t = process.hrtime.bigint();
      await page.mouse.click(label.x + label.width / 2, label.y - 30);
      await page.waitForFunction(look, [FOLLOW, was, before], { polling: 'raf', timeout: 300000 }).catch(async (err) => {
        const now = await texts();
        throw new Error(`${err.message}\nunchanged: ${FOLLOW.filter((id, i) => now[i] === was[i]).join(', ')}`);
      });
      runs.click.push(ms(t));
      const t2 = process.hrtime.bigint();
      await page.click('[data-testid=actions-toolbar-confirm]');
      await page.waitForFunction(() => {
        const bars = [...document.querySelectorAll('[data-object-id=bar-region] svg text')].map((t) => t.textContent);
        return bars.includes('North') && !bars.includes('Central');
      }, null, { polling: 'raf', timeout: 300000 });
      runs.confirm.push(ms(t2));
      runs.both.push(ms(t));
      await page.click('button[title="Clear all selections"]');
      await page.waitForFunction((b) => {
        const k = document.querySelector('[data-object-id=kpi-orders]')?.textContent ?? '';
        const tab = document.querySelector('[data-object-id=table-country]')?.textContent ?? '';
        const bars = [...document.querySelectorAll('[data-object-id=bar-region] svg text')].map((t) => t.textContent);
        return k.includes(b) && tab.includes('Germany') && bars.includes('Central');
      }, before, { timeout: 300000 });
    }
    return runs;
  }
  const fixed = (xs) => xs.map((x) => x.toFixed(0)).join(',');

  const runs = await clickRuns(last.page);
  console.log(`click_ms ${median(runs.click).toFixed(0)}`);
  console.log(`click_first_ms ${runs.click[0].toFixed(0)}`);
  console.log(`click_runs ${fixed(runs.click)}`);
  console.log(`confirm_ms ${median(runs.confirm).toFixed(0)}`);
  console.log(`confirm_runs ${fixed(runs.confirm)}`);
  console.log(`both_ms ${median(runs.both).toFixed(0)}`);
  await last.ctx.close();
  // the same in a browser that asks for reduced motion: the charts change without animating
  const calm = await openSheet({ reducedMotion: 'reduce' });
  const still = await clickRuns(calm.page);
  console.log(`click_still_ms ${median(still.click).toFixed(0)}`);
  console.log(`click_still_runs ${fixed(still.click)}`);
  console.log(`confirm_still_ms ${median(still.confirm).toFixed(0)}`);
  console.log(`confirm_still_runs ${fixed(still.confirm)}`);
  await calm.ctx.close();
} finally {
  await browser?.close();
  await destroySite(site);
}
