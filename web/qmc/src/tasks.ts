// Reload tasks: the list with each task's last execution, a form that builds a task with a
// schedule (once, hourly, daily, weekly on chosen days, monthly, in a named time zone, or
// after other tasks succeed or fail), start, stop, enable, disable, rename, another app,
// tags, and delete; a task's triggers (added and deleted) and executions, with the script
// log of one followed as it grows.
import { h } from '../../common/dom';
import { appNamed, del, EXEC_STATUS, FINAL_STATUS, get, post, put, table, why } from './api';
import { editEntity, labelFields } from './editor';
import { List, text, type Row } from './list';
import { action, field, heading, notice } from './ui';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const statusText = (v: unknown): string => (typeof v === 'number' ? (EXEC_STATUS[v] ?? String(v)) : '');

interface Schedule {
  kind: string;
  date: string;
  time: string;
  zone: string;
  days: number[];
  monthDay: number;
}

/** The schema event (time trigger) of a schedule, as QRS takes it; null for none. The start
 * is wall-clock time in the trigger's time zone. */
export function schemaEvent(s: Schedule): Record<string, unknown> | null {
  if (s.kind === 'none') return null;
  const ev: Record<string, unknown> = {
    name: `${s.kind} at ${s.time} ${s.zone}`,
    timeZone: s.zone,
    daylightSavingTime: 0,
    startDate: `${s.date}T${s.time}:00.000Z`,
    enabled: true,
  };
  const plan: Record<string, [number, string, string[] | undefined]> = {
    once: [0, '0 0 0 0', undefined],
    hourly: [1, '0 1 0 0', undefined],
    daily: [2, '0 0 1 0', undefined],
    weekly: [3, '0 0 0 1', [`* * - ${s.days.join(',')} 1 * * *`]],
    monthly: [4, '0 0 1 0', [`* * - * * ${s.monthDay} * *`]],
  };
  const [option, increment, filter] = plan[s.kind];
  ev.incrementOption = option;
  ev.incrementDescription = increment;
  if (filter) ev.schemaFilterDescription = filter;
  return ev;
}

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = intl.supportedValuesOf?.('timeZone') ?? [];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

/** What a schedule editor makes: a time trigger or a chain for one task, as QRS takes them. */
interface Triggers {
  schemaEvents: Record<string, unknown>[];
  compositeEvents: Record<string, unknown>[];
}

/**
 * The schedule part of a form: no schedule, once, hourly, daily, weekly on chosen days,
 * monthly, in a named time zone, or after other tasks (a chain: one rule per task it waits
 * for, each with its outcome; with several, all within a window of hours). `read` gives the
 * triggers the form says, or throws a person-readable error.
 */
