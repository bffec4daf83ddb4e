// chromium.mjs: Debian's chromium as the browser tests and benchmarks start it, driven by
// playwright-core (no browser download; CHROMIUM names another binary). Headless, without
// the sandbox (tests may run as root), and without the background traffic a desktop
// browser makes, so that traffic goes only to the node under test.
//
// Chromium drops a navigation with net::ERR_NETWORK_CHANGED when the machine's interfaces
// change under it, which the fault suite's network namespaces (created beside it by
// make check) do: a page's goto or reload is tried again then, up to five times.
//
// A test that fails with pages still open shows them (showPages): a screenshot of each,
// its address and text, and the requests it made that failed or were refused, so that a
// failure seen once, on a busy machine, can be read afterwards.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHANGED = /ERR_NETWORK_CHANGED/;

async function again(go) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await go();
    } catch (err) {
      if (attempt >= 5 || !CHANGED.test(String(err?.message))) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** The last requests of a page that failed or were answered with an error (at most 30). */
function keepTrail(page) {
  page.trail = [];
  const note = (line) => {
    page.trail.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (page.trail.length > 30) page.trail.shift();
  };
  page.on('response', (r) => {
    if (r.status() >= 400) note(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => note(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  page.on('console', (m) => {
    if (m.type() === 'error') note(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => note(`page error: ${e.message}`));
}

function steady(page) {
  keepTrail(page);
  const goto = page.goto.bind(page);
  const reload = page.reload.bind(page);
  page.goto = (url, options) => again(() => goto(url, options));
  page.reload = (options) => again(() => reload(options));
  return page;
}

export async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const newContext = browser.newContext.bind(browser);
  browser.openContexts = new Set();
  browser.newContext = async (options) => {
    const ctx = await newContext(options);
    browser.openContexts.add(ctx);
    ctx.on('close', () => browser.openContexts.delete(ctx));
    const newPage = ctx.newPage.bind(ctx);
    ctx.newPage = async () => steady(await newPage());
    return ctx;
  };
  return browser;
}

/**
 * Shows every page still open in `browser` (after a failure): a screenshot into `dir`
 * (failed-N.png), and on standard error its address, the start of its text and its trail.
 * Then closes their contexts, so that the next test starts clean.
 */
export async function showPages(browser, dir) {
  let n = 0;
  for (const ctx of [...(browser?.openContexts ?? [])]) {
    for (const page of ctx.pages()) {
      const file = path.join(dir, `failed-${++n}.png`);
      fs.mkdirSync(dir, { recursive: true });
      const text = await page.evaluate(() => document.body?.innerText ?? '').catch((e) => `(no text: ${e.message})`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      console.error(`-- a page open when the test failed: ${page.url()} (screenshot: ${file})`);
      console.error(text.slice(0, 3000));
      console.error(`-- its last refused or failed requests:\n${(page.trail ?? []).join('\n') || '(none)'}`);
    }
    await ctx.close().catch(() => {});
  }
}

/** A test of node:test that, when it fails, shows the pages it left open (showPages). */
export function browserTest(test, getBrowser, dir) {
  return (name, fn) =>
    test(name, async (t) => {
      try {
        await fn(t);
      } catch (err) {
        await showPages(getBrowser(), dir);
        throw err;
      }
    });
}
