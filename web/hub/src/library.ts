// The app's master items in edit mode: its dimensions (a field under a title) and measures
// (an expression under a title), which the chart form then offers beside the fields.
// People who may change the app add them (the engine checks a measure's expression first)
// and delete them (a second click confirms: the charts made of one lose it).
import { h } from '../../common/dom';
import type { Doc, LibraryItem } from './engine';

export interface LibraryChanges {
  addDimension(field: string, title: string): Promise<void>;
  addMeasure(expr: string, title: string): Promise<void>;
  remove(kind: 'dimension' | 'measure', id: string): Promise<void>;
  check(expr: string): Promise<string>;
}

/** What the panel does to the app, saved at once. */
export function libraryChanges(doc: Doc, check: (expr: string) => Promise<string>): LibraryChanges {
  return {
    async addDimension(field, title) {
      await doc.createDimension({
        qInfo: { qType: 'dimension' },
        qDim: { qGrouping: 'N', qFieldDefs: [field], qFieldLabels: [title], title },
        qMetaDef: { title },
      });
      await doc.doSave();
    },
    async addMeasure(expr, title) {
      await doc.createMeasure({ qInfo: { qType: 'measure' }, qMeasure: { qLabel: title, qDef: expr }, qMetaDef: { title } });
      await doc.doSave();
    },
    async remove(kind, id) {
      await (kind === 'dimension' ? doc.destroyDimension(id) : doc.destroyMeasure(id));
      await doc.doSave();
    },
    check,
  };
}

/** The panel: the lists with their delete buttons, and a form for each kind. `done` runs
 * after each change (the caller shows the sheet again, with the chart form's new items). */
export function libraryPanel(
  library: { dimensions: LibraryItem[]; measures: LibraryItem[] },
  fields: string[],
  act: LibraryChanges,
  done: () => Promise<void>,
  open: boolean,
): HTMLElement {
  const problem = h('p', { class: 'problem', role: 'alert' });
  const run = (work: () => Promise<void>): void => {
    problem.textContent = '';
    void work()
      .then(done)
      .catch((err: unknown) => (problem.textContent = err instanceof Error ? err.message : String(err)));
  };
  const list = (kind: 'dimension' | 'measure', items: LibraryItem[]): HTMLElement =>
    h(
      'ul',
      { 'aria-label': `Master ${kind}s` },
      ...(items.length
        ? items.map((i) => {
            const del = h('button', { type: 'button', class: 'remove', 'aria-label': `Delete master ${kind} ${i.title}`, title: 'Delete' }, '✕');
            del.addEventListener('click', () => {
              if (del.dataset.armed !== 'yes') {
                del.dataset.armed = 'yes';
                del.textContent = 'Really delete?';
                del.setAttribute('aria-label', `Really delete master ${kind} ${i.title}?`);
                return;
              }
              run(() => act.remove(kind, i.id));
            });
            return h('li', {}, h('span', {}, i.title), del);
          })
        : [h('li', { class: 'empty' }, 'None yet')]),
    );

  const field = h('select', { 'aria-label': 'Field of the new master dimension' }, ...fields.map((f) => h('option', { value: f }, f)));
  const dimTitle = h('input', { 'aria-label': 'Title of the new master dimension', placeholder: 'Title', required: true });
  const dimForm = h('form', {}, field, dimTitle, h('button', { type: 'submit' }, 'Add dimension'));
  dimForm.addEventListener('submit', (e) => {
    e.preventDefault();
    run(() => act.addDimension(field.value, dimTitle.value.trim()));
  });

  const expr = h('input', { 'aria-label': 'Expression of the new master measure', placeholder: 'Sum(Amount)', required: true, spellcheck: 'false' });
  const measureTitle = h('input', { 'aria-label': 'Title of the new master measure', placeholder: 'Title', required: true });
  const measureForm = h('form', {}, expr, measureTitle, h('button', { type: 'submit' }, 'Add measure'));
  measureForm.addEventListener('submit', (e) => {
    e.preventDefault();
    run(async () => {
      const msg = await act.check(expr.value);
      if (msg) throw new Error(`The measure does not compute: ${msg}`);
      await act.addMeasure(expr.value.trim(), measureTitle.value.trim());
    });
  });

  const panel = h(
    'details',
    { class: 'library' },
    h('summary', {}, `Master items (${library.dimensions.length + library.measures.length})`),
    h('div', { class: 'library-kinds' },
      h('section', { 'aria-label': 'Master dimensions' }, h('h3', {}, 'Dimensions'), list('dimension', library.dimensions), dimForm),
      h('section', { 'aria-label': 'Master measures' }, h('h3', {}, 'Measures'), list('measure', library.measures), measureForm),
    ),
    problem,
  );
  (panel as HTMLDetailsElement).open = open;
  return panel;
}