function scheduleEditor(say: ReturnType<typeof notice>, withNone = true): { parts: HTMLElement[]; read: () => Triggers } {
  const kinds = ['none', 'once', 'hourly', 'daily', 'weekly', 'monthly', 'chain'].filter((k) => withNone || k !== 'none');
  const kind = h(
    'select',
    { name: 'kind' },
    ...kinds.map((k) => h('option', { value: k }, k === 'none' ? 'No schedule' : k === 'chain' ? 'After another task' : k[0].toUpperCase() + k.slice(1))),
  );
  let known: unknown[][] = [];
  const rules: { after: HTMLSelectElement; outcome: HTMLSelectElement; el: HTMLElement }[] = [];
  const rulesBox = h('div', { class: 'rules' });
  const windowHours = h('input', { name: 'withinHours', type: 'number', min: '1', max: '8760', value: '6' });
  const windowBox = field('All within (hours)', windowHours);
  windowBox.hidden = true;
  const fillRule = (sel: HTMLSelectElement): void => {
    const was = sel.value;
    sel.replaceChildren(...known.map(([id, n]) => h('option', { value: String(id) }, String(n))));
    if (was) sel.value = was;
  };
  const addRule = (): void => {
    const n = rules.length + 1;
    const after = h('select', { name: 'after', 'aria-label': `Task ${n} of the chain` });
    const outcome = h('select', { name: 'outcome', 'aria-label': `Outcome of task ${n}` }, h('option', { value: '1' }, 'succeeds'), h('option', { value: '2' }, 'fails'));
    const rule = { after, outcome, el: h('div', { class: 'when' }, field(n === 1 ? 'When the task' : 'and the task', after), field('Outcome', outcome)) };
    if (n > 1)
      rule.el.append(
        h('button', {
          type: 'button',
          class: 'quiet',
          onclick: () => {
            rules.splice(rules.indexOf(rule), 1);
            rule.el.remove();
            windowBox.hidden = rules.length < 2;
          },
        }, 'Remove'),
      );
    fillRule(after);
    rules.push(rule);
    rulesBox.append(rule.el);
    windowBox.hidden = rules.length < 2;
  };
  addRule();
  const more = h('button', { type: 'button', class: 'quiet', onclick: addRule }, 'And another task');
  const chain = h('div', { class: 'when', hidden: true }, rulesBox, more, windowBox);
  const fillTasks = async (): Promise<void> => {
    const page = await table('reloadtask', { id: 'id', name: 'name' }, { skip: 0, take: 1000, sortColumn: 'name', ascending: true });
    known = page.rows;
    for (const r of rules) fillRule(r.after);
  };
  const now = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  const date = h('input', { name: 'date', type: 'date', value: `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}` });
  const time = h('input', { name: 'time', type: 'time', value: '06:00' });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zone = h('select', { name: 'zone' }, ...zones().map((z) => h('option', { value: z, selected: z === here }, z)));
  const days = WEEKDAYS.map((d, i) => h('input', { type: 'checkbox', name: 'day', value: String(i), 'aria-label': d }));
  const dayBox = h('fieldset', { class: 'checks', hidden: true }, h('legend', {}, 'On'), ...days.map((c, i) => h('label', {}, c, WEEKDAYS[i].slice(0, 3))));
  const monthDay = h('input', { name: 'monthDay', type: 'number', min: '1', max: '31', value: '1' });
  const monthBox = field('Day of the month', monthDay);
  monthBox.hidden = true;
  const when = h('div', { class: 'when' }, field('Starting', date), field('At', time), field('Time zone', zone), dayBox, monthBox);
  const show = (): void => {
    when.hidden = kind.value === 'none' || kind.value === 'chain';
    chain.hidden = kind.value !== 'chain';
    if (kind.value === 'chain') fillTasks().catch((err: unknown) => say.fail(err));
    dayBox.hidden = kind.value !== 'weekly';
    monthBox.hidden = kind.value !== 'monthly';
  };
  kind.addEventListener('change', show);
  show();
  const read = (): Triggers => {
    if (kind.value !== 'chain') {
      const chosen = days.filter((d) => d.checked).map((d) => Number(d.value));
      if (kind.value === 'weekly' && !chosen.length) throw new Error('Choose at least one day of the week.');
      const ev = schemaEvent({ kind: kind.value, date: date.value, time: time.value, zone: zone.value, days: chosen, monthDay: Number(monthDay.value) });
      return { schemaEvents: ev ? [ev] : [], compositeEvents: [] };
    }
    const chosenRules = rules.filter((r) => r.after.value);
    if (!chosenRules.length) throw new Error('Choose the task the chain waits for.');
    if (new Set(chosenRules.map((r) => r.after.value)).size !== chosenRules.length) throw new Error('A chain names each task once.');
    const hours = Number(windowHours.value);
    if (chosenRules.length > 1 && !(Number.isInteger(hours) && hours >= 1 && hours <= 8760)) throw new Error('The window is a whole number of hours, 1 to 8760.');
    const said = (r: (typeof rules)[number]): string => `${r.after.selectedOptions[0]?.textContent ?? 'a task'} ${r.outcome.selectedOptions[0]?.textContent ?? ''}`;
    return {
      schemaEvents: [],
      compositeEvents: [{
        name: `after ${chosenRules.map(said).join(' and ')}`,
        compositeRules: chosenRules.map((r) => ({ ruleState: Number(r.outcome.value), reloadTask: { id: r.after.value } })),
        ...(chosenRules.length > 1 ? { timeConstraint: { days: 0, hours, minutes: 0, seconds: 0 } } : {}),
      }],
    };
  };
  return { parts: [field('Schedule', kind), when, chain], read };
}

