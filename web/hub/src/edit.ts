// Editing an app's sheets, for people the security rules let change the app (the engine
// says so in qReadOnly, and refuses the changes of everyone else): new sheets, titles,
// charts added from a type, a dimension and a measure that the engine checks first, charts
// removed, sheets deleted. Every change is saved in the app at once (DoSave), so it is
// there for every session, on every node, after a reload of the page.
import type { Nebula } from './charts';
import { h } from '../../common/dom';
import type { Doc, LibraryItem } from './engine';

export interface Cell {
  name: string;
  type: string;
  col: number;
  row: number;
  colspan: number;
  rowspan: number;
}

const newId = (kind: string): string =>
  `${kind}-${Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('')}`;

async function sheetProps(doc: Doc, id: string): Promise<Record<string, unknown> & { cells?: Cell[] }> {
  return (await (await doc.getObject(id)).getProperties()) as Record<string, unknown> & { cells?: Cell[] };
}

async function putSheet(doc: Doc, id: string, props: Record<string, unknown>): Promise<void> {
  await (await doc.getObject(id)).setProperties(props);
  await doc.doSave();
}

export async function newSheet(doc: Doc, title: string, rank: number): Promise<string> {
  const id = newId('sheet');
  await doc.createObject({
    qInfo: { qId: id, qType: 'sheet' },
    qMetaDef: { title, description: '' },
    rank,
    columns: 24,
    rows: 12,
    cells: [],
  });
  await doc.doSave();
  return id;
}

export async function renameSheet(doc: Doc, id: string, title: string): Promise<void> {
  const p = await sheetProps(doc, id);
  await putSheet(doc, id, { ...p, qMetaDef: { ...(p.qMetaDef as object), title } });
}

export async function deleteSheet(doc: Doc, id: string): Promise<void> {
  const p = await sheetProps(doc, id);
  for (const c of p.cells ?? []) await doc.destroyObject(c.name).catch(() => false);
  await doc.destroyObject(id);
  await doc.doSave();
}

export interface ChartSpec {
  type: string;
  title: string;
  /* each a field's name, or LIB and a master dimension's id; with the names the form shows */
  dimensions: { value: string; label: string }[];
  measures: string[]; /* each an expression, or LIB and a master measure's id */
}

/** How the chart form names a master item among fields and expressions. */
const LIB = 'library:';

/** An error message from the engine for the measure, or "" when it computes. */
export async function checkMeasure(doc: Doc, expr: string): Promise<string> {
  if (!expr.trim()) return 'Write an expression, such as Sum(Amount).';
  return (await doc.checkExpression(expr)).qErrorMsg;
}

/* A new cell goes below the others, half the sheet wide (a KPI a quarter, two rows high). */
function place(cells: Cell[], type: string, columns: number): Cell {
  const bottom = cells.reduce((m, c) => Math.max(m, c.row + c.rowspan), 0);
  const lastRow = cells.filter((c) => c.row + c.rowspan === bottom && bottom > 0);
  const width = type === 'kpi' ? Math.max(1, Math.round(columns / 4)) : Math.max(1, Math.round(columns / 2));
  const height = type === 'kpi' ? 2 : 4;
  const right = lastRow.reduce((m, c) => Math.max(m, c.col + c.colspan), 0);
  const top = lastRow.length ? lastRow[0].row : 0;
  if (lastRow.length && right + width <= columns && lastRow.every((c) => c.row === top))
    return { name: '', type, col: right, row: top, colspan: width, rowspan: height };
  return { name: '', type, col: 0, row: bottom, colspan: width, rowspan: height };
}

/* A filter pane's list box of one field (or master dimension), as the filter pane makes
 * its children. */
function listBoxOf(dimension: string, title: string): object {
  const lib = dimension.startsWith(LIB) ? { qLibraryId: dimension.slice(LIB.length) } : {};
  return {
    qInfo: { qType: 'listbox' },
    visualization: 'listbox',
    title,
    qListObjectDef: {
      ...lib,
      qDef: { ...(lib.qLibraryId ? {} : { qFieldDefs: [dimension] }), qSortCriterias: [{ qSortByState: 1, qSortByAscii: 1, qSortByNumeric: 1 }] },
      qShowAlternatives: true,
      qInitialDataFetch: [{ qLeft: 0, qTop: 0, qWidth: 1, qHeight: 100 }],
    },
  };
}

