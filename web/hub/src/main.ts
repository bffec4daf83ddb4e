// The hub: the streams and apps a person may read, an app's sheets, and a sheet's charts
// with selections. One page; the address says what is shown (Qlik's shapes for apps and
// sheets), so a link can be shared and the browser's back button works.
import '../../common/base.css';
import './style.css';
import type { Nebula } from './charts';
import { chartTypes, preloadTypes } from './chart-types';
import { appUrl, hubUrl, isId, isObjectId, modelUrl, prefix, scriptUrl } from './base';
import { bookmarksPanel } from './bookmarks';
import { libraryChanges, libraryPanel } from './library';
import { clear, h, when } from '../../common/dom';
import {
  addChart,
  chartForm,
  chartTitle,
  checkMeasure,
  deleteSheet,
  newSheet,
  placeChart,
  placed,
  removeChart,
  renameSheet,
  retitleChart,
  STEPS,
  stepChart,
  stepped,
  type Cell,
} from './edit';
import { currentSelections, fieldNames, libraryItems, openApp, restoreSelections, tablesAndKeys, type LibraryItem, type Opened, type Selection } from './engine';
import { apps, HttpError, me, quoted, reload, reloadLog, streams, type Me } from './qrs';
import { signOut } from '../../common/http';

const main = document.getElementById('main') as HTMLElement;
const crumbs = document.getElementById('crumbs') as HTMLElement;
const banner = document.getElementById('banner') as HTMLElement;

type Route =
  | { kind: 'home'; stream?: string; work?: boolean }
  | { kind: 'app'; app: string; sheet?: string }
  | { kind: 'model'; app: string }
  | { kind: 'script'; app: string }
  | { kind: 'missing' };

function parse(path: string): Route {
  const p = path.startsWith(prefix) ? path.slice(prefix.length) : path;
  const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'hub') {
    if (parts.length === 1) return { kind: 'home' };
    if (parts[1] === 'work' && parts.length === 2) return { kind: 'home', work: true };
    if (parts[1] === 'stream' && isId(parts[2]) && parts.length === 3)
      return { kind: 'home', stream: parts[2] };
  }
  if (parts[0] === 'datamodelviewer' && parts[1] === 'app' && isId(parts[2]) && parts.length === 3)
    return { kind: 'model', app: parts[2] };
  if (parts[0] === 'dataloadeditor' && parts[1] === 'app' && isId(parts[2]) && parts.length === 3)
    return { kind: 'script', app: parts[2] };
  if (parts[0] === 'sense' && parts[1] === 'app' && isId(parts[2])) {
    if (parts.length === 3) return { kind: 'app', app: parts[2] };
    if (parts[3] === 'sheet' && isObjectId(parts[4]) && parts.length === 5)
      return { kind: 'app', app: parts[2], sheet: parts[4] };
  }
  return { kind: 'missing' };
}

function go(url: string, replace = false): void {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  void route();
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest('a[data-nav]') as HTMLAnchorElement | null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  e.preventDefault();
  go(a.pathname);
});
window.addEventListener('popstate', () => void route());

function failed(err: unknown): void {
  clear(main);
  const msg = err instanceof Error ? err.message : String(err);
  main.append(h('div', { class: 'error', role: 'alert' }, h('h1', {}, 'Something went wrong'), h('p', {}, msg)));
}

function setCrumbs(...items: [string, string?][]): void {
  clear(crumbs);
  items.forEach(([text, href], i) => {
    if (i) crumbs.append(h('span', { class: 'sep', 'aria-hidden': 'true' }, '›'));
    crumbs.append(href ? h('a', { href, 'data-nav': true }, text) : h('span', {}, text));
  });
}

/* ------------------------------------------------------------------ who is signed in */

let who: Me | null = null;

async function whoAmI(): Promise<Me> {
  if (!who) {
    who = await me();
    (document.getElementById('who') as HTMLElement).textContent = `${who.userDirectory}\\${who.userId}`;
  }
  return who;
}