async function taskForm(list: List, say: ReturnType<typeof notice>): Promise<HTMLElement> {
  const name = h('input', { name: 'name', required: true, maxlength: '255', autocomplete: 'off' });
  const app = h('select', { name: 'app', required: true }, h('option', { value: '' }, 'Choose an app'));
  try {
    const page = await table('app', { id: 'id', name: 'name' }, { skip: 0, take: 1000, sortColumn: 'name', ascending: true });
    for (const [id, n] of page.rows) app.append(h('option', { value: String(id) }, String(n)));
  } catch (err) {
    say.fail(err);
  }
  const schedule = scheduleEditor(say);
  const form = h(
    'form',
    { class: 'task-form', 'aria-label': 'Create a reload task' },
    field('Task name', name),
    field('App', app),
    ...schedule.parts,
    h('button', { type: 'submit' }, 'Create task'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    say.clear();
    try {
      await post('/reloadtask/create', { task: { name: name.value.trim(), app: { id: app.value } }, ...schedule.read() });
      say.ok(`${name.value.trim()} is created.`);
      await list.load();
    } catch (err) {
      say.fail(err);
    }
  });
  return form;
}

/** Executions that `filter` selects, newest first; Log follows one's script log below. */
export function executions(filter: string | undefined, label: string, pageSize = 10, withTask = false): { list: List; el: HTMLElement } {
  const log = h('pre', { class: 'log', 'aria-label': `Script log (${label})`, tabindex: '0' });
  const state = h('p', { class: 'log-state', role: 'status' });
  const list = new List({
    type: 'executionresult',
    label,
    filter,
    sortColumn: 'c1',
    ascending: false,
    pageSize,
    columns: [
      { title: 'Status', path: 'status', cell: (r) => statusText(r.value) },
      { title: 'Started', path: 'startTime' },
      { title: 'Duration', path: 'duration', cell: (r) => (typeof r.value === 'number' && r.value > 0 ? `${(r.value / 1000).toFixed(1)} s` : '') },
      { title: 'Node', path: 'executingNodeName' },
      ...(withTask ? [{ title: 'Task', path: 'taskID', sort: false, cell: (r: Row) => taskName(String(r.value ?? '')) }] : []),
    ],
    extra: { status: 'status' },
    actions: (r) => [h('button', { type: 'button', class: 'quiet', onclick: () => void follow(r.id, log, state) }, 'Log')],
  });
  return {
    list,
    el: h('div', {}, h('div', { class: 'list-tools' }, h('button', { type: 'button', class: 'quiet', onclick: () => void list.load() }, 'Refresh')), list.el, state, log),
  };
}

/* Task names for execution lists, asked once per page view. */
const names = new Map<string, string>();
function taskName(id: string): Node {
  const span = h('span', {}, names.get(id) ?? '');
  if (!names.has(id) && /^[0-9a-f-]{36}$/.test(id)) {
    names.set(id, '');
    void get<{ name: string }>(`/reloadtask/${id}`)
      .then((t) => {
        names.set(id, t.name);
        for (const el of document.querySelectorAll(`[data-task="${id}"]`)) el.textContent = t.name;
      })
      .catch(() => names.set(id, '(deleted)'));
  }
  span.setAttribute('data-task', id);
  return span;
}

/** A task's triggers and executions. */
/** A task's triggers (each deleted with a button, when the person may change the task), a
 * form that adds one, and its executions. */