export async function addChart(doc: Doc, nebula: Nebula, sheetId: string, spec: ChartSpec): Promise<string> {
  const pane = spec.type === 'filterpane';
  // master items go to nebula.js as {qLibraryId, type}
  const measures = spec.measures.map((m) =>
    m.startsWith(LIB) ? { qLibraryId: m.slice(LIB.length), type: 'measure' } : { qDef: { qDef: m.replace(/^\s*=/, '').trim(), qLabel: m.trim() } },
  );
  const dimensions = spec.dimensions.map(({ value }) => (value.startsWith(LIB) ? { qLibraryId: value.slice(LIB.length), type: 'dimension' } : value));
  const fields = pane ? [] : [...(spec.type === 'kpi' ? [] : dimensions), ...measures];
  const props = (await nebula.generateProperties({ type: spec.type, fields: fields as never, properties: { title: spec.title } as never })) as Record<string, unknown>;
  const id = newId(spec.type);
  const obj = await doc.createObject({ ...props, qInfo: { qId: id, qType: spec.type } });
  // a filter pane's list boxes: one a dimension, titled by it (one alone by the chart's title)
  if (pane)
    for (const d of spec.dimensions) await obj.createChild(listBoxOf(d.value, spec.dimensions.length === 1 ? spec.title : d.label));
  const p = await sheetProps(doc, sheetId);
  const cells = p.cells ?? [];
  const columns = typeof p.columns === 'number' ? p.columns : 24;
  const cell = { ...place(cells, spec.type, columns), name: id };
  const rows = Math.max(typeof p.rows === 'number' ? p.rows : 12, cell.row + cell.rowspan);
  await putSheet(doc, sheetId, { ...p, rows, cells: [...cells, cell] });
  return id;
}

/** A chart's title as its properties hold it ("" when it is an expression or none). */
export async function chartTitle(doc: Doc, name: string): Promise<string> {
  const p = await (await doc.getObject(name)).getProperties();
  return typeof p.title === 'string' ? p.title : '';
}

/** Gives a chart a new title, and saves the app. */
export async function retitleChart(doc: Doc, name: string, title: string): Promise<void> {
  const o = await doc.getObject(name);
  await o.setProperties({ ...(await o.getProperties()), title });
  await doc.doSave();
}

export async function removeChart(doc: Doc, sheetId: string, name: string): Promise<void> {
  const p = await sheetProps(doc, sheetId);
  await putSheet(doc, sheetId, { ...p, cells: (p.cells ?? []).filter((c) => c.name !== name) });
  await doc.destroyObject(name).catch(() => false);
  await doc.doSave();
}

/** A step of a cell on the grid: moved by (dCol, dRow) and grown by (dWidth, dHeight). */
export interface Step {
  dCol: number;
  dRow: number;
  dWidth: number;
  dHeight: number;
}

/** The steps the cell tools offer, by their names. */
export const STEPS: [string, string, Step][] = [
  ['Move left', '←', { dCol: -1, dRow: 0, dWidth: 0, dHeight: 0 }],
  ['Move right', '→', { dCol: 1, dRow: 0, dWidth: 0, dHeight: 0 }],
  ['Move up', '↑', { dCol: 0, dRow: -1, dWidth: 0, dHeight: 0 }],
  ['Move down', '↓', { dCol: 0, dRow: 1, dWidth: 0, dHeight: 0 }],
  ['Narrower', '⇤', { dCol: 0, dRow: 0, dWidth: -1, dHeight: 0 }],
  ['Wider', '⇥', { dCol: 0, dRow: 0, dWidth: 1, dHeight: 0 }],
  ['Shorter', '⤒', { dCol: 0, dRow: 0, dWidth: 0, dHeight: -1 }],
  ['Taller', '⤓', { dCol: 0, dRow: 0, dWidth: 0, dHeight: 1 }],
];

/**
 * Where the cell goes after the step, or null when it cannot go: out of the sheet's
 * columns, above its top, smaller than one unit, or over another cell.
 */
export function stepped(cells: Cell[], name: string, step: Step, columns: number): Cell | null {
  const c = cells.find((x) => x.name === name);
  if (!c) return null;
  return placed(cells, { ...c, col: c.col + step.dCol, row: c.row + step.dRow, colspan: c.colspan + step.dWidth, rowspan: c.rowspan + step.dHeight }, columns);
}