document.getElementById('sign-out')?.addEventListener('click', async () => {
  await closeApp();
  signOut();
});

/* ------------------------------------------------------------------ streams and apps */

/* The apps of one section (Work, or a stream), asked of the server with the search text. */
async function section(title: string, filter: string, q: string): Promise<HTMLElement> {
  const list = await apps(q ? `(${filter}) and name so ${quoted(q)}` : filter);
  const cards = list.map((a) =>
    h(
      'li',
      { class: 'card' },
      h('a', { href: appUrl(a.id), 'data-nav': true, 'data-app-id': a.id }, h('span', { class: 'name' }, a.name)),
      a.description ? h('p', { class: 'desc' }, a.description) : null,
      h('p', { class: 'meta' }, `Reloaded ${when(a.lastReloadTime)}`),
    ),
  );
  return h(
    'section',
    { class: 'apps', 'aria-label': title },
    h('h2', {}, title),
    cards.length ? h('ul', { class: 'cards' }, ...cards) : h('p', { class: 'empty' }, q ? 'No app matches.' : 'No apps here yet.'),
  );
}

async function home(r: { stream?: string; work?: boolean }): Promise<void> {
  await closeApp();
  const [all, user] = await Promise.all([streams(), whoAmI()]);
  const stream = all.find((s) => s.id === r.stream);
  setCrumbs(['Hub', r.stream || r.work ? hubUrl() : undefined], ...(stream ? [[stream.name] as [string]] : r.work ? [['Work'] as [string]] : []));
  document.title = 'Fathom hub';

  const search = h('input', { type: 'search', placeholder: 'Search apps', 'aria-label': 'Search apps', class: 'search' });
  const nav = h(
    'nav',
    { class: 'streams', 'aria-label': 'Streams' },
    h('a', { href: hubUrl('work'), 'data-nav': true, 'aria-current': r.work ? 'page' : undefined }, 'Work'),
    ...all.map((s) => h('a', { href: hubUrl(`stream/${s.id}`), 'data-nav': true, 'aria-current': s.id === r.stream ? 'page' : undefined }, s.name)),
  );
  const sections: [string, string][] = [];
  if (!r.stream)
    sections.push(['Work', `published eq false and owner.userId eq ${quoted(user.userId)} and owner.userDirectory eq ${quoted(user.userDirectory)}`]);
  if (!r.work) for (const s of all.filter((x) => !r.stream || x.id === r.stream)) sections.push([s.name, `stream.id eq ${s.id}`]);
  const lists = h('div', { class: 'lists' });
  let asked = 0;
  const fill = async (): Promise<void> => {
    const mine = ++asked;
    const q = search.value.trim();
    const made = await Promise.all(sections.map(([title, filter]) => section(title, filter, q)));
    if (mine === asked) lists.replaceChildren(...made);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void fill().catch(failed), 200);
  });
  await fill();
  clear(main);
  main.append(h('div', { class: 'home' }, nav, h('div', {}, search, lists)));
}

/* ------------------------------------------------------------------ an app and its sheets */


interface SheetInfo {
  id: string;
  title: string;
  rank: number;
  columns: number;
  rows: number;
  cells: Cell[];
}

interface Current {
  app: string;
  opened: Opened;
  nebula: Nebula;
  sheets: SheetInfo[];
  title: string;
  selections: Selection[];
  closing: boolean;
  bar: HTMLElement | null; /* the selections toolbar, mounted once per session */
  bookmarks: HTMLElement | null; /* the bookmarks panel, made once per session */
  readOnly: boolean; /* the rules do not let this person change the app */
  editing: boolean;
  fields: string[] | null;
  library: { dimensions: LibraryItem[]; measures: LibraryItem[] } | null;
  libraryOpen: boolean; /* the master items' panel was left open */
}

let current: Current | null = null;
let rendered: { sheet: string; app: string } | null = null;

