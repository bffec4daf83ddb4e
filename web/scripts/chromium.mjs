// chromium.mjs: Debian's chromium as the browser tests and benchmarks start it, driven by
// playwright-core (no browser download; CHROMIUM names another binary). Headless, without
// the sandbox (tests may run as root), and without the background traffic a desktop
// browser makes, so that traffic goes only to the node under test.
import { chromium } from 'playwright-core';

export const launchChromium = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