/** The cell `n` (a chart's new place) when it fits the sheet among the other cells, else null. */
export function placed(cells: Cell[], n: Cell, columns: number): Cell | null {
  if (!cells.some((x) => x.name === n.name)) return null;
  if (n.col < 0 || n.row < 0 || n.colspan < 1 || n.rowspan < 1 || n.col + n.colspan > columns) return null;
  const overlaps = (o: Cell): boolean =>
    o.name !== n.name && o.col < n.col + n.colspan && n.col < o.col + o.colspan && o.row < n.row + n.rowspan && n.row < o.row + o.rowspan;
  return cells.some(overlaps) ? null : n;
}

/**
 * Moves or resizes a chart on its sheet as `to` says from its place in the saved sheet, and
 * saves the sheet (the sheet grows downwards); false when the new place does not fit.
 */
async function replaceChart(doc: Doc, sheetId: string, name: string, to: (cells: Cell[], columns: number) => Cell | null): Promise<boolean> {
  const p = await sheetProps(doc, sheetId);
  const cells = p.cells ?? [];
  const n = to(cells, typeof p.columns === 'number' ? p.columns : 24);
  if (!n) return false;
  const rows = Math.max(typeof p.rows === 'number' ? p.rows : 12, n.row + n.rowspan);
  await putSheet(doc, sheetId, { ...p, rows, cells: cells.map((c) => (c.name === name ? n : c)) });
  return true;
}

/** Moves or resizes a chart by one step (the cell tools' buttons). */
export async function stepChart(doc: Doc, sheetId: string, name: string, step: Step): Promise<void> {
  await replaceChart(doc, sheetId, name, (cells, columns) => stepped(cells, name, step, columns));
}

/** Puts a chart where it was dragged to: its column, row, width and height on the grid. */
export async function placeChart(doc: Doc, sheetId: string, name: string, to: Omit<Cell, 'name' | 'type'>): Promise<boolean> {
  return replaceChart(doc, sheetId, name, (cells, columns) => {
    const c = cells.find((x) => x.name === name);
    return c ? placed(cells, { ...c, ...to }, columns) : null;
  });
}

const CHART_NAMES: Record<string, string> = {
  barchart: 'Bar chart',
  linechart: 'Line chart',
  piechart: 'Pie chart',
  kpi: 'KPI',
  table: 'Table',
  filterpane: 'Filter pane',
  'pivot-table': 'Pivot table',
  combochart: 'Combo chart',
  scatterplot: 'Scatter plot',
};

/* A list in the chart form that grows: its first entry, and more added and removed by
 * buttons, each entry named with its number after the first ("Measure 2"). */
function growing(noun: string, make: (n: number) => HTMLElement[], max: number): { box: HTMLElement; entries: () => HTMLElement[][]; reset: () => void } {
  const box = h('span', { class: 'growing' });
  const rows: HTMLElement[][] = [];
  const more = h('button', { type: 'button', class: 'quiet', 'aria-label': `Add a ${noun.toLowerCase()}`, title: `Add a ${noun.toLowerCase()}` }, `+ ${noun}`);
  const add = (): void => {
    const n = rows.length + 1;
    const row = make(n);
    if (n > 1) {
      const remove = h('button', { type: 'button', class: 'quiet', 'aria-label': `Remove ${noun.toLowerCase()} ${n}`, title: 'Remove' }, '✕');
      remove.addEventListener('click', () => {
        rows.splice(rows.indexOf(row), 1);
        for (const e of row) e.remove();
        renumber();
      });
      row.push(remove);
    }
    rows.push(row);
    box.insertBefore(h('span', { class: 'entry' }, ...row), more);
    more.hidden = rows.length >= max;
  };
  /* after a removal: the names follow the places, and empty wrappers go */
  const renumber = (): void => {
    for (const e of [...box.querySelectorAll('.entry')]) if (!e.childElementCount) e.remove();
    rows.forEach((row, i) => {
      for (const e of row) {
        const label = e.getAttribute('aria-label');
        if (label && i > 0) e.setAttribute('aria-label', label.replace(/ \d+$/, ` ${i + 1}`));
      }
    });
    more.hidden = rows.length >= max;
  };
  more.addEventListener('click', add);
  box.append(more);
  add();
  return {
    box,
    entries: () => rows,
    reset: () => {
      while (rows.length > 1) for (const e of rows.pop() ?? []) e.remove();
      renumber();
    },
  };
}