async function closeApp(): Promise<void> {
  const c = current;
  current = null;
  rendered = null;
  if (c) {
    c.closing = true;
    await c.opened.session.close().catch(() => undefined);
  }
}

const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

async function loadSheets(o: Opened): Promise<SheetInfo[]> {
  const infos = await o.doc.getAllInfos();
  const sheets = await Promise.all(
    infos
      .filter((i) => i.qType === 'sheet')
      .map(async (i) => {
        const p = (await (await o.doc.getObject(i.qId)).getProperties()) as {
          qMetaDef?: { title?: unknown };
          rank?: unknown;
          columns?: unknown;
          rows?: unknown;
          cells?: unknown;
        };
        const cells = (Array.isArray(p.cells) ? p.cells : []).filter(
          (c): c is Cell => !!c && typeof c === 'object' && isObjectId((c as Cell).name) && typeof (c as Cell).type === 'string',
        );
        return {
          id: i.qId,
          title: typeof p.qMetaDef?.title === 'string' ? p.qMetaDef.title : i.qId,
          rank: num(p.rank, 0),
          columns: Math.max(1, num(p.columns, 24)),
          rows: Math.max(1, num(p.rows, 12)),
          cells: cells.map((c) => ({ ...c, col: num(c.col, 0), row: num(c.row, 0), colspan: num(c.colspan, 6), rowspan: num(c.rowspan, 3) })),
        };
      }),
  );
  return sheets.sort((a, b) => a.rank - b.rank || a.title.localeCompare(b.title));
}

/* Opens the app's engine session and reads its sheets while nebula.js (a large module)
 * loads and runs, and starts loading the chart types of `sheet` (the one to be shown) as
 * soon as they are known. */
async function open(appId: string, sheet?: string): Promise<Current> {
  if (current?.app === appId) return current;
  await closeApp();
  const nebula = import('./charts');
  const opened = await openApp(appId, () => lost(c));
  const [layout, sheets] = await Promise.all([opened.doc.getAppLayout(), loadSheets(opened)]);
  const shown = sheets.find((s) => s.id === sheet);
  if (shown) preloadTypes(shown.cells.map((cell) => cell.type));
  const { charts } = await nebula;
  const c: Current = {
    app: appId,
    opened,
    nebula: charts(opened.doc),
    sheets,
    title: layout.qTitle,
    selections: [],
    closing: false,
    bar: null,
    bookmarks: null,
    readOnly: layout.qReadOnly === true,
    editing: false,
    fields: null,
    library: null,
    libraryOpen: false,
  };
  watchSelections(c);
  current = c;
  return c;
}

function watchSelections(c: Current): void {
  c.opened.selectionObject.on('changed', () => {
    currentSelections(c.opened).then(
      (s) => (c.selections = s),
      () => undefined,
    );
  });
  void c.opened.selectionObject.getLayout();
}

/* The engine session dropped: say so, open a new one, make the same selections, and show
 * the same sheet again. */
function lost(c: Current): void {
  if (c.closing || current !== c) return;
  banner.textContent = 'The connection to the engine was lost. Reconnecting…';
  banner.hidden = false;
  const saved = c.selections;
  let delay = 500;
  const retry = async (): Promise<void> => {
    if (current !== c) return;
    try {
      const { charts } = await import('./charts');
      const opened = await openApp(c.app, () => lost(c));
      await restoreSelections(opened, saved);
      c.opened = opened;
      c.nebula = charts(opened.doc);
      c.selections = saved;
      c.bar = null;
      c.bookmarks = null;
      watchSelections(c);
      rendered = null;
      banner.hidden = true;
      await route();
    } catch {
      delay = Math.min(delay * 2, 8000);
      banner.textContent = `The connection to the engine was lost. Trying again in ${Math.round(delay / 1000)} s…`;
      setTimeout(() => void retry(), delay);
    }
  };
  setTimeout(() => void retry(), delay);
}

