// The management console in a real browser: Debian's chromium driven by playwright-core
// against a real node (tests/qix/site.js). The administrator signs in, uploads an app and
// watches the progress bar, makes a stream and publishes to it, pages and sorts a long list
// on the server, makes a task with a daily trigger in a named time zone and follows its log
// to the end, writes a rule with a syntax error and sees where, audits a person, and sees the
// node running; a person without admin roles gets the repository's refusals. axe-core checks
// every page. What the pages show is compared with what the repository API answers.
// Screenshots of each step go to $FATHOM_TEST_OUT/qmc (default: a temporary folder).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, test as nodeTest } from 'node:test';
import { browserTest, launchChromium } from '../scripts/chromium.mjs';

const require = createRequire(import.meta.url);
const { makeSite, destroySite, sleep } = require('../../tests/qix/site.js');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const shots = path.join(process.env.FATHOM_TEST_OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), 'qmc-')), 'qmc');
fs.mkdirSync(shots, { recursive: true });
// (a test that fails shows the pages it left open: a screenshot, their text, failed requests)
const test = browserTest(nodeTest, () => browser, shots);

let site;
let browser;
const READER_PW = 'a reader password';

function cli(...args) {
  return execFileSync(process.env.FATHOM, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(async () => {
  site = await makeSite();
  site.addUser('reader', READER_PW);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await destroySite(site);
});

const origin = () => `https://localhost:${site.proxyPort}`;

async function signedIn(user, password) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1360, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const answers = []; /* what the next prompts are answered; confirmations are accepted */
  page.on('dialog', (d) => d.accept(answers.shift()));
  await page.goto(`${origin()}/qmc/`);
  assert.match(page.url(), /\/sign-in\?next=%2Fqmc%2F$/);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${origin()}/qmc/`);
  return { ctx, page, errors, answers };
}

let step = 0;
const shot = (page, name) => page.screenshot({ path: path.join(shots, `${String(++step).padStart(2, '0')}-${name}.png`), fullPage: true });

/** axe-core on the page as it is: no serious or critical violation. */
async function accessible(page, what) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
  });
  assert.deepEqual(found, [], `${what}: accessibility violations`);
}

async function section(page, name) {
  await page.click(`nav#side a:text-is("${name}")`);
  await page.waitForSelector(`h1:text-is("${name}")`);
  await page.waitForFunction(() => !document.querySelector('.count') || !/Loading/.test(document.querySelector('.count').textContent));
}

/** Waits for the page's notice to change to a success or failure, and asserts it is `want`. */
async function said(page, want, timeout = 30000) {
  const h = await page.waitForFunction((w) => {
    const n = [...document.querySelectorAll('.notice.ok, .notice.bad')].find((e) => e.textContent === w || e.classList.contains('bad'));
    return n ? { ok: n.classList.contains('ok'), text: n.textContent } : null;
  }, want, { timeout });
  const got = await h.jsonValue();
  assert.deepEqual(got, { ok: true, text: want });
}

const rowNames = (page, label, col = 1) =>
  page.$$eval(`table[aria-label="${label}"] tbody tr[data-id] td:nth-child(${col})`, (tds) => tds.map((t) => t.textContent));

test('the administrator manages apps, streams, tasks, rules and nodes in the console', async () => {
  const { ctx, page, errors, answers } = await signedIn('admin', site.adminPassword);
  await page.waitForSelector('h1:text-is("Apps")');
  assert.equal(await page.textContent('#who'), 'INTERNAL\\admin');
  await accessible(page, 'apps');
  await shot(page, 'apps-empty');

  // upload: a 96 MiB app file, and the progress bar going through it
  const file = path.join(site.top, 'Big upload.fapp');
  cli('app', 'file', '--out', file, '--padding-bytes', String(96 << 20));
  await page.evaluate(() => {
    window.seen = [];
    new MutationObserver(() => window.seen.push(document.querySelector('.progress-text').textContent)).observe(
      document.querySelector('.progress-text'), { childList: true, characterData: true, subtree: true });
  });
  await page.setInputFiles('input[name=file]', file);
  assert.equal(await page.inputValue('input[name=name]'), 'Big upload');
  await page.click('form[aria-label="Upload an app"] button[type=submit]');
  await said(page, 'Uploaded Big upload.', 120000);
  const seen = await page.evaluate(() => window.seen);
  const partial = seen.filter((t) => /\((\d+)%\)/.test(t) && Number(/\((\d+)%\)/.exec(t)[1]) < 100);
  assert.ok(partial.length >= 1, `the progress bar showed no step before the end: ${JSON.stringify(seen)}`);
  assert.ok(seen.some((t) => /of 96\.0 MiB/.test(t)), JSON.stringify(seen));
  const up = (await site.api('GET', `/qrs/app/full?filter=${encodeURIComponent("name eq 'Big upload'")}`)).json;
  assert.equal(up.length, 1);
  assert.ok(up[0].fileSize >= 96 << 20);
  await page.waitForSelector(`tr[data-id="${up[0].id}"]`);
  await shot(page, 'apps-uploaded');

  // a stream made here, and the app published to it
  await section(page, 'Streams');
  await page.fill('form[aria-label="Create a stream"] input[name=name]', 'Console stream');
  await page.click('form[aria-label="Create a stream"] button[type=submit]');
  await page.waitForSelector('table[aria-label="Streams"] td:text-is("Console stream")');
  await accessible(page, 'streams');
  await section(page, 'Apps');
  await page.selectOption(`tr[data-id="${up[0].id}"] select`, { label: 'Console stream' });
  await said(page, 'Big upload is in Console stream.');
  assert.equal((await site.api('GET', `/qrs/app/${up[0].id}`)).json.stream.name, 'Console stream');
  await page.waitForSelector(`tr[data-id="${up[0].id}"] td:nth-child(2):text-is("Console stream")`);
  // moved to another stream, and back
  assert.equal((await site.api('POST', '/qrs/stream', { name: 'Second stream' })).status, 201);
  await section(page, 'Streams');
  await section(page, 'Apps');
  await page.selectOption(`tr[data-id="${up[0].id}"] select`, { label: 'Second stream' });
  await said(page, 'Big upload is in Second stream.');
  assert.equal((await site.api('GET', `/qrs/app/${up[0].id}`)).json.stream.name, 'Second stream');
  await page.waitForSelector(`tr[data-id="${up[0].id}"] td:nth-child(2):text-is("Second stream")`);
  assert.equal(await page.$(`tr[data-id="${up[0].id}"] select option:text-is("Second stream")`), null);
  await page.selectOption(`tr[data-id="${up[0].id}"] select`, { label: 'Console stream' });
  await said(page, 'Big upload is in Console stream.');
  assert.equal((await site.api('GET', `/qrs/app/${up[0].id}`)).json.stream.name, 'Console stream');

  // copied, and exported as a download of the same bytes
  answers.push('Big copy');
  await page.click(`tr[data-id="${up[0].id}"] button:text-is("Copy")`);
  await said(page, 'Big copy is a copy of Big upload.');
  const copies = (await site.api('GET', `/qrs/app/full?filter=${encodeURIComponent("name eq 'Big copy'")}`)).json;
  assert.equal(copies.length, 1);
  assert.equal(copies[0].fileSize, up[0].fileSize);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click(`tr[data-id="${copies[0].id}"] button:text-is("Export")`),
  ]);
  const saved = path.join(site.top, 'exported.fapp');
  await download.saveAs(saved);
  assert.equal(fs.statSync(saved).size, copies[0].fileSize);
  assert.ok(fs.readFileSync(saved).equals(fs.readFileSync(file)), 'the export is the uploaded file');

  // a long list, paged, sorted and searched on the server
  const many = Array.from({ length: 130 }, (_, i) => ({ name: `Bulk ${String(i).padStart(3, '0')}` }));
  assert.equal((await site.api('POST', '/qrs/stream/many', many)).status, 201);
  const total = (await site.api('GET', '/qrs/stream/count')).json.value;
  await section(page, 'Streams');
  await page.waitForSelector(`.count:text-is("1–50 of ${total}")`);
  const first = await rowNames(page, 'Streams');
  assert.equal(first.length, 50);
  assert.deepEqual(first.slice(0, 3), ['Bulk 000', 'Bulk 001', 'Bulk 002']);
  await page.click('button:text-is("Next")');
  await page.waitForSelector(`.count:text-is("51–100 of ${total}")`);
  assert.equal((await rowNames(page, 'Streams'))[0], 'Bulk 050');
  await page.click('th button.sort:text-is("Name")'); /* sorted by name already: now descending */
  await page.waitForSelector(`.count:text-is("1–50 of ${total}")`);
  await page.waitForSelector('th[aria-sort=descending]');
  const names = (await site.api('GET', '/qrs/stream?orderby=name%20desc')).json.map((s) => s.name);
  assert.deepEqual(await rowNames(page, 'Streams'), names.slice(0, 50));
  await page.fill('input[aria-label="Search Streams"]', 'bulk 12');
  await page.waitForSelector('.count:text-is("1–10 of 10")');
  assert.deepEqual(await rowNames(page, 'Streams'), ['Bulk 129', 'Bulk 128', 'Bulk 127', 'Bulk 126', 'Bulk 125', 'Bulk 124',
    'Bulk 123', 'Bulk 122', 'Bulk 121', 'Bulk 120']);
  await shot(page, 'streams-paged');

  // a task with a daily trigger in a named time zone, started and followed to its end
  const script = path.join(site.top, 'console.qvs');
  fs.writeFileSync(script, 'T: LOAD * INLINE [\nx\n1\n2\n3\n];\nTRACE console task ran;\n');
  const made = cli('app', 'create', 'Console example', '--dir', site.dir, '--script', script);
  const appId = /\(([0-9a-f-]{36})\)/.exec(made)[1];
  await section(page, 'Tasks');
  await page.fill('form[aria-label="Create a reload task"] input[name=name]', 'Reload console example');
  await page.selectOption('select[name=app]', appId);
  await page.selectOption('select[name=kind]', 'daily');
  await page.fill('input[name=date]', '2027-03-01');
  await page.fill('input[name=time]', '05:30');
  await page.selectOption('select[name=zone]', 'Europe/Oslo');
  await accessible(page, 'tasks');
  await page.click('form[aria-label="Create a reload task"] button[type=submit]');
  await said(page, 'Reload console example is created.');
  const task = (await site.api('GET', `/qrs/reloadtask/full?filter=${encodeURIComponent("name eq 'Reload console example'")}`)).json[0];
  assert.equal(task.app.id, appId);
  const ev = (await site.api('GET', `/qrs/schemaevent/full?filter=${encodeURIComponent(`reloadTask.id eq ${task.id}`)}`)).json;
  assert.equal(ev.length, 1);
  assert.equal(ev[0].timeZone, 'Europe/Oslo');
  assert.equal(ev[0].incrementOption, 2);
  assert.equal(ev[0].incrementDescription, '0 0 1 0');
  assert.match(ev[0].startDate, /^2027-03-01T05:30:00/);
  const row = `table[aria-label="Tasks"] tr[data-id="${task.id}"]`;
  await page.click(`${row} button:text-is("Start")`);
  await said(page, 'Reload console example is started.');
  await page.click(`${row} button:text-is("History")`);
  await page.waitForSelector('.triggers li span:text("daily at 05:30 Europe/Oslo")');
  // the execution appears once a runner takes it
  for (let i = 0; i < 100 && !(await page.$('table[aria-label="Executions"] tr[data-id]')); i++) {
    await page.click('button:text-is("Refresh")');
    await sleep(200);
  }
  await page.click('table[aria-label="Executions"] tr[data-id] button:text-is("Log")');
  await page.waitForFunction(() => /^Status: (Finished|Failed|Aborted|Error|Skipped|Reset)|^[^S]/.test(document.querySelector('.log-state')?.textContent ?? ''),
    null, { timeout: 60000 });
  assert.equal(await page.textContent('.log-state'), 'Status: Finished');
  assert.match(await page.textContent('pre.log'), /console task ran/);
  assert.match(await page.textContent('pre.log'), /T << 3 rows/);
  await shot(page, 'task-log');

  // a chain: a second task that runs when the first succeeds
  await page.fill('form[aria-label="Create a reload task"] input[name=name]', 'Reload after console example');
  await page.selectOption('form[aria-label="Create a reload task"] select[name=app]', appId);
  await page.selectOption('select[name=kind]', 'chain');
  await page.waitForSelector(`select[name=after] option[value="${task.id}"]`, { state: 'attached' });
  await page.selectOption('select[name=after]', task.id);
  await page.selectOption('select[name=outcome]', { label: 'succeeds' });
  await page.click('form[aria-label="Create a reload task"] button[type=submit]');
  await said(page, 'Reload after console example is created.');
  const second = (await site.api('GET', `/qrs/reloadtask/full?filter=${encodeURIComponent("name eq 'Reload after console example'")}`)).json[0];
  const chainEv = (await site.api('GET', `/qrs/compositeevent/full?filter=${encodeURIComponent(`reloadTask.id eq ${second.id}`)}`)).json;
  assert.equal(chainEv.length, 1);
  assert.deepEqual(chainEv[0].compositeRules.map((r) => [r.ruleState, r.reloadTask.id]), [[1, task.id]]);
  // a chain on two tasks: it runs once both have succeeded within its window
  await page.fill('form[aria-label="Create a reload task"] input[name=name]', 'Reload after both');
  await page.selectOption('form[aria-label="Create a reload task"] select[name=app]', appId);
  await page.selectOption('select[name=kind]', 'chain');
  await page.waitForSelector(`select[name=after] option[value="${second.id}"]`, { state: 'attached' });
  assert.equal(await page.isVisible('input[name=withinHours]'), false);
  await page.click('button:text-is("And another task")');
  await page.selectOption('select[aria-label="Task 1 of the chain"]', task.id);
  await page.selectOption('select[aria-label="Task 2 of the chain"]', second.id);
  await page.fill('input[name=withinHours]', '2');
  await page.click('form[aria-label="Create a reload task"] button[type=submit]');
  await said(page, 'Reload after both is created.');
  const both = (await site.api('GET', `/qrs/reloadtask/full?filter=${encodeURIComponent("name eq 'Reload after both'")}`)).json[0];
  const bothEv = (await site.api('GET', `/qrs/compositeevent/full?filter=${encodeURIComponent(`reloadTask.id eq ${both.id}`)}`)).json;
  assert.equal(bothEv.length, 1);
  assert.deepEqual(bothEv[0].compositeRules.map((r) => [r.ruleState, r.reloadTask.id]).sort(), [[1, task.id], [1, second.id]].sort());
  assert.equal(bothEv[0].timeConstraint.hours, 2);
  assert.equal(bothEv[0].name, 'after Reload console example succeeds and Reload after console example succeeds');
  await page.click(`${row} button:text-is("Start")`);
  await said(page, 'Reload console example is started.');
  let chained = [];
  for (let i = 0; i < 150 && !chained.some((r) => r.status === 7); i++) {
    await sleep(200);
    chained = (await site.api('GET', `/qrs/executionresult?filter=${encodeURIComponent(`taskID eq ${second.id}`)}`)).json;
  }
  assert.ok(chained.some((r) => r.status === 7), JSON.stringify(chained));
  let afterBoth = [];
  for (let i = 0; i < 150 && !afterBoth.some((r) => r.status === 7); i++) {
    await sleep(200);
    afterBoth = (await site.api('GET', `/qrs/executionresult?filter=${encodeURIComponent(`taskID eq ${both.id}`)}`)).json;
  }
  await sleep(2000); /* a second run would have started by now */
  afterBoth = (await site.api('GET', `/qrs/executionresult?filter=${encodeURIComponent(`taskID eq ${both.id}`)}`)).json;
  assert.deepEqual(afterBoth.map((r) => r.status), [7]);
  assert.equal((await site.api('DELETE', `/qrs/reloadtask/${both.id}`)).status, 204);
  await page.click(`table[aria-label="Tasks"] tr[data-id="${second.id}"] button:text-is("History")`);
  await page.waitForSelector('.triggers li span:text-is("Runs after Reload console example succeeds")');
  // its triggers changed: a weekly one added in another zone, the chain deleted
  const addTo = 'form[aria-label="Add a trigger to Reload after console example"]';
  assert.equal(await page.isVisible(`${addTo} input[aria-label=Tuesday]`), false); // days only for weekly
  await page.selectOption(`${addTo} select[name=kind]`, 'weekly');
  assert.equal(await page.isVisible(`${addTo} input[aria-label=Tuesday]`), true);
  await page.fill(`${addTo} input[name=time]`, '22:15');
  await page.selectOption(`${addTo} select[name=zone]`, 'America/Chicago');
  await page.click(`${addTo} button[type=submit]`); /* no day ticked: said, nothing made */
  await page.waitForSelector('.notice.bad:text-is("Choose at least one day of the week.")');
  assert.equal((await site.api('GET', `/qrs/schemaevent/count?filter=${encodeURIComponent(`reloadTask.id eq ${second.id}`)}`)).json.value, 0);
  await page.check(`${addTo} input[aria-label=Tuesday]`);
  await page.check(`${addTo} input[aria-label=Friday]`);
  await page.click(`${addTo} button[type=submit]`);
  await said(page, 'Reload after console example has a new trigger.');
  await page.waitForSelector('.triggers li span:text("weekly at 22:15 America/Chicago")');
  const weekly = (await site.api('GET', `/qrs/schemaevent/full?filter=${encodeURIComponent(`reloadTask.id eq ${second.id}`)}`)).json;
  assert.equal(weekly.length, 1);
  assert.deepEqual([weekly[0].timeZone, weekly[0].incrementOption, weekly[0].schemaFilterDescription], ['America/Chicago', 3, ['* * - 2,5 1 * * *']]);
  assert.match(weekly[0].startDate, /T22:15:00/);
  await page.click(`.triggers li[data-id="${chainEv[0].id}"] button:text-is("Delete")`);
  await said(page, 'The trigger after Reload console example succeeds is deleted.');
  assert.equal((await site.api('GET', `/qrs/compositeevent/${chainEv[0].id}`)).status, 404);
  await page.waitForSelector(`.triggers li[data-id="${chainEv[0].id}"]`, { state: 'detached' });
  // disabled, enabled again, and deleted
  const secondRow = `table[aria-label="Tasks"] tr[data-id="${second.id}"]`;
  await page.click(`${secondRow} button:text-is("Disable")`);
  await said(page, 'Reload after console example is disabled: its triggers no longer start it.');
  assert.equal((await site.api('GET', `/qrs/reloadtask/${second.id}`)).json.enabled, false);
  await page.waitForSelector(`${secondRow} td:nth-child(3):text-is("no")`);
  await page.click(`${secondRow} button:text-is("Enable")`);
  await said(page, 'Reload after console example is enabled.');
  assert.equal((await site.api('GET', `/qrs/reloadtask/${second.id}`)).json.enabled, true);
  // renamed, and pointed at another app (by its name; an unknown name is said so)
  answers.push('Reload big copy after');
  await page.click(`${secondRow} button:text-is("Rename")`);
  await said(page, 'Reload after console example is named Reload big copy after now.');
  await page.waitForSelector(`${secondRow} td:first-child:text-is("Reload big copy after")`);
  answers.push('Big copy');
  await page.click(`${secondRow} button:text-is("App")`);
  await said(page, 'Reload big copy after reloads Big copy now.');
  const retargeted = (await site.api('GET', `/qrs/reloadtask/${second.id}`)).json;
  assert.equal(retargeted.name, 'Reload big copy after');
  assert.equal(retargeted.app.id, copies[0].id);
  assert.equal(retargeted.enabled, true);
  await page.waitForSelector(`${secondRow} td:nth-child(2):text-is("Big copy")`);
  answers.push('No such app');
  await page.click(`${secondRow} button:text-is("App")`);
  await page.waitForSelector('.notice.bad:text-is("there is no app named No such app")');
  assert.equal((await site.api('GET', `/qrs/reloadtask/${second.id}`)).json.app.id, copies[0].id);
  await page.click(`${secondRow} button:text-is("Delete")`);
  await said(page, 'Reload big copy after is deleted.');
  assert.equal((await site.api('GET', `/qrs/reloadtask/${second.id}`)).status, 404);
  assert.equal((await site.api('GET', `/qrs/compositeevent/count?filter=${encodeURIComponent(`reloadTask.id eq ${second.id}`)}`)).json.value, 0);

  // an app's content replaced with another's: the copy takes the small example's file
  await section(page, 'Apps');
  const example = (await site.api('GET', `/qrs/app/${appId}`)).json;
  answers.push('Console example');
  await page.click(`tr[data-id="${copies[0].id}"] button:text-is("Replace")`);
  await said(page, 'Big copy has the content of Console example now.');
  const replaced = (await site.api('GET', `/qrs/app/${copies[0].id}`)).json;
  assert.equal(replaced.name, 'Big copy');
  assert.equal(replaced.fileSize, example.fileSize);
  assert.ok(replaced.fileSize < 96 << 20);
  answers.push('No such app');
  await page.click(`tr[data-id="${copies[0].id}"] button:text-is("Replace")`);
  await page.waitForSelector('.notice.bad:text-is("there is no app named No such app")');

  // a rule: a syntax error shown where it is, then mended and saved; the audit
  await section(page, 'Rules');
  await page.fill('form[aria-label="Write a security rule"] input[name=name]', 'Console readers');
  await page.fill('input[name=resourceFilter]', 'Stream_*');
  await page.fill('textarea[name=rule]', 'resource.name like "Console*" and user.name =');
  await page.waitForSelector('.rule-check.bad pre.caret');
  const position = Number(await page.getAttribute('.rule-check pre.caret', 'data-position'));
  const check = (await site.api('POST', '/qrs/systemrule/check', { rule: 'resource.name like "Console*" and user.name =' })).json;
  assert.equal(check.valid, false);
  assert.equal(position, check.position);
  assert.match(await page.textContent('.rule-check pre.caret'), new RegExp(`\\^ position ${position}$`));
  await shot(page, 'rule-error');
  await page.fill('textarea[name=rule]', 'resource.name like "Console*" and user.userId = "reader"');
  await page.waitForSelector('.rule-check.ok:text("The rule reads well.")');
  await accessible(page, 'rules');
  await page.click('form[aria-label="Write a security rule"] button[type=submit]');
  await said(page, 'Console readers is saved.');
  const rule = (await site.api('GET', `/qrs/systemrule/full?filter=${encodeURIComponent("name eq 'Console readers'")}`)).json[0];
  assert.equal(rule.actions, 2);
  assert.equal(rule.resourceFilter, 'Stream_*');
  // changed: the editor holds the stored rule, and saving changes it in place
  await page.fill('input[aria-label="Search Rules"]', 'console');
  await page.click(`table[aria-label="Rules"] tr[data-id="${rule.id}"] button:text-is("Edit")`);
  await page.waitForSelector('button:text-is("Save changes to Console readers")');
  assert.equal(await page.inputValue('textarea[name=rule]'), rule.rule);
  const wider = 'resource.name like "Console*" and (user.userId = "reader" or user.userId = "dora")';
  await page.fill('textarea[name=rule]', wider);
  await page.waitForSelector('.rule-check.ok');
  await page.click('button:text-is("Save changes to Console readers")');
  await said(page, 'Console readers is saved.');
  const changed = (await site.api('GET', `/qrs/systemrule/${rule.id}`)).json;
  assert.equal(changed.rule, wider);
  assert.equal(changed.category, 'Security');
  assert.equal((await site.api('GET', `/qrs/systemrule/count?filter=${encodeURIComponent("name eq 'Console readers'")}`)).json.value, 1);
  await page.fill('form[aria-label="Audit"] input[name=auditUser]', 'reader');
  await page.selectOption('select[name=auditType]', 'Stream');
  await page.click('form[aria-label="Audit"] button[type=submit]');
  await page.waitForSelector('table[aria-label="Audit"] td:text-is("Console stream")');
  const audited = await page.$$eval('table[aria-label="Audit"] tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent])));
  assert.match(audited['Console stream'], /read/);
  assert.equal(audited['Bulk 000'], 'nothing');
  // and the other way round: who may do what with one stream
  await page.selectOption('select[name=auditBy]', 'resource');
  await page.fill('form[aria-label="Audit"] input[name=auditUser]', 'Console stream');
  await page.click('form[aria-label="Audit"] button[type=submit]');
  await page.waitForSelector('table[aria-label="Audit"] th:text-is("Person")');
  const people = await page.$$eval('table[aria-label="Audit"] tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.children[0].textContent, [tr.children[1].textContent, tr.children[2].textContent]])));
  assert.deepEqual(people['INTERNAL\\reader'], ['read', 'Console readers']);
  assert.match(people['INTERNAL\\admin'][0], /^create, read, update, delete, export, publish$/);
  assert.match(people['INTERNAL\\admin'][1], /RootAdmin/);
  await shot(page, 'audit');

  // the node, running and central
  await section(page, 'Nodes');
  await page.waitForSelector('table[aria-label="Nodes"] td:text-is("node1")');
  const cells = await page.$$eval('table[aria-label="Nodes"] tbody tr td', (tds) => tds.map((t) => t.textContent));
  assert.ok(cells.some((c) => c.startsWith('Running')), cells.join(' | '));
  assert.ok(cells.includes('Central'), cells.join(' | '));
  const version = cli('version').trim().split(' ')[1];
  assert.ok(cells.some((c) => c.startsWith(`${version} (up since `)), cells.join(' | '));
  assert.ok(cells.some((c) => /^\d+ sessions, \d+ apps$/.test(c)), cells.join(' | '));
  // a service turned off waits for the node's restart, and is said so; turned on again, nothing waits
  const nodeId = (await site.api('GET', '/qrs/servernodeconfiguration')).json[0].id;
  assert.equal(await page.isChecked('input[aria-label="scheduler on node1"]'), true);
  await page.uncheck('input[aria-label="scheduler on node1"]');
  await said(page, 'node1 will stop its scheduler when it restarts.');
  assert.equal((await site.api('GET', `/qrs/servernodeconfiguration/${nodeId}`)).json.schedulerEnabled, false);
  await page.waitForSelector('table[aria-label="Nodes"] .restart:text-is("Restart needed to stop the scheduler")');
  await accessible(page, 'nodes');
  await shot(page, 'nodes-restart');
  await page.check('input[aria-label="scheduler on node1"]');
  await said(page, 'node1 will start its scheduler when it restarts.');
  await page.waitForFunction(() => !document.querySelector('table[aria-label="Nodes"] .restart'));
  assert.equal((await site.api('GET', `/qrs/servernodeconfiguration/${nodeId}`)).json.schedulerEnabled, true);
  await section(page, 'Users');
  await page.waitForSelector('table[aria-label="Users"] td:text-is("reader")');
  await accessible(page, 'users');
  // a person added here signs in; a new password, roles, blocked and let in again
  await page.fill('form[aria-label="Add a user"] input[name=userId]', 'dora');
  await page.fill('form[aria-label="Add a user"] input[name=password]', 'first password');
  await page.click('form[aria-label="Add a user"] button[type=submit]');
  await said(page, 'INTERNAL\\dora may sign in.');
  await site.signIn('dora', 'first password');
  const dora = (await site.api('GET', `/qrs/user/full?filter=${encodeURIComponent("userId eq 'dora'")}`)).json[0];
  const doraRow = `table[aria-label="Users"] tr[data-id="${dora.id}"]`;
  await page.fill('input[aria-label="Search Users"]', 'dora');
  await page.waitForSelector(doraRow);
  answers.push('second password');
  await page.click(`${doraRow} button:text-is("Set password")`);
  await said(page, 'INTERNAL\\dora has a new password.');
  await assert.rejects(site.signIn('dora', 'first password'), /401/);
  await site.signIn('dora', 'second password');
  answers.push('ContentAdmin, AuditAdmin');
  await page.click(`${doraRow} button:text-is("Roles")`);
  await said(page, 'INTERNAL\\dora has the roles ContentAdmin, AuditAdmin.');
  assert.deepEqual((await site.api('GET', `/qrs/user/${dora.id}`)).json.roles, ['ContentAdmin', 'AuditAdmin']);
  await page.click(`${doraRow} button:text-is("Block")`);
  await said(page, 'INTERNAL\\dora is blocked: signed out and kept out.');
  await assert.rejects(site.signIn('dora', 'second password'), /401/);
  await page.click(`${doraRow} button:text-is("Unblock")`);
  await said(page, 'INTERNAL\\dora may sign in again.');
  await site.signIn('dora', 'second password');
  await shot(page, 'nodes');

  // the sections that are a list and a form: a folder connection, a tag, a custom property
  const folder = path.join(site.top, 'console-data');
  fs.mkdirSync(folder);
  await section(page, 'Data connections');
  await page.fill('form[aria-label="Create a data connection"] input[name=name]', 'Console data');
  await page.fill('form[aria-label="Create a data connection"] input[name=connectionstring]', folder);
  await page.click('form[aria-label="Create a data connection"] button[type=submit]');
  await said(page, 'Console data is created.');
  await page.waitForSelector('table[aria-label="Data connections"] td:text-is("Console data")');
  const conn = (await site.api('GET', `/qrs/dataconnection/full?filter=${encodeURIComponent("name eq 'Console data'")}`)).json[0];
  assert.equal(conn.connectionstring, folder);
  assert.equal(conn.type, 'folder');
  await accessible(page, 'data connections');
  await section(page, 'Tags');
  await page.fill('form[aria-label="Create a tag"] input[name=name]', 'console-tag');
  await page.click('form[aria-label="Create a tag"] button[type=submit]');
  await said(page, 'console-tag is created.');
  await section(page, 'Custom properties');
  await page.fill('form[aria-label="Create a custom property"] input[name=name]', 'Env');
  await page.fill('form[aria-label="Create a custom property"] input[name=choiceValues]', 'Prod, Test');
  await page.selectOption('form[aria-label="Create a custom property"] select[name=objectTypes]', 'Stream');
  await page.click('form[aria-label="Create a custom property"] button[type=submit]');
  await said(page, 'Env is created.');
  const cp = (await site.api('GET', `/qrs/custompropertydefinition/full?filter=${encodeURIComponent("name eq 'Env'")}`)).json[0];
  assert.deepEqual(cp.choiceValues, ['Prod', 'Test']);
  assert.deepEqual(cp.objectTypes, ['Stream']);
  await page.waitForSelector('table[aria-label="Custom properties"] td:text-is("Prod, Test")');
  await page.click(`table[aria-label="Custom properties"] tr[data-id="${cp.id}"] button:text-is("Delete")`);
  await said(page, 'Env is deleted.');
  assert.equal((await site.api('GET', `/qrs/custompropertydefinition/${cp.id}`)).status, 404);
  await accessible(page, 'custom properties');
  await section(page, 'Virtual proxies');
  await accessible(page, 'virtual proxies');
  await section(page, 'Proxies');
  const proxyRow = await page.waitForSelector('table[aria-label="Proxies"] tr[data-id]').then((r) => r.$$eval('td', (tds) => tds.map((t) => t.textContent)));
  assert.deepEqual(proxyRow, ['node1', String(site.proxyPort), 'off', String(site.proxyApiPort), '/ (default)']);
  await accessible(page, 'proxies');
  await section(page, 'Service cluster');
  const sc = (await site.api('GET', '/qrs/servicecluster/full')).json[0].settings.sharedPersistenceProperties;
  const form = 'form[aria-label="Service cluster settings"]';
  await page.waitForFunction((v) => document.querySelector('input[name=appFolder]')?.value === v, sc.appFolder);
  assert.equal(await page.inputValue(`${form} input[name=archivedLogsRootFolder]`), sc.archivedLogsRootFolder);
  assert.equal(await page.inputValue(`${form} input[name=centralRoleTtlSeconds]`), '15');
  assert.match(await page.textContent('dl.facts dt:text-is("This node reaches") + dd'), /^SQLite: the node's own SQLite file/);
  await page.waitForSelector('.restart-list p:text-is("Every running node uses these settings.")');
  await accessible(page, 'service cluster');
  // a folder the node cannot use is refused with the repository's words, and nothing changes
  const moved = `${sc.rootFolder}/AppsMoved`;
  await page.fill(`${form} input[name=appFolder]`, moved);
  await page.click(`${form} button[type=submit]`);
  await page.waitForSelector(`.notice.bad:has-text('appFolder: "${moved}" is not a writable folder on this node')`);
  assert.equal((await site.api('GET', '/qrs/servicecluster/full')).json[0].settings.sharedPersistenceProperties.appFolder, sc.appFolder);
  // made on the share, it is saved with a new TTL, and the node is listed until it restarts
  fs.mkdirSync(moved);
  await page.fill(`${form} input[name=centralRoleTtlSeconds]`, '30');
  await page.click(`${form} button[type=submit]`);
  await said(page, 'Saved.');
  const savedSettings = (await site.api('GET', '/qrs/servicecluster/full')).json[0].settings;
  assert.equal(savedSettings.sharedPersistenceProperties.appFolder, moved);
  assert.equal(savedSettings.centralRoleTtlSeconds, 30);
  await page.waitForFunction(() => [...document.querySelectorAll('.restart-list li')].map((li) => li.textContent).join('|') === 'node1: to use the new apps folder');
  await shot(page, 'service-cluster');
  // put back: nothing waits
  await page.fill(`${form} input[name=appFolder]`, sc.appFolder);
  await page.fill(`${form} input[name=centralRoleTtlSeconds]`, '15');
  await page.click(`${form} button[type=submit]`);
  await said(page, 'Saved.');
  await page.waitForSelector('.restart-list p:text-is("Every running node uses these settings.")');

  // a task that fails: in the executions by status, and on the health page
  const broken = path.join(site.top, 'broken.qvs');
  fs.writeFileSync(broken, 'T: LOAD * FROM [lib://CustomData/no-such-file.csv] (txt);\n');
  const bad = /\(([0-9a-f-]{36})\)/.exec(cli('app', 'create', 'Broken example', '--dir', site.dir, '--script', broken))[1];
  const badTask = (await site.api('POST', '/qrs/reloadtask/create', { task: { name: 'Reload broken example', app: { id: bad } } })).json.id;
  assert.equal((await site.api('POST', `/qrs/task/${badTask}/start/synchronous`)).status, 201);
  for (let i = 0; i < 150; i++) {
    const r = (await site.api('GET', `/qrs/executionresult?filter=taskID eq ${badTask}`.replace(/ /g, '%20'))).json;
    if (r.length && r[0].status === 8) break;
    await sleep(200);
  }
  await section(page, 'Executions');
  await page.selectOption('select[aria-label=Status]', { label: 'Finished' });
  await page.waitForSelector('table[aria-label="All executions"] span[data-task]:text-is("Reload console example")');
  const finished = (await site.api('GET', '/qrs/executionresult/count?filter=status%20eq%207')).json.value;
  assert.ok(finished >= 3);
  await page.waitForSelector(`.count:text-is("1–${finished} of ${finished}")`);
  assert.deepEqual(await rowNames(page, 'All executions'), Array(finished).fill('Finished'));
  await accessible(page, 'executions');
  await section(page, 'Health');
  await page.waitForSelector('dl.facts dd.good:text-is("reaches the repository database and the share")');
  await page.waitForSelector('dl.facts dd:text-is("held by node1")');
  const siteFacts = (await site.api('GET', '/qrs/about/site')).json;
  assert.equal(siteFacts.database.provider, 'SQLite');
  assert.ok(siteFacts.share.usable && siteFacts.share.freeBytes > 0 && siteFacts.share.totalBytes >= siteFacts.share.freeBytes);
  const shareFact = await page.textContent('dl.facts dt:text-is("Share") + dd');
  assert.match(shareFact, new RegExp(`^${siteFacts.share.appFolder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [0-9.]+ [KMGT]?i?B free of [0-9.]+ [KMGT]?i?B$`));
  assert.match(await page.textContent('dl.facts dt:text-is("Database") + dd'), /^SQLite \(this node's file\); \d+ of \d+ connections in use$/);
  const token = (await site.api('GET', '/qrs/servicestatus/full')).json[0].centralToken;
  assert.ok(Number.isInteger(token) && token > 0, String(token));
  const since = await page.waitForSelector('dl.facts dt:text-is("Central role since") + dd').then((e) => e.textContent());
  assert.ok(since.endsWith(`(fencing token ${token})`), since);
  await page.waitForSelector('dl.facts dt:text-is("Node node1") + dd.good');
  assert.match(await page.textContent('dl.facts dt:text-is("Node node1") + dd'), /^Running, last heard .*; share writable$/);
  assert.equal((await site.api('GET', '/qrs/servicestatus/full')).json[0].shareState, 'ok');
  await page.waitForSelector('table[aria-label="Failed executions"] span[data-task]:text-is("Reload broken example")');
  await page.click('table[aria-label="Failed executions"] tr[data-id] button:text-is("Log")');
  await page.waitForSelector('.log-state:text-is("Status: Failed")');
  assert.match(await page.textContent('pre.log'), /no-such-file/);
  // a warning of the node's log reaches the page with the next heartbeat: a request from
  // another site, which the proxy refuses and logs
  const refused = await page.request.post(`${origin()}/sign-out`, { headers: { Origin: 'https://elsewhere.example' } });
  assert.equal(refused.status(), 403);
  let warned = false;
  for (let i = 0; i < 100 && !warned; i++) {
    await page.click('.page-head button:text-is("Refresh")');
    await sleep(250);
    warned = (await page.$$eval('table[aria-label="Last errors"] tbody tr', (trs) => trs.map((tr) => tr.textContent)))
      .some((t) => t.startsWith('node1') && t.includes('warn') && t.includes('from another site (Origin https://elsewhere.example) refused'));
  }
  assert.ok(warned, 'the refused request\'s warning did not reach the health page');
  await accessible(page, 'health');
  await shot(page, 'health');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the administrator reads the objects an app holds', async () => {
  const example = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/sales');
  const made = cli('app', 'create', 'Objects example', '--dir', site.dir, '--objects', path.join(example, 'objects.json'));
  const id = /\(([0-9a-f-]{36})\)/.exec(made)[1];
  const empty = /\(([0-9a-f-]{36})\)/.exec(cli('app', 'create', 'No objects', '--dir', site.dir))[1];
  const want = (await site.api('GET', `/qrs/app/${id}/objects`)).json;
  const given = JSON.parse(fs.readFileSync(path.join(example, 'objects.json'), 'utf8'));
  const count = (list) => list.reduce((n, o) => n + 1 + count(o.qChildren ?? []), 0); // with the children
  assert.equal(want.length, count(given));
  assert.deepEqual(want.filter((o) => o.objectType === 'sheet').map((o) => o.name), ['Overview', 'Products', 'Regions']);
  const { ctx, page, errors } = await signedIn('admin', site.adminPassword);
  await page.waitForSelector(`tr[data-id="${id}"]`);
  await page.click(`tr[data-id="${id}"] button:text-is("Objects")`);
  await said(page, `Objects example holds ${want.length} objects.`);
  const rows = await page.$$eval('table[aria-label="Objects of Objects example"] tbody tr', (trs) => trs.map((tr) => [tr.dataset.id, tr.cells[0].textContent, tr.cells[1].textContent]));
  assert.deepEqual(rows, want.map((o) => [o.engineObjectId, o.objectType, o.name]));
  await accessible(page, 'app objects');
  await shot(page, 'app-objects');
  await page.click(`tr[data-id="${empty}"] button:text-is("Objects")`);
  await said(page, 'No objects holds 0 objects.');
  await page.waitForSelector('section.objects p.hint');
  // an app that is not there
  const denied = await site.api('GET', '/qrs/app/00000000-0000-0000-0000-000000000001/objects');
  assert.equal(denied.status, 404);
  assert.deepEqual(errors, []);
  await ctx.close();
});

/** GET `p` through the proxy with `headers`: its status and body. */
function proxyGet(p, headers) {
  return new Promise((resolve, reject) => {
    https.get({ host: 'localhost', port: site.proxyPort, path: p, headers, ca: site.tls.ca }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

/** An HS256 JSON web token of `claims` signed with `secret`. */
function hs256(secret, claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signed = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`;
  return `${signed}.${crypto.createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

test('the administrator edits a connection, a virtual proxy\'s sign-in, and an app\'s tags and properties', async () => {
  const q = (type, name) => `/qrs/${type}/full?filter=${encodeURIComponent(`name eq '${name}'`)}`;
  const before = path.join(site.top, 'edit-before');
  const later = path.join(site.top, 'edit-after');
  fs.mkdirSync(before);
  fs.mkdirSync(later);
  const conn = (await site.api('POST', '/qrs/dataconnection', { name: 'Edit me', connectionstring: before, type: 'folder' })).json;
  const vp = (await site.api('POST', '/qrs/virtualproxyconfig', { description: 'Edit proxy', prefix: 'edited', sessionCookieHeaderName: 'X-Qlik-Session-edited' })).json;
  const tags = [];
  for (const name of ['blue', 'green']) tags.push((await site.api('POST', '/qrs/tag', { name })).json);
  const tier = (await site.api('POST', '/qrs/custompropertydefinition', { name: 'Tier', valueType: 'Text', choiceValues: ['Gold', 'Silver'], objectTypes: ['App'] })).json;
  await site.api('POST', '/qrs/custompropertydefinition', { name: 'Region', valueType: 'Text', choiceValues: ['North'], objectTypes: ['Stream'] });
  const app = /\(([0-9a-f-]{36})\)/.exec(cli('app', 'create', 'Tagged', '--dir', site.dir))[1];
  const node = (await site.api('GET', '/qrs/servernodeconfiguration/full')).json[0];

  const { ctx, page, errors } = await signedIn('admin', site.adminPassword);
  // a data connection renamed and pointed at another folder
  await section(page, 'Data connections');
  await page.click(`tr[data-id="${conn.id}"] button:text-is("Edit")`);
  const connForm = 'form[aria-label="Edit Edit me"]';
  assert.equal(await page.inputValue(`${connForm} input[name=connectionstring]`), before);
  await page.fill(`${connForm} input[name=name]`, 'Edited data');
  await page.fill(`${connForm} input[name=connectionstring]`, later);
  await accessible(page, 'editing a data connection');
  await page.click(`${connForm} button[type=submit]`);
  await said(page, 'Edit me is saved.');
  await page.waitForSelector(`tr[data-id="${conn.id}"] td:text-is("Edited data")`);
  const c2 = (await site.api('GET', `/qrs/dataconnection/${conn.id}`)).json;
  assert.deepEqual([c2.name, c2.connectionstring], ['Edited data', later]);

  // a virtual proxy's sign-in turned to JWT: only that method's settings are offered, and
  // the proxy takes a token signed with the secret given here
  const secret = 'a shared secret the console typed';
  const token = hs256(secret, { sub: 'zed', exp: Math.floor(Date.now() / 1000) + 300 });
  assert.notEqual((await proxyGet('/edited/qps/user', { Authorization: `Bearer ${token}` })).status, 200);
  await section(page, 'Virtual proxies');
  await page.click(`tr[data-id="${vp.id}"] button:text-is("Edit")`);
  const vpForm = 'form[aria-label="Edit Edit proxy"]';
  assert.equal(await page.inputValue(`${vpForm} select[name=authenticationMethod]`), '0'); // Ticket: a new one's default
  assert.equal(await page.isVisible(`${vpForm} textarea[name=jwtPublicKeyCertificate]`), false);
  await page.selectOption(`${vpForm} select[name=authenticationMethod]`, '4');
  await page.waitForSelector(`${vpForm} textarea[name=jwtPublicKeyCertificate]`, { state: 'visible' });
  assert.equal(await page.isVisible(`${vpForm} input[name=oidcClientId]`), false);
  await page.fill(`${vpForm} textarea[name=jwtPublicKeyCertificate]`, secret);
  await page.fill(`${vpForm} input[name=jwtAttributeUserDirectory]`, '[PARTNERS]');
  await page.fill(`${vpForm} input[name=sessionInactivityTimeout]`, '45');
  await page.check(`${vpForm} fieldset[name=loadBalancingServerNodes] label:has-text("${node.name}") input`);
  await page.check(`${vpForm} fieldset[name=tags] label:text-is("green") input`);
  await accessible(page, 'editing a virtual proxy');
  await shot(page, 'virtual-proxy-edit');
  await page.click(`${vpForm} button[type=submit]`);
  await said(page, 'Edit proxy is saved.');
  const v2 = (await site.api('GET', `/qrs/virtualproxyconfig/${vp.id}`)).json;
  assert.equal(v2.jwtPublicKeyCertificate, secret);
  assert.equal(v2.jwtAttributeUserDirectory, '[PARTNERS]');
  assert.equal(v2.sessionInactivityTimeout, 45);
  assert.deepEqual(v2.loadBalancingServerNodes.map((n) => n.id), [node.id]);
  assert.deepEqual(v2.tags.map((t) => t.name), ['green']);
  assert.ok([4, 'JWT'].includes(v2.authenticationMethod), JSON.stringify(v2.authenticationMethod));
  await page.waitForSelector(`tr[data-id="${vp.id}"] td:text-is("JWT")`);
  let signed;
  for (let i = 0; i < 40; i++) { /* every proxy reads the change within two seconds */
    signed = await proxyGet('/edited/qps/user', { Authorization: `Bearer ${token}` });
    if (signed.status === 200) break;
    await sleep(250);
  }
  assert.equal(signed.status, 200, signed.body);
  assert.match(signed.body, /zed/);

  // an app's tags and custom properties: only the properties that go on apps are offered
  await section(page, 'Apps');
  await page.click(`tr[data-id="${app}"] button:text-is("Tags")`);
  const appForm = 'form[aria-label="Edit Tagged"]';
  await page.waitForSelector(appForm);
  const offered = await page.$$eval(`${appForm} fieldset label`, (ls) => ls.map((l) => l.textContent));
  const allTags = (await site.api('GET', '/qrs/tag?orderby=name')).json.map((t) => t.name);
  assert.ok(allTags.includes('blue') && allTags.includes('green'));
  assert.deepEqual(offered, [...allTags, 'Tier: Gold', 'Tier: Silver']); // no Region: it goes on streams
  await page.check(`${appForm} fieldset[name=tags] label:text-is("green") input`);
  await page.check(`${appForm} fieldset[name=customProperties] label:text-is("Tier: Gold") input`);
  await accessible(page, 'editing an app\'s tags');
  await page.click(`${appForm} button[type=submit]`);
  await said(page, 'Tagged is saved.');
  let a2 = (await site.api('GET', `/qrs/app/${app}`)).json;
  assert.deepEqual(a2.tags.map((t) => t.id), [tags[1].id]);
  assert.deepEqual(a2.customProperties.map((c) => [c.definition.id, c.value]), [[tier.id, 'Gold']]);
  // the form shows what is stored; unticking takes a tag off and leaves the rest
  await page.click(`tr[data-id="${app}"] button:text-is("Tags")`);
  await page.waitForSelector(appForm);
  assert.equal(await page.isChecked(`${appForm} fieldset[name=tags] label:text-is("green") input`), true);
  assert.equal(await page.isChecked(`${appForm} fieldset[name=tags] label:text-is("blue") input`), false);
  await page.uncheck(`${appForm} fieldset[name=tags] label:text-is("green") input`);
  await page.click(`${appForm} button[type=submit]`);
  await said(page, 'Tagged is saved.');
  a2 = (await site.api('GET', `/qrs/app/${app}`)).json;
  assert.deepEqual([a2.tags, a2.customProperties.map((c) => c.value)], [[], ['Gold']]);

  // the same on a stream (with the properties that go on streams) and on a person
  const stream = (await site.api('POST', '/qrs/stream', { name: 'Labelled' })).json;
  const region = (await site.api('GET', q('custompropertydefinition', 'Region'))).json[0];
  await section(page, 'Streams');
  await page.fill('input[aria-label="Search Streams"]', 'Labelled');
  await page.click(`tr[data-id="${stream.id}"] button:text-is("Edit")`);
  const streamForm = 'form[aria-label="Edit Labelled"]';
  await page.waitForSelector(streamForm);
  assert.deepEqual(await page.$$eval(`${streamForm} fieldset[name=customProperties] label`, (ls) => ls.map((l) => l.textContent)), ['Region: North']);
  await page.check(`${streamForm} fieldset[name=tags] label:text-is("blue") input`);
  await page.check(`${streamForm} fieldset[name=customProperties] label:text-is("Region: North") input`);
  await page.click(`${streamForm} button[type=submit]`);
  await said(page, 'Labelled is saved.');
  const s2 = (await site.api('GET', `/qrs/stream/${stream.id}`)).json;
  assert.deepEqual([s2.name, s2.tags.map((t) => t.id), s2.customProperties.map((c) => [c.definition.id, c.value])],
    ['Labelled', [tags[0].id], [[region.id, 'North']]]);
  const reader = (await site.api('GET', `/qrs/user/full?filter=${encodeURIComponent("userId eq 'reader'")}`)).json[0];
  await section(page, 'Users');
  await page.click(`tr[data-id="${reader.id}"] button:text-is("Tags")`);
  const userForm = 'form[aria-label^="Edit INTERNAL"][aria-label$="reader"]';
  await page.waitForSelector(userForm);
  await page.check(`${userForm} fieldset[name=tags] label:text-is("green") input`);
  await page.click(`${userForm} button[type=submit]`);
  await said(page, 'INTERNAL\\reader is saved.');
  const u2 = (await site.api('GET', `/qrs/user/${reader.id}`)).json;
  assert.deepEqual([u2.tags.map((t) => t.id), u2.roles, u2.blacklisted], [[tags[1].id], reader.roles, reader.blacklisted]);
  // and on a node
  await section(page, 'Nodes');
  await page.click(`tr[data-id="${node.id}"] button:text-is("Tags")`);
  const nodeForm = `form[aria-label="Edit ${node.name}"]`;
  await page.waitForSelector(nodeForm);
  await page.check(`${nodeForm} fieldset[name=tags] label:text-is("blue") input`);
  await page.click(`${nodeForm} button[type=submit]`);
  await said(page, `${node.name} is saved.`);
  const n2 = (await site.api('GET', `/qrs/servernodeconfiguration/${node.id}`)).json;
  assert.deepEqual([n2.tags.map((t) => t.id), n2.failoverCandidate, n2.hostName], [[tags[0].id], node.failoverCandidate, node.hostName]);
  await section(page, 'Apps');

  // a change made meanwhile by someone else is not overwritten: the repository's refusal
  await page.click(`tr[data-id="${app}"] button:text-is("Tags")`);
  await page.waitForSelector(appForm);
  await site.api('PUT', `/qrs/app/${app}`, { ...a2, name: 'Tagged' });
  await page.check(`${appForm} fieldset[name=tags] label:text-is("blue") input`);
  await page.click(`${appForm} button[type=submit]`);
  await page.waitForSelector('.notice.bad');
  assert.deepEqual((await site.api('GET', `/qrs/app/${app}`)).json.tags, []);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a person without admin roles sees what the rules allow and reads the refusals', async () => {
  const { ctx, page, errors } = await signedIn('reader', READER_PW);
  await page.waitForSelector('h1:text-is("Apps")');
  // the site's own sections are not offered to someone the rules give no node and no rule
  const offered = await page.$$eval('nav#side a', (as) => as.map((a) => a.textContent));
  for (const name of ['Nodes', 'Proxies', 'Service cluster', 'Health', 'Rules']) assert.ok(!offered.includes(name), offered.join(', '));
  for (const name of ['Apps', 'Streams', 'Tasks', 'Users']) assert.ok(offered.includes(name), offered.join(', '));
  await page.waitForFunction(() => /of \d+/.test(document.querySelector('.count')?.textContent ?? ''));
  // the apps list holds only what the rules let this person read
  const mine = (await site.api('GET', '/qrs/app')).json.length;
  assert.ok(mine >= 2);
  const readable = await page.$$eval('table[aria-label="Apps"] tbody tr[data-id]', (trs) => trs.length);
  assert.ok(readable < mine, `reader sees ${readable} of ${mine} apps`);
  // the rule made above lets reader read the Console stream and no other
  await section(page, 'Streams');
  await page.waitForSelector('.count:text-is("1–1 of 1")');
  assert.deepEqual(await rowNames(page, 'Streams'), ['Console stream']);
  assert.equal(await page.$('table[aria-label="Streams"] button.danger'), null);
  assert.equal(await page.$('table[aria-label="Streams"] button:text-is("Edit")'), null); // read, not update
  await page.fill('form[aria-label="Create a stream"] input[name=name]', 'Not mine');
  await page.click('form[aria-label="Create a stream"] button[type=submit]');
  await page.waitForSelector('.notice.bad[role=alert]');
  assert.match(await page.textContent('.notice.bad'), /^Not allowed: /);
  assert.equal((await site.api('GET', `/qrs/stream/count?filter=${encodeURIComponent("name eq 'Not mine'")}`)).json.value, 0);
  await shot(page, 'reader-refused');
  await accessible(page, 'streams as reader');
  assert.deepEqual(errors, []);
  await ctx.close();
});
