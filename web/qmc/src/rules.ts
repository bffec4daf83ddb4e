// Security and load-balancing rules: the list with edit, enable, disable and delete, an
// editor that checks the condition and
// the resource filter as the administrator types (the repository's own parser, the fault's
// position marked), and the audit: pick a user and a kind of resource, see what they may do.
import { h } from '../../common/dom';
import { del, get, post, put, quoted, why } from './api';
import { List } from './list';
import { action, field, heading, notice } from './ui';

const ACTIONS: [number, string][] = [[1, 'Create'], [2, 'Read'], [4, 'Update'], [8, 'Delete'], [16, 'Export'], [32, 'Publish']];

const actionNames = (bits: number): string => ACTIONS.filter(([b]) => bits & b).map(([, n]) => n.toLowerCase()).join(', ');

interface Check {
  valid: boolean;
  field?: string;
  message?: string;
  position?: number;
}

interface Editor {
  form: HTMLElement;
  /** fills the form with a stored rule, to change it */
  edit(rule: Record<string, unknown>): void;
}

function editor(list: () => List, say: ReturnType<typeof notice>): Editor {
  const name = h('input', { name: 'name', required: true, maxlength: '255', autocomplete: 'off' });
  const filter = h('input', { name: 'resourceFilter', required: true, value: 'App_*', spellcheck: false, autocomplete: 'off' });
  const rule = h('textarea', { name: 'rule', rows: '4', spellcheck: false, 'aria-describedby': 'rule-check' });
  const acts = ACTIONS.map(([b, n]) => h('input', { type: 'checkbox', name: 'action', value: String(b), checked: b === 2, 'aria-label': n }));
  const verdict = h('div', { class: 'rule-check', id: 'rule-check', role: 'status', 'aria-live': 'polite' });
  const category = h('select', { name: 'category' }, h('option', { value: 'Security' }, 'Security'), h('option', { value: 'Sync' }, 'Load balancing (Sync)'));
  const save = h('button', { type: 'submit' }, 'Save rule');
  const cancel = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Cancel changes');
  let editing: Record<string, unknown> | null = null;
  let seq = 0;
  let timer = 0;
  const check = async (): Promise<boolean> => {
    const mine = ++seq;
    try {
      const c = await post<Check>('/systemrule/check', { rule: rule.value, resourceFilter: filter.value });
      if (mine !== seq) return c.valid;
      verdict.replaceChildren();
      verdict.className = `rule-check ${c.valid ? 'ok' : 'bad'}`;
      if (c.valid) {
        verdict.append('The rule reads well.');
      } else {
        const text = c.field === 'resourceFilter' ? filter.value : rule.value;
        verdict.append(h('span', { class: 'msg' }, `${c.field === 'resourceFilter' ? 'Resource filter' : 'Condition'}: ${c.message ?? ''}`));
        if (c.position && c.position > 0) {
          /* the line of the fault, and a caret under its column */
          const before = text.slice(0, c.position - 1);
          const lineStart = before.lastIndexOf('\n') + 1;
          const lineEnd = text.indexOf('\n', lineStart);
          const line = text.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
          const col = c.position - 1 - lineStart;
          verdict.append(h('pre', { class: 'caret', 'data-position': String(c.position) }, `${line}\n${' '.repeat(Math.max(0, col))}^ position ${c.position}`));
        }
      }
      return c.valid;
    } catch (err) {
      if (mine === seq) {
        verdict.className = 'rule-check bad';
        verdict.textContent = why(err);
      }
      return false;
    }
  };
  const soon = (): void => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void check(), 300);
  };
  rule.addEventListener('input', soon);
  filter.addEventListener('input', soon);
  const form = h(
    'form',
    { class: 'rule-form', 'aria-label': 'Write a security rule' },
    field('Rule name', name),
    field('Resource filter', filter),
    field('Kind', category),
    h('fieldset', { class: 'checks' }, h('legend', {}, 'Actions'), ...acts.map((c, i) => h('label', {}, c, ACTIONS[i][1]))),
    field('Condition', rule),
    verdict,
    h('div', { class: 'buttons' }, save, cancel),
  );
  const done = (): void => {
    editing = null;
    form.reset();
    verdict.replaceChildren();
    save.textContent = 'Save rule';
    cancel.hidden = true;
  };
  cancel.addEventListener('click', done);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    say.clear();
    if (!(await check())) return;
    const bits = acts.filter((c) => c.checked).reduce((a, c) => a | Number(c.value), 0);
    const fields = { name: name.value.trim(), category: category.value, resourceFilter: filter.value, rule: rule.value, actions: bits };
    try {
      if (editing) await put(`/systemrule/${String(editing.id)}`, { ...editing, ...fields });
      else await post('/systemrule', { ...fields, type: 'Custom', disabled: false });
      say.ok(`${fields.name} is saved.`);
      done();
      await list().load();
    } catch (err) {
      say.fail(err);
    }
  });
  return {
    form,
    edit(r) {
      editing = r;
      name.value = String(r.name ?? '');
      filter.value = String(r.resourceFilter ?? '');
      rule.value = String(r.rule ?? '');
      category.value = String(r.category ?? 'Security').toLowerCase() === 'sync' ? 'Sync' : 'Security';
      for (const c of acts) c.checked = (Number(r.actions) & Number(c.value)) !== 0;
      save.textContent = `Save changes to ${String(r.name)}`;
      cancel.hidden = false;
      void check();
      name.focus();
    },
  };
}