/* After a change to the sheets: read them again and show `sheet` (default: the same). */
async function changed(c: Current, sheet?: string): Promise<void> {
  c.sheets = await loadSheets(c.opened);
  rendered = null;
  if (sheet) go(appUrl(c.app, sheet));
  else await route();
}

function sheetList(c: Current, current: string | undefined): HTMLElement {
  const list = h(
    'ul',
    {},
    ...c.sheets.map((s) =>
      h('li', {}, h('a', { href: appUrl(c.app, s.id), 'data-nav': true, 'aria-current': s.id === current ? 'page' : undefined }, s.title)),
    ),
  );
  const aside = h(
    'aside',
    { class: 'sheets', 'aria-label': 'Sheets' },
    h('h2', {}, 'Sheets'),
    list,
    h('a', { class: 'model-link', href: modelUrl(c.app), 'data-nav': true, 'aria-current': current === 'model' ? 'page' : undefined }, 'Data model'),
    c.readOnly
      ? null
      : h('a', { class: 'model-link', href: scriptUrl(c.app), 'data-nav': true, 'aria-current': current === 'script' ? 'page' : undefined }, 'Load script'),
  );
  if (!c.readOnly) {
    const name = h('input', { 'aria-label': 'New sheet title', placeholder: 'New sheet', required: true });
    const form = h('form', { class: 'new-sheet' }, name, h('button', { type: 'submit' }, 'Add sheet'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void newSheet(c.opened.doc, name.value.trim(), c.sheets.length)
        .then((id) => {
          c.editing = true;
          return changed(c, id);
        })
        .catch(failed);
    });
    aside.append(form);
  }
  c.bookmarks ??= bookmarksPanel(c.opened.doc, !c.readOnly, failed);
  aside.append(c.bookmarks);
  return aside;
}

function sheetHeader(c: Current, sheet: SheetInfo): HTMLElement {
  if (c.readOnly) return h('div', { class: 'sheet-head' }, h('h1', {}, sheet.title));
  const toggle = h('button', { type: 'button', class: 'quiet', 'aria-pressed': c.editing ? 'true' : 'false' }, c.editing ? 'Done' : 'Edit sheet');
  toggle.addEventListener('click', () => {
    c.editing = !c.editing;
    rendered = null;
    void route();
  });
  if (!c.editing) return h('div', { class: 'sheet-head' }, h('h1', {}, sheet.title), toggle);
  const title = h('input', { 'aria-label': 'Sheet title', value: sheet.title, required: true });
  const rename = h('form', { class: 'rename' }, title, h('button', { type: 'submit' }, 'Rename'));
  rename.addEventListener('submit', (e) => {
    e.preventDefault();
    void renameSheet(c.opened.doc, sheet.id, title.value.trim()).then(() => changed(c), failed);
  });
  const del = h('button', { type: 'button', class: 'danger' }, 'Delete sheet');
  del.addEventListener('click', () => {
    if (del.dataset.armed !== 'yes') {
      del.dataset.armed = 'yes';
      del.textContent = 'Really delete this sheet?';
      return;
    }
    void deleteSheet(c.opened.doc, sheet.id)
      .then(async () => {
        c.sheets = await loadSheets(c.opened);
        rendered = null;
        go(appUrl(c.app));
      })
      .catch(failed);
  });
  return h('div', { class: 'sheet-head' }, rename, del, toggle);
}

