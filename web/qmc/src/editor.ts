// Editing one entity in place: the console reads it (GET /qrs/{type}/{id}), shows the
// fields a section names with their stored values, and saves the changes with a PUT of the
// entity as read (its modifiedDate included, so a change made meanwhile by someone else is
// refused with the repository's 409, not overwritten).
import { h } from '../../common/dom';
import { get, put } from './api';
import { field, type Notice } from './ui';

export type Entity = Record<string, unknown>;

/** A choice: the value stored, and what the reader sees. */
export type Choice = [value: string, label: string];

export interface EditField {
  /** the entity's property */
  key: string;
  label: string;
  /**
   * text (the default); number; enum (a select whose values are numbers); select (text
   * values); lines (a list of texts, one a line); area (text of several lines); secret
   * (write-only: left empty, it stays as it is); refs (a list of {id}: a box per choice);
   * props (customProperties, a list of {value, definition: {id}}: a box per choice, whose
   * value is the definition's id and the value joined by PROP_SEP)
   */
  kind?: 'text' | 'number' | 'enum' | 'select' | 'lines' | 'area' | 'secret' | 'refs' | 'props';
  choices?: Choice[] | (() => Promise<Choice[]>);
  required?: boolean;
  /** shown (and saved) only while this holds of the form's values */
  when?: (v: Record<string, string>) => boolean;
}

/** Between a custom property definition's id and a value in a `props` choice. */
export const PROP_SEP = '\u001f';

interface PropertyDefinition {
  id: string;
  name: string;
  choiceValues: string[] | null;
  objectTypes: string[] | null;
}

/** The fields that label an entity of QRS's `objectType` ("App", "Stream", "ReloadTask",
 * "User", "DataConnection"): its tags (every tag offered) and the values of the custom
 * properties that go on that kind. */
