// measure.mjs: the console's side of bench/qmc_run. A real node (tests/qix/site.js) with N
// apps (POST /qrs/app, 8 at a time), then Debian's chromium (playwright-core), signed in as
// the administrator:
//   first_rows_ms  navigation to {prefix}/qmc/apps to the first page of rows on the screen
//                  (a new page each time, the browser's files cached as a returning
//                  administrator's are): median of 5;
//   page_ms        the page's own POST /qrs/app/table, as the browser timed it (request
//                  sent to answer read): median of the same 5;
//   curl_ms        the same request (the same body, through the proxy with the same
//                  session cookie) made with curl: median of 5;
//   service_ms     the same request made with curl straight to the repository with the
//                  site's client certificate (no security rules to apply): median of 5;
//   next_ms        a click on Next to the second page shown: median of 5.
//   node bench/qmc/measure.mjs OUT N
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { launchChromium } from '../../web/scripts/chromium.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const require = createRequire(path.join(root, 'web/package.json'));
const { makeSite, destroySite } = require(path.join(root, 'tests/qix/site.js'));

const out = path.resolve(process.argv[2]);
const N = Number(process.argv[3] ?? 10000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

const site = await makeSite();
let browser;
try {
  const t0 = process.hrtime.bigint();
  let next = 0;
  const worker = async () => {
    for (let i; (i = next++) < N;) {
      const r = await site.api('POST', '/qrs/app', { name: `App ${String(i).padStart(5, '0')}` });
      if (r.status !== 201) throw new Error(`POST /qrs/app: ${r.status} ${r.text}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  console.log(`apps ${N}`);
  console.log(`create_s ${(ms(t0) / 1000).toFixed(1)}`);

  browser = await launchChromium();
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1360, height: 900 } });
  const origin = `https://localhost:${site.proxyPort}`;
  const signin = await ctx.newPage();
  await signin.goto(`${origin}/qmc/`);
  await signin.fill('input[name=username]', 'admin');
  await signin.fill('input[name=password]', site.adminPassword);
  await signin.click('button[type=submit]');
  await signin.waitForSelector('table[aria-label="Apps"] tbody tr[data-id]');
  await signin.close();
  const cookie = (await ctx.cookies()).find((c) => c.name === 'X-Qlik-Session');

  const first = [];
  const pageCall = [];
  const nextPage = [];
  let body = null;
  let query = null;
  for (let run = 0; run < 5; run++) {
    const page = await ctx.newPage();
    page.on('request', (req) => {
      if (req.method() === 'POST' && req.url().includes('/qrs/app/table')) {
        body = req.postData();
        query = new URL(req.url()).search;
      }
    });
    const t = process.hrtime.bigint();
    await page.goto(`${origin}/qmc/apps`);
    await page.waitForSelector('table[aria-label="Apps"] tbody tr[data-id]');
    first.push(ms(t));
    pageCall.push(await page.evaluate(() => {
      const e = performance.getEntriesByType('resource').filter((r) => r.name.includes('/qrs/app/table')).pop();
      return e.responseEnd - e.requestStart;
    }));
    const shown = await page.textContent('.count');
    if (!shown.endsWith(`of ${N.toLocaleString('en-US')}`)) throw new Error(`the list says ${shown}`);
    const t2 = process.hrtime.bigint();
    await page.click('button:text-is("Next")');
    await page.waitForSelector('.count:text-matches("^51")');
    nextPage.push(ms(t2));
    await page.close();
  }
  fs.writeFileSync(path.join(out, 'table.json'), body);
  const curl = (args) => {
    const r = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total} %{http_code}',
      '-X', 'POST', '-H', 'Content-Type: application/json', '--data-binary', `@${path.join(out, 'table.json')}`,
      '-H', 'X-Qlik-Xrfkey: abcdefghijklmnop', ...args], { encoding: 'utf8' }).split(' ');
    if (r[2] !== '201') throw new Error(`curl: ${r[2]}`);
    return Number(r[1]) * 1000;
  };
  const q = query.replace(/xrfkey=[^&]*/, 'xrfkey=abcdefghijklmnop');
  const viaProxy = [];
  const service = [];
  const c = path.join(site.dir, 'certs');
  for (let run = 0; run < 5; run++) {
    viaProxy.push(curl(['--cacert', path.join(c, 'root.pem'), '-b', `X-Qlik-Session=${cookie.value}`,
      `${origin}/qrs/app/table${q}`]));
    service.push(curl(['--cacert', path.join(c, 'root.pem'), '--cert', path.join(c, 'client.pem'), '--key',
      path.join(c, 'client_key.pem'), `https://localhost:${site.apiPort}/qrs/app/table${q}`]));
  }
  const f = (xs) => xs.map((x) => x.toFixed(0)).join(' ');
  console.log(`first_rows_ms ${median(first).toFixed(0)}`);
  console.log(`first_rows_runs ${f(first)}`);
  console.log(`page_ms ${median(pageCall).toFixed(0)}`);
  console.log(`page_runs ${f(pageCall)}`);
  console.log(`curl_ms ${median(viaProxy).toFixed(0)}`);
  console.log(`curl_runs ${f(viaProxy)}`);
  console.log(`service_ms ${median(service).toFixed(0)}`);
  console.log(`service_runs ${f(service)}`);
  console.log(`next_ms ${median(nextPage).toFixed(0)}`);
} finally {
  await browser?.close();
  await destroySite(site);
}