async function appView(r: { app: string; sheet?: string }): Promise<void> {
  if (rendered && rendered.app === r.app && rendered.sheet === r.sheet) return;
  if (!current || current.app !== r.app) {
    clear(main);
    main.append(h('p', { class: 'loading' }, 'Opening the app…'));
  }
  const c = await open(r.app, r.sheet);
  document.title = `${c.title} - Fathom`;
  if (!r.sheet) {
    if (c.sheets.length) return go(appUrl(r.app, c.sheets[0].id), true);
    setCrumbs(['Hub', hubUrl()], [c.title]);
    clear(main);
    main.append(
      h('div', { class: 'app' }, sheetList(c, undefined), h('section', { class: 'sheet' }, h('h1', {}, c.title), h('p', { class: 'empty' }, 'This app has no sheets yet.'))),
    );
    rendered = { app: r.app, sheet: '' };
    return;
  }
  const sheet = c.sheets.find((s) => s.id === r.sheet);
  if (!sheet) throw new Error('This app has no such sheet.');
  preloadTypes(sheet.cells.map((cell) => cell.type));
  setCrumbs(['Hub', hubUrl()], [c.title, appUrl(r.app)], [sheet.title]);

  const grid = h('div', { class: 'grid' });
  grid.style.setProperty('--cols', String(sheet.columns));
  grid.style.setProperty('--rows', String(sheet.rows));
  if (!c.bar) {
    c.bar = h('div', { class: 'selections', 'aria-label': 'Selections' });
    (await c.nebula.selections()).mount(c.bar);
  }
  let form: HTMLElement | null = null;
  if (c.editing && !c.readOnly) {
    c.fields ??= await fieldNames(c.opened.doc);
    c.library ??= await libraryItems(c.opened.doc);
    const check = (expr: string): Promise<string> => checkMeasure(c.opened.doc, expr);
    const library = libraryPanel(
      c.library,
      c.fields,
      libraryChanges(c.opened.doc, check),
      async () => {
        // the chart form offers the new items; the panel stays open
        c.library = null;
        c.libraryOpen = true;
        await changed(c);
      },
      c.libraryOpen,
    );
    library.addEventListener('toggle', () => (c.libraryOpen = (library as HTMLDetailsElement).open));
    form = h(
      'div',
      { class: 'editing' },
      chartForm(chartTypes, c.fields, c.library, check, async (spec) => {
        await addChart(c.opened.doc, c.nebula, sheet.id, spec);
        await changed(c);
      }),
      library,
    );
  }
  clear(main);
  main.append(h('div', { class: 'app' }, sheetList(c, sheet.id), h('section', { class: 'sheet' }, c.bar, sheetHeader(c, sheet), form, grid)));
  rendered = { app: r.app, sheet: sheet.id };
  if (!sheet.cells.length) grid.append(h('p', { class: 'empty' }, c.readOnly ? 'This sheet is empty.' : 'This sheet is empty: Edit sheet, then Add chart.'));
  await Promise.all(sheet.cells.map((cell) => renderCell(c, grid, cell, sheet)));
}

/* The data model: each table with its rows and fields, the keys that link them. */
async function modelView(appId: string): Promise<void> {
  const c = await open(appId);
  const tk = await tablesAndKeys(c.opened.doc);
  setCrumbs(['Hub', hubUrl()], [c.title, appUrl(appId)], ['Data model']);
  document.title = `Data model - ${c.title} - Fathom`;
  const fmt = (n: number) => n.toLocaleString('en-US');
  const tables = tk.qtr.map((t) =>
    h(
      'section',
      { class: 'model-table', 'aria-label': t.qName },
      h('h2', {}, t.qName, h('span', { class: 'rows' }, `${fmt(t.qNoOfRows)} rows`)),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Distinct values'), h('th', { scope: 'col' }, 'Key'))),
        h(
          'tbody',
          {},
          ...t.qFields.map((f) =>
            h('tr', {}, h('td', {}, f.qName), h('td', { class: 'num' }, fmt(f.qnTotalDistinctValues)), h('td', {}, f.qKeyType === 'NOT_KEY' ? '' : 'key')),
          ),
        ),
      ),
    ),
  );
  const keys = tk.qk.map((k) => h('li', {}, `${k.qTables.join(' — ')} by ${k.qKeyFields.join(', ')}`));
  clear(main);
  main.append(
    h(
      'div',
      { class: 'app' },
      sheetList(c, 'model'),
      h(
        'section',
        { class: 'sheet model' },
        h('h1', {}, 'Data model'),
        h('div', { class: 'model-tables' }, ...tables),
        h('h2', {}, 'Links'),
        keys.length ? h('ul', { class: 'links' }, ...keys) : h('p', { class: 'empty' }, 'The tables are not linked.'),
      ),
    ),
  );
  rendered = null;
}