/** The audit, either way round: what one person may do with each resource of a type, or
 * who may do what with one resource; and which rules say so. */
function audit(): HTMLElement {
  const by = h('select', { name: 'auditBy' }, h('option', { value: 'user' }, 'one person'), h('option', { value: 'resource' }, 'one resource'));
  const who = h('input', { name: 'auditUser', placeholder: 'user id or resource name', required: true, autocomplete: 'off' });
  const type = h('select', { name: 'auditType' }, ...['App', 'Stream', 'ReloadTask', 'DataConnection', 'User', 'SystemRule'].map((t) => h('option', { value: t }, t)));
  const out = h('div', { class: 'audit-out', 'aria-live': 'polite' });
  const form = h('form', { class: 'inline-form', 'aria-label': 'Audit' }, field('For', by), field('Name', who), field('Resources', type), h('button', { type: 'submit' }, 'Audit'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      interface Audit {
        ruleApplication: { userID: string; resourceID: string; ruleID: string; allowed: boolean; actions: number }[];
        resources: Record<string, { name?: string; userId?: string }>;
        users: Record<string, { userId?: string; userDirectory?: string }>;
        rules: Record<string, { name: string }>;
      }
      const name = quoted(who.value.trim());
      const perUser = by.value === 'user';
      const a = await post<Audit>('/systemrule/security/audit', {
        resourceType: type.value,
        ...(perUser
          ? { userFilter: `userId eq ${name}`, resourceTake: 200 }
          : { resourceFilter: `${type.value === 'User' ? 'userId' : 'name'} eq ${name}`, userTake: 200 }),
      });
      const grants = new Map<string, { bits: number; rules: Set<string> }>();
      for (const ra of a.ruleApplication) {
        if (!ra.allowed) continue;
        const key = perUser ? ra.resourceID : ra.userID;
        const g = grants.get(key) ?? { bits: 0, rules: new Set<string>() };
        g.bits |= ra.actions;
        g.rules.add(a.rules[ra.ruleID]?.name ?? ra.ruleID);
        grants.set(key, g);
      }
      const subjects = perUser
        ? Object.entries(a.resources).map(([id, r]) => [id, r.name ?? r.userId ?? id] as const)
        : Object.entries(a.users).map(([id, u]) => [id, `${u.userDirectory ?? ''}\\${u.userId ?? id}`] as const);
      const rows = subjects.map(([id, label]) => {
        const g = grants.get(id);
        return h('tr', {}, h('td', {}, label), h('td', {}, g ? actionNames(g.bits) : 'nothing'), h('td', {}, g ? [...g.rules].join(', ') : ''));
      });
      out.replaceChildren(
        h(
          'table',
          { 'aria-label': 'Audit' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, perUser ? type.value : 'Person'), h('th', { scope: 'col' }, 'May'), h('th', { scope: 'col' }, 'Because of'))),
          h('tbody', {}, ...rows),
        ),
      );
      if (!rows.length) out.append(h('p', { class: 'empty' }, perUser ? 'No resources of this type.' : 'No such resource, or no people.'));
    } catch (err) {
      out.replaceChildren(h('p', { class: 'notice bad', role: 'alert' }, why(err)));
    }
  });
  return h('section', { class: 'audit' }, h('h2', {}, 'Audit'), form, out);
}

export async function rulesPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const ed = editor(() => list, say);
  const list: List = new List({
    type: 'systemrule',
    label: 'Rules',
    searchOn: 'name',
    sortColumn: 'c0',
    columns: [
      { title: 'Name', path: 'name' },
      { title: 'Kind', path: 'category' },
      { title: 'Resource filter', path: 'resourceFilter' },
      { title: 'Actions', path: 'actions', cell: (r) => actionNames(Number(r.value)) },
      { title: 'Condition', path: 'rule', cell: (r) => h('code', {}, String(r.value ?? '')) },
      { title: 'Enabled', path: 'disabled', cell: (r) => (r.value ? 'no' : 'yes') },
    ],
    extra: { name: 'name', disabled: 'disabled' },
    actions: (r) => [
      ...(r.may.includes('update')
        ? [
            action('Edit', async () => {
              ed.edit(await get<Record<string, unknown>>(`/systemrule/${r.id}`));
            }, say),
            action(r.disabled ? 'Enable' : 'Disable', async () => {
              const full = await get<Record<string, unknown>>(`/systemrule/${r.id}`);
              await put(`/systemrule/${r.id}`, { ...full, disabled: !r.disabled });
              await list.load();
              return `${String(r.name)} is ${r.disabled ? 'enabled' : 'disabled'}.`;
            }, say),
          ]
        : []),
      ...(r.may.includes('delete')
        ? [
            action('Delete', async () => {
              if (!confirm(`Delete the rule ${String(r.name)}? What it grants goes with it.`)) return;
              await del(`/systemrule/${r.id}`);
              await list.load();
              return `${String(r.name)} is deleted.`;
            }, say, { class: 'danger' }),
          ]
        : []),
    ],
  });
  main.replaceChildren(heading('Rules'), ed.form, say, list.el, audit());
  await list.load();
}