/** The form that adds a chart: type, title, dimensions (fields or master dimensions) and
 * measures (expressions or master measures), as many as the chart takes. */
export function chartForm(
  types: string[],
  fields: string[],
  library: { dimensions: LibraryItem[]; measures: LibraryItem[] },
  check: (expr: string) => Promise<string>,
  add: (s: ChartSpec) => Promise<void>,
): HTMLFormElement {
  const type = h('select', { name: 'type', 'aria-label': 'Chart type' }, ...types.map((t) => h('option', { value: t }, CHART_NAMES[t] ?? t)));
  const title = h('input', { name: 'title', 'aria-label': 'Chart title', placeholder: 'Title', required: true });
  const option = (i: LibraryItem) => h('option', { value: LIB + i.id }, i.title);
  const suffix = (n: number): string => (n > 1 ? ` ${n}` : '');
  const dims = growing(
    'Dimension',
    (n) => {
      const dim = h(
        'select',
        { name: 'dimension', 'aria-label': `Dimension${suffix(n)}` },
        library.dimensions.length ? h('optgroup', { label: 'Master dimensions' }, ...library.dimensions.map(option)) : null,
        h('optgroup', { label: 'Fields' }, ...fields.map((f) => h('option', { value: f }, f))),
      );
      // no master dimension chosen first: a field is (the next one for each more)
      dim.value = fields[Math.min(n - 1, fields.length - 1)] ?? dim.value;
      return [dim];
    },
    8,
  );
  const measures = growing(
    'Measure',
    (n) => {
      const fromLibrary = h(
        'select',
        { name: 'library-measure', 'aria-label': `Master measure${suffix(n)}`, hidden: !library.measures.length },
        h('option', { value: '' }, 'An expression:'),
        ...library.measures.map(option),
      );
      const measure = h('input', { name: 'measure', 'aria-label': `Measure${suffix(n)}`, placeholder: 'Sum(Amount)', required: true, spellcheck: 'false' });
      fromLibrary.addEventListener('change', () => sync());
      return [fromLibrary, measure];
    },
    8,
  );
  const problem = h('p', { class: 'problem', role: 'alert' });
  const button = h('button', { type: 'submit' }, 'Add chart');
  const form = h('form', { class: 'chart-form', 'aria-label': 'Add a chart' }, type, title, dims.box, measures.box, button, problem);
  const controls = (g: typeof dims): HTMLElement[] => [...g.box.querySelectorAll<HTMLElement>('select, input, button')];
  const sync = (): void => {
    // a KPI has no dimension; a filter pane lists its dimensions' values: no measure
    for (const e of controls(dims)) (e as HTMLInputElement).disabled = type.value === 'kpi';
    for (const e of controls(measures)) (e as HTMLInputElement).disabled = type.value === 'filterpane';
    for (const [lib, input] of measures.entries() as [HTMLSelectElement, HTMLInputElement][])
      input.disabled = type.value === 'filterpane' || lib.value !== '';
  };
  type.addEventListener('change', sync);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    button.disabled = true;
    problem.textContent = '';
    void (async () => {
      try {
        const chosen: string[] = [];
        for (const [i, [lib, input]] of (measures.entries() as [HTMLSelectElement, HTMLInputElement][]).entries()) {
          if (type.value === 'filterpane') break;
          if (lib.value && !lib.disabled) {
            chosen.push(lib.value);
            continue;
          }
          const msg = await check(input.value);
          if (msg) {
            problem.textContent = `The measure${suffix(i + 1)} does not compute: ${msg}`;
            return;
          }
          chosen.push(input.value.trim());
        }
        const dimensions =
          type.value === 'kpi'
            ? []
            : (dims.entries() as [HTMLSelectElement][]).map(([d]) => ({ value: d.value, label: d.selectedOptions[0]?.textContent ?? d.value }));
        await add({ type: type.value, title: title.value.trim(), dimensions, measures: chosen });
        dims.reset();
        measures.reset();
        sync();
      } catch (err) {
        problem.textContent = err instanceof Error ? err.message : String(err);
      } finally {
        button.disabled = false;
      }
    })();
  });
  sync();
  return form;
}