/* The load script: edit, save, reload with the log as it is written. Only for people who
 * may change the app (the engine refuses SetScript and the repository the reload for
 * others). */
async function scriptView(appId: string): Promise<void> {
  const c = await open(appId);
  setCrumbs(['Hub', hubUrl()], [c.title, appUrl(appId)], ['Load script']);
  document.title = `Load script - ${c.title} - Fathom`;
  if (c.readOnly) throw new Error('You may not change this app, so its load script is not shown.');
  const text = h('textarea', { class: 'script', 'aria-label': 'Load script', spellcheck: 'false', wrap: 'off' });
  text.value = await c.opened.doc.getScript();
  const status = h('p', { class: 'status', role: 'status' });
  const log = h('pre', { class: 'log', 'aria-label': 'Reload log' });
  const save = h('button', { type: 'button' }, 'Save');
  const run = h('button', { type: 'button', class: 'primary' }, 'Save and reload');
  const saveScript = async () => {
    await c.opened.doc.setScript(text.value);
    await c.opened.doc.doSave();
  };
  save.addEventListener('click', () => {
    status.textContent = 'Saving…';
    saveScript().then(() => (status.textContent = 'Saved.'), (err) => (status.textContent = `Not saved: ${err.message ?? err}`));
  });
  run.addEventListener('click', () => {
    run.disabled = save.disabled = true;
    status.textContent = 'Reloading…';
    log.textContent = '';
    let done = false;
    const follow = async () => {
      while (!done) {
        log.textContent = await reloadLog(appId).catch(() => log.textContent ?? '');
        await new Promise((r) => setTimeout(r, 400));
      }
    };
    void follow();
    let before = '';
    saveScript()
      .then(async () => (before = (await c.opened.doc.getAppLayout()).qLastReloadTime ?? ''))
      .then(() => reload(appId))
      .then(async () => {
        // the engine moves the session to the new data on its own: wait until it has
        for (let i = 0; i < 75 && ((await c.opened.doc.getAppLayout()).qLastReloadTime ?? '') === before; i++)
          await new Promise((r) => setTimeout(r, 200));
      })
      .then(
        () => (status.textContent = 'Reloaded: the app has the new data.'),
        (err) => {
          const why = err instanceof HttpError || err instanceof Error ? err.message : String(err);
          status.textContent = `The reload failed: ${why.replace(/^the reload failed:\s*/i, '')}`;
        },
      )
      .finally(async () => {
        done = true;
        log.textContent = await reloadLog(appId).catch(() => log.textContent ?? '');
        c.fields = null;
        run.disabled = save.disabled = false;
      });
  });
  clear(main);
  main.append(
    h(
      'div',
      { class: 'app' },
      sheetList(c, 'script'),
      h('section', { class: 'sheet editor' }, h('div', { class: 'sheet-head' }, h('h1', {}, 'Load script'), save, run), text, status, log),
    ),
  );
  rendered = null;
}

/* Dragging a chart in edit mode, by its grip (move) or its lower right corner (resize):
 * an outline follows the pointer from one unit of the grid to the next, marked where the
 * chart does not fit (off the sheet, over another chart); letting go there, or Escape,
 * leaves the chart where it was. The handles are for a pointer: the tools' step buttons do
 * the same from the keyboard. */