export function labelFields(objectType: string): EditField[] {
  const tags = async (): Promise<Choice[]> =>
    (await get<{ id: string; name: string }[]>('/tag?orderby=name')).map((t) => [t.id, t.name]);
  const props = async (): Promise<Choice[]> =>
    (await get<PropertyDefinition[]>('/custompropertydefinition/full?orderby=name'))
      .filter((d) => (d.objectTypes ?? []).includes(objectType))
      .flatMap((d) => (d.choiceValues ?? []).map((v): Choice => [`${d.id}${PROP_SEP}${v}`, `${d.name}: ${v}`]));
  return [
    { key: 'tags', label: 'Tags', kind: 'refs', choices: tags },
    { key: 'customProperties', label: 'Custom properties', kind: 'props', choices: props },
  ];
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

type Input = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLFieldSetElement;

/** The control for `f` holding `value`, with the choices already known. */
function control(f: EditField, value: unknown, choices: Choice[]): Input {
  const name = f.key;
  switch (f.kind) {
    case 'enum':
    case 'select': {
      const s = h('select', { name });
      for (const [v, label] of choices) s.append(h('option', { value: v }, label));
      s.value = text(value);
      return s;
    }
    case 'lines':
    case 'area': {
      const t = h('textarea', { name, rows: f.kind === 'lines' ? '3' : '5', cols: '48', spellcheck: 'false' });
      t.value = f.kind === 'lines' && Array.isArray(value) ? value.map(text).join('\n') : text(value);
      return t;
    }
    case 'refs':
    case 'props': {
      const list = Array.isArray(value) ? (value as Entity[]) : [];
      const have = new Set(
        f.kind === 'refs' ? list.map((x) => text(x?.id)) : list.map((x) => `${text((x?.definition as Entity)?.id)}${PROP_SEP}${text(x?.value)}`),
      );
      const box = h('fieldset', { class: 'checks', name }, h('legend', { class: 'sr-only' }, f.label));
      for (const [id, label] of choices) {
        const c = h('input', { type: 'checkbox', value: id });
        c.checked = have.has(id);
        box.append(h('label', {}, c, label));
      }
      if (!choices.length) box.append(h('span', { class: 'hint' }, 'none yet'));
      return box;
    }
    default: {
      const i = h('input', {
        name,
        type: f.kind === 'number' ? 'number' : f.kind === 'secret' ? 'password' : 'text',
        autocomplete: f.kind === 'secret' ? 'new-password' : 'off',
        maxlength: f.kind === 'number' ? undefined : '1024',
        required: f.required,
        placeholder: f.kind === 'secret' ? 'unchanged' : undefined,
      });
      i.value = f.kind === 'secret' ? '' : text(value);
      return i;
    }
  }
}

/** What the control for `f` says, as the entity stores it; undefined: leave it alone. */
function valueOf(f: EditField, el: Input): unknown {
  if (el instanceof HTMLFieldSetElement) {
    const ticked = [...el.querySelectorAll<HTMLInputElement>('input:checked')].map((c) => c.value);
    if (f.kind === 'props')
      return ticked.map((k) => {
        const [id, value] = k.split(PROP_SEP);
        return { value, definition: { id } };
      });
    return ticked.map((id) => ({ id }));
  }
  const v = el.value;
  switch (f.kind) {
    case 'number':
    case 'enum':
      return v.trim() === '' ? undefined : Number(v);
    case 'lines':
      return v.split('\n').map((s) => s.trim()).filter(Boolean);
    case 'secret':
      return v === '' ? undefined : v;
    case 'area':
      return v;
    default:
      return v.trim();
  }
}

/** The form's values as text, for the fields' `when`. */
function values(inputs: [EditField, Input][]): Record<string, string> {
  return Object.fromEntries(inputs.map(([f, el]) => [f.key, el instanceof HTMLFieldSetElement ? '' : el.value]));
}

/**
 * Shows in `box` a form that edits the entity `type`/`id` (`name` in messages) and saves it;
 * `saved` runs after a save (the list reloads). `adjust` may change the body before the PUT.
 */
export async function editEntity(
  box: HTMLElement,
  o: {
    type: string;
    id: string;
    name: string;
    fields: EditField[];
    say: Notice;
    saved: () => Promise<void>;
    adjust?: (body: Entity) => void;
  },
): Promise<string> {
  const entity = await get<Entity>(`/${o.type}/${o.id}`);
  const inputs: [EditField, Input][] = [];
  for (const f of o.fields) {
    const choices = typeof f.choices === 'function' ? await f.choices() : (f.choices ?? []);
    inputs.push([f, control(f, entity[f.key], choices)]);
  }
  const labels = inputs.map(([f, el]) => (el instanceof HTMLFieldSetElement ? h('div', { class: 'field' }, h('span', {}, f.label), el) : field(f.label, el)));
  const show = () => {
    const v = values(inputs);
    inputs.forEach(([f], i) => (labels[i].hidden = !!f.when && !f.when(v)));
  };
  const save = h('button', { type: 'submit' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'quiet' }, 'Cancel');
  const form = h('form', { class: 'edit-form', 'aria-label': `Edit ${o.name}` }, h('h2', {}, `Edit ${o.name}`), ...labels, h('div', { class: 'buttons' }, save, cancel));
  form.addEventListener('change', show);
  cancel.addEventListener('click', () => {
    box.hidden = true;
    box.replaceChildren();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    o.say.clear();
    save.disabled = true;
    try {
      const body: Entity = { ...entity };
      const v = values(inputs);
      for (const [f, el] of inputs) {
        if (f.when && !f.when(v)) continue;
        const x = valueOf(f, el);
        if (x === undefined) delete body[f.key];
        else body[f.key] = x;
      }
      o.adjust?.(body);
      await put(`/${o.type}/${o.id}`, body);
      box.hidden = true;
      box.replaceChildren();
      o.say.ok(`${o.name} is saved.`);
      await o.saved();
    } catch (err) {
      o.say.fail(err);
    } finally {
      save.disabled = false;
    }
  });
  show();
  box.hidden = false;
  box.replaceChildren(form);
  inputs[0]?.[1].focus();
  return '';
}