async function details(task: Row, into: HTMLElement, say: ReturnType<typeof notice>): Promise<void> {
  const triggers = h('ul', { class: 'triggers' });
  const runs = executions(`taskID eq ${task.id}`, 'Executions');
  const mayChange = task.may.includes('update');
  const listTriggers = async (): Promise<void> => {
    try {
      const of = encodeURIComponent(`reloadTask.id eq ${task.id}`);
      const [evs, chains] = await Promise.all([
        get<Record<string, unknown>[]>(`/schemaevent/full?filter=${of}`),
        get<Record<string, unknown>[]>(`/compositeevent/full?filter=${of}`),
      ]);
      const item = (type: string, ev: Record<string, unknown>, said: string): HTMLElement =>
        h(
          'li',
          { 'data-id': String(ev.id) },
          h('span', {}, said),
          mayChange &&
            action('Delete', async () => {
              await del(`/${type}/${String(ev.id)}`);
              await listTriggers();
              return `The trigger ${String(ev.name)} is deleted.`;
            }, say, { class: 'danger', 'aria-label': `Delete the trigger ${String(ev.name)}` }),
        );
      triggers.replaceChildren(
        ...evs.map((ev) => {
          const op = (ev.operational ?? {}) as Record<string, unknown>;
          return item('schemaevent', ev, `${String(ev.name)}; next: ${text(op.nextExecution) || 'not planned yet'}`);
        }),
        ...chains.map((ev) => item('compositeevent', ev, `Runs ${String(ev.name)}`)),
      );
      if (!evs.length && !chains.length) triggers.append(h('li', {}, 'No triggers: the task runs when started.'));
    } catch (err) {
      triggers.replaceChildren(h('li', { class: 'bad' }, why(err)));
    }
  };
  const parts: Node[] = [h('h2', {}, `${String(task.name)}: triggers and executions`), triggers];
  if (mayChange) {
    const schedule = scheduleEditor(say, false);
    const form = h('form', { class: 'task-form', 'aria-label': `Add a trigger to ${String(task.name)}` }, ...schedule.parts, h('button', { type: 'submit' }, 'Add trigger'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      say.clear();
      try {
        const t = schedule.read();
        for (const ev of t.schemaEvents) await post('/schemaevent', { ...ev, reloadTask: { id: task.id } });
        for (const ev of t.compositeEvents) await post('/compositeevent', { ...ev, enabled: true, reloadTask: { id: task.id } });
        say.ok(`${String(task.name)} has a new trigger.`);
        await listTriggers();
      } catch (err) {
        say.fail(err);
      }
    });
    parts.push(form);
  }
  into.replaceChildren(...parts, runs.el);
  await listTriggers();
  await runs.list.load();
}

/** Every execution of every task, paged: filtered by status. */
export async function executionsPage(main: HTMLElement): Promise<void> {
  const pick = h('select', { 'aria-label': 'Status' }, h('option', { value: '' }, 'Any status'), ...EXEC_STATUS.map((s, i) => h('option', { value: String(i) }, s)));
  let runs = executions(undefined, 'All executions', 50, true);
  const holder = h('div', {}, runs.el);
  pick.addEventListener('change', () => {
    runs = executions(pick.value ? `status eq ${pick.value}` : undefined, 'All executions', 50, true);
    holder.replaceChildren(runs.el);
    void runs.list.load();
  });
  main.replaceChildren(heading('Executions', pick), holder);
  await runs.list.load();
}

let following = 0;