function dragHandle(c: Current, box: HTMLElement, cell: Cell, sheet: SheetInfo, mode: 'move' | 'resize'): HTMLElement {
  const handle = h('div', { class: mode === 'move' ? 'grip' : 'corner', title: mode === 'move' ? 'Drag to move' : 'Drag to resize', 'aria-hidden': 'true' }, mode === 'move' ? '✥' : '');
  handle.addEventListener('pointerdown', (down: PointerEvent) => {
    if (down.button !== 0) return;
    down.preventDefault();
    const grid = box.parentElement as HTMLElement;
    const style = getComputedStyle(grid);
    const r = box.getBoundingClientRect();
    // one unit of the grid: the chart's own size over its spans, with the gaps between
    const colUnit = (r.width + (parseFloat(style.columnGap) || 0)) / cell.colspan;
    const rowUnit = (r.height + (parseFloat(style.rowGap) || 0)) / cell.rowspan;
    const ghost = h('div', { class: 'ghost', 'data-for': cell.name });
    grid.append(ghost);
    let to: Cell | null = cell;
    const show = (e: PointerEvent): void => {
      const dc = Math.round((e.clientX - down.clientX) / colUnit);
      const dr = Math.round((e.clientY - down.clientY) / rowUnit);
      const n = mode === 'move' ? { ...cell, col: cell.col + dc, row: cell.row + dr } : { ...cell, colspan: cell.colspan + dc, rowspan: cell.rowspan + dr };
      to = placed(sheet.cells, n, sheet.columns);
      ghost.classList.toggle('bad', !to);
      ghost.style.gridColumn = `${Math.max(0, n.col) + 1} / span ${Math.max(1, n.colspan)}`;
      ghost.style.gridRow = `${Math.max(0, n.row) + 1} / span ${Math.max(1, n.rowspan)}`;
    };
    show(down);
    const end = (drop: boolean): void => {
      handle.removeEventListener('pointermove', show);
      handle.removeEventListener('pointerup', up);
      handle.removeEventListener('pointercancel', cancel);
      document.removeEventListener('keydown', escape);
      ghost.remove();
      const n = drop ? to : null;
      if (!n || (n.col === cell.col && n.row === cell.row && n.colspan === cell.colspan && n.rowspan === cell.rowspan)) return;
      void placeChart(c.opened.doc, sheet.id, cell.name, { col: n.col, row: n.row, colspan: n.colspan, rowspan: n.rowspan }).then(() => changed(c), failed);
    };
    const up = (e: PointerEvent): void => {
      show(e);
      end(true);
    };
    const cancel = (): void => end(false);
    const escape = (e: KeyboardEvent): void => {
      if (e.key === 'Escape') end(false);
    };
    handle.setPointerCapture(down.pointerId);
    handle.addEventListener('pointermove', show);
    handle.addEventListener('pointerup', up);
    handle.addEventListener('pointercancel', cancel);
    document.addEventListener('keydown', escape);
  });
  return handle;
}

/* In edit mode, a chart's tools: remove it, move it and resize it by one unit of the grid
 * (a step that would leave the sheet or cover another chart is disabled). */
function cellTools(c: Current, cell: Cell, sheet: SheetInfo): HTMLElement {
  const retitle = h('button', { type: 'button', 'aria-label': `Rename chart ${cell.name}`, title: 'Rename' }, '✎');
  retitle.addEventListener('click', () => void renameForm(c, cell).catch(failed));
  const remove = h('button', { type: 'button', class: 'remove', 'aria-label': `Remove chart ${cell.name}` }, '✕');
  remove.addEventListener('click', () => void removeChart(c.opened.doc, sheet.id, cell.name).then(() => changed(c), failed));
  const steps = STEPS.map(([label, sign, step]) => {
    const b = h('button', { type: 'button', 'aria-label': `${label}: ${cell.name}`, title: label }, sign);
    b.disabled = !stepped(sheet.cells, cell.name, step, sheet.columns);
    b.addEventListener('click', () => void stepChart(c.opened.doc, sheet.id, cell.name, step).then(() => changed(c), failed));
    return b;
  });
  return h('div', { class: 'cell-tools', role: 'toolbar', 'aria-label': `Place of ${cell.name}` }, ...steps, retitle, remove);
}

