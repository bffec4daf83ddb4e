// chromium.mjs: Debian's chromium as the browser tests and benchmarks start it, driven by
// playwright-core (no browser download; CHROMIUM names another binary). Headless, without
// the sandbox (tests may run as root), and without the background traffic a desktop
// browser makes, so that traffic goes only to the node under test.
//
// Chromium drops a navigation with net::ERR_NETWORK_CHANGED when the machine's interfaces
// change under it, which the fault suite's network namespaces (created beside it by
// make check) do: a page's goto or reload is tried again then, up to five times.
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

function steady(page) {
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
  browser.newContext = async (options) => {
    const ctx = await newContext(options);
    const newPage = ctx.newPage.bind(ctx);
    ctx.newPage = async () => steady(await newPage());
    return ctx;
  };
  return browser;
}