/** Shows an execution's script log, asking for what was added each second until it ends. */
async function follow(resultId: string, log: HTMLElement, state: HTMLElement): Promise<void> {
  const me = ++following;
  log.textContent = '';
  let offset = 0;
  for (;;) {
    try {
      const r = await get<Record<string, unknown>>(`/executionresult/${resultId}`);
      const chunk = await get<string>(`/executionresult/${resultId}/scriptlog?offset=${offset}`);
      if (me !== following) return;
      if (typeof chunk === 'string' && chunk) {
        log.append(chunk);
        offset += new TextEncoder().encode(chunk).length;
        log.scrollTop = log.scrollHeight;
      }
      const status = Number(r.status);
      state.textContent = `Status: ${statusText(status)}`;
      if (FINAL_STATUS.has(status)) return;
    } catch (err) {
      if (me === following) state.textContent = why(err);
      return;
    }
    await new Promise((res) => setTimeout(res, 1000));
    if (me !== following) return;
  }
}

export async function tasksPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const detail = h('section', { class: 'detail', 'aria-live': 'polite' });
  const editBox = h('section', { class: 'editing', hidden: true });
  const list: List = new List({
    type: 'reloadtask',
    label: 'Tasks',
    searchOn: 'name',
    sortColumn: 'c0',
    columns: [
      { title: 'Name', path: 'name' },
      { title: 'App', path: 'app.name' },
      { title: 'Enabled', path: 'enabled', cell: (r) => (r.value ? 'yes' : 'no') },
      { title: 'Last status', path: 'operational.lastExecutionResult.status', sort: false, cell: (r) => statusText(r.value) },
      { title: 'Last run', path: 'operational.lastExecutionResult.startTime', sort: false },
      { title: 'Node', path: 'operational.lastExecutionResult.executingNodeName', sort: false },
    ],
    extra: { name: 'name', enabled: 'enabled' },
    actions: (r) => {
      const out: Node[] = [h('button', { type: 'button', class: 'quiet', onclick: () => void details(r, detail, say) }, 'History')];
      if (r.may.includes('update')) {
        out.push(
          action('Start', async () => {
            await post(`/task/${r.id}/start`);
            await list.load();
            return `${String(r.name)} is started.`;
          }, say),
          action('Stop', async () => {
            await post(`/task/${r.id}/stop`);
            await list.load();
            return `${String(r.name)} is told to stop.`;
          }, say),
          action(r.enabled ? 'Disable' : 'Enable', async () => {
            const task = await get<Record<string, unknown>>(`/reloadtask/${r.id}`);
            await put(`/reloadtask/${r.id}`, { ...task, enabled: !r.enabled });
            await list.load();
            return `${String(r.name)} is ${r.enabled ? 'disabled: its triggers no longer start it' : 'enabled'}.`;
          }, say),
          action('Rename', async () => {
            const name = prompt(`A new name for the task ${String(r.name)}`, String(r.name))?.trim();
            if (!name || name === r.name) return;
            const task = await get<Record<string, unknown>>(`/reloadtask/${r.id}`);
            await put(`/reloadtask/${r.id}`, { ...task, name });
            await list.load();
            return `${String(r.name)} is named ${name} now.`;
          }, say),
          action('App', async () => {
            const name = prompt(`The name of the app the task ${String(r.name)} reloads from now on`)?.trim();
            if (!name) return;
            const id = await appNamed(name);
            const task = await get<Record<string, unknown>>(`/reloadtask/${r.id}`);
            await put(`/reloadtask/${r.id}`, { ...task, app: { id } });
            await list.load();
            return `${String(r.name)} reloads ${name} now.`;
          }, say),
          action('Tags', () =>
            editEntity(editBox, { type: 'reloadtask', id: r.id, name: String(r.name), say, saved: () => list.load(), fields: labelFields('ReloadTask') }), say),
        );
      }
      if (r.may.includes('delete'))
        out.push(
          action('Delete', async () => {
            if (!confirm(`Delete the task ${String(r.name)}? Its triggers and history go too.`)) return;
            await del(`/reloadtask/${r.id}`);
            await list.load();
            return `${String(r.name)} is deleted.`;
          }, say, { class: 'danger' }),
        );
      return out;
    },
  });
  main.replaceChildren(heading('Tasks'), await taskForm(list, say), say, editBox, list.el, detail);
  await list.load();
}