/* A chart's new title, typed over the top of the chart: saved with Enter or Save; Escape or
 * Cancel leaves it. */
async function renameForm(c: Current, cell: Cell): Promise<void> {
  const box = document.querySelector<HTMLElement>(`.cell[data-object-id="${CSS.escape(cell.name)}"]`);
  if (!box || box.querySelector('.retitle')) return;
  const input = h('input', { 'aria-label': `Title of chart ${cell.name}`, value: await chartTitle(c.opened.doc, cell.name) });
  const cancel = h('button', { type: 'button', class: 'quiet' }, 'Cancel');
  const form = h('form', { class: 'retitle' }, input, h('button', { type: 'submit' }, 'Save'), cancel);
  const close = (): void => form.remove();
  cancel.addEventListener('click', close);
  form.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void retitleChart(c.opened.doc, cell.name, input.value.trim()).then(() => changed(c), failed);
  });
  box.append(form);
  input.focus();
  input.select();
}

async function renderCell(c: Current, grid: HTMLElement, cell: Cell, sheet: SheetInfo): Promise<void> {
  const box = h('div', { class: 'cell', 'data-object-id': cell.name, 'data-type': cell.type });
  box.style.gridColumn = `${cell.col + 1} / span ${cell.colspan}`;
  box.style.gridRow = `${cell.row + 1} / span ${cell.rowspan}`;
  const el = h('div', { class: 'viz' });
  box.append(el);
  if (c.editing && !c.readOnly) {
    const tools = cellTools(c, cell, sheet);
    tools.prepend(dragHandle(c, box, cell, sheet, 'move'));
    box.append(tools, dragHandle(c, box, cell, sheet, 'resize'));
  }
  grid.append(box);
  try {
    if (cell.type === 'listbox') {
      const props = (await (await c.opened.doc.getObject(cell.name)).getProperties()) as {
        qListObjectDef?: { qDef?: { qFieldDefs?: string[] } };
      };
      const field = props.qListObjectDef?.qDef?.qFieldDefs?.[0];
      if (!field) throw new Error('this list has no field');
      await (await c.nebula.field(field)).mount(el, { title: field, search: true });
      box.dataset.rendered = 'yes';
    } else {
      // data-rendered: the chart has drawn its first layout (tests and bench/hub_run wait on it).
      // Charts animate their changes unless the person's system asks for reduced motion.
      await c.nebula.render({
        element: el,
        id: cell.name,
        options: { chartAnimations: !reducedMotion() },
        onRender: () => (box.dataset.rendered = 'yes'),
      });
    }
  } catch (err) {
    el.replaceChildren(h('p', { class: 'cell-error' }, `This chart cannot be shown: ${err instanceof Error ? err.message : String(err)}`));
  }
}

/** Whether the person's system asks for less motion (charts then change without animating). */
function reducedMotion(): boolean {
  return window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;
}

/* ------------------------------------------------------------------ */

async function route(): Promise<void> {
  const r = parse(location.pathname);
  try {
    await whoAmI();
    if (r.kind === 'home') await home(r);
    else if (r.kind === 'app') await appView(r);
    else if (r.kind === 'model') await modelView(r.app);
    else if (r.kind === 'script') await scriptView(r.app);
    else {
      await closeApp();
      setCrumbs(['Hub', hubUrl()]);
      clear(main);
      main.append(h('div', { class: 'error' }, h('h1', {}, 'Nothing here'), h('p', {}, 'The address names no stream, app or sheet.')));
    }
  } catch (err) {
    rendered = null;
    failed(err);
  }
}

// an app's address: its engine session needs nebula.js, whose module loads meanwhile
if (parse(location.pathname).kind === 'app') void import('./charts').catch(() => undefined);
void route();
