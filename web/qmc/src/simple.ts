// A section that is a list with a form that adds to it and a Delete per row: streams,
// data connections, tags, custom properties, virtual proxies.
import { h } from '../../common/dom';
import { del, post } from './api';
import { List, type Column, type Row } from './list';
import { action, field, heading, notice } from './ui';

export interface SimpleField {
  name: string;
  label: string;
  /** the input; a required text input when left out */
  input?: () => HTMLInputElement | HTMLSelectElement;
}

export interface SimpleSection {
  title: string;
  type: string;
  columns: Column[];
  searchOn: string;
  /** the name a row is called by in messages, and its property path */
  nameOf: string;
  fields: SimpleField[];
  /** the body of the POST that creates one, from the form's values */
  body: (v: Record<string, string>) => unknown;
  /** what deleting one does beyond the row, said before it is confirmed */
  deleteNote?: string;
}

export async function simplePage(main: HTMLElement, s: SimpleSection): Promise<void> {
  const say = notice();
  const list: List = new List({
    type: s.type,
    label: s.title,
    searchOn: s.searchOn,
    sortColumn: 'c0',
    columns: s.columns,
    extra: { name: s.nameOf },
    actions: (r: Row) =>
      r.may.includes('delete')
        ? [
            action('Delete', async () => {
              if (!confirm(`Delete ${String(r.name)}?${s.deleteNote ? ` ${s.deleteNote}` : ''}`)) return;
              await del(`/${s.type}/${r.id}`);
              await list.load();
              return `${String(r.name)} is deleted.`;
            }, say, { class: 'danger' }),
          ]
        : [],
  });
  const inputs = s.fields.map((f) => {
    const el = f.input ? f.input() : h('input', { required: true, maxlength: '1024', autocomplete: 'off' });
    el.name = f.name;
    return [f, el] as const;
  });
  const singular = s.title.replace(/ies$/, 'y').replace(/s$/, '').toLowerCase();
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': `Create a ${singular}` },
    ...inputs.map(([f, el]) => field(f.label, el)),
    h('button', { type: 'submit' }, 'Create'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    say.clear();
    const v = Object.fromEntries(inputs.map(([f, el]) => [f.name, el.value.trim()]));
    try {
      await post(`/${s.type}`, s.body(v));
      say.ok(`${v[s.fields[0].name]} is created.`);
      form.reset();
      await list.load();
    } catch (err) {
      say.fail(err);
    }
  });
  main.replaceChildren(heading(s.title), form, say, list.el);
  await list.load();
}

const select = (options: string[]) => (): HTMLSelectElement => h('select', {}, ...options.map((o) => h('option', { value: o }, o)));

export const streamsSection: SimpleSection = {
  title: 'Streams',
  type: 'stream',
  searchOn: 'name',
  nameOf: 'name',
  columns: [
    { title: 'Name', path: 'name' },
    { title: 'Owner', path: 'owner.userId' },
    { title: 'Created', path: 'createdDate' },
  ],
  fields: [{ name: 'name', label: 'New stream' }],
  body: (v) => ({ name: v.name }),
  deleteNote: 'Its apps stay, unpublished.',
};

export const connectionsSection: SimpleSection = {
  title: 'Data connections',
  type: 'dataconnection',
  searchOn: 'name',
  nameOf: 'name',
  columns: [
    { title: 'Name', path: 'name' },
    { title: 'Type', path: 'type' },
    { title: 'Folder', path: 'connectionstring' },
    { title: 'Owner', path: 'owner.userId' },
  ],
  fields: [
    { name: 'name', label: 'New folder connection' },
    { name: 'connectionstring', label: 'Folder (on every node)' },
  ],
  body: (v) => ({ name: v.name, connectionstring: v.connectionstring, type: 'folder' }),
  deleteNote: 'Scripts that read lib:// from it will fail.',
};

export const tagsSection: SimpleSection = {
  title: 'Tags',
  type: 'tag',
  searchOn: 'name',
  nameOf: 'name',
  columns: [
    { title: 'Name', path: 'name' },
    { title: 'Created', path: 'createdDate' },
  ],
  fields: [{ name: 'name', label: 'New tag' }],
  body: (v) => ({ name: v.name }),
  deleteNote: 'It goes from everything that carries it.',
};

export const propertiesSection: SimpleSection = {
  title: 'Custom properties',
  type: 'custompropertydefinition',
  searchOn: 'name',
  nameOf: 'name',
  columns: [
    { title: 'Name', path: 'name' },
    { title: 'Values', path: 'choiceValues' },
    { title: 'On', path: 'objectTypes' },
  ],
  fields: [
    { name: 'name', label: 'New custom property' },
    { name: 'choiceValues', label: 'Values (comma-separated)' },
    { name: 'objectTypes', label: 'On', input: select(['App', 'Stream', 'User', 'ReloadTask', 'DataConnection', 'ServerNodeConfiguration']) },
  ],
  body: (v) => ({
    name: v.name,
    valueType: 'Text',
    choiceValues: v.choiceValues.split(',').map((x) => x.trim()).filter(Boolean),
    objectTypes: [v.objectTypes],
  }),
  deleteNote: 'Its values go from everything that carries them.',
};

export const vproxiesSection: SimpleSection = {
  title: 'Virtual proxies',
  type: 'virtualproxyconfig',
  searchOn: 'description',
  nameOf: 'description',
  columns: [
    { title: 'Description', path: 'description' },
    { title: 'Prefix', path: 'prefix', cell: (r) => (r.value ? `/${String(r.value)}/` : '/ (the default)') },
    { title: 'Sign-in', path: 'authenticationMethod', cell: (r) => ['Ticket', 'Header, static directory', 'Header, dynamic directory', 'SAML', 'JWT', 'OpenID Connect', 'Form'][Number(r.value)] ?? String(r.value) },
    { title: 'Session cookie', path: 'sessionCookieHeaderName' },
  ],
  fields: [
    { name: 'description', label: 'New virtual proxy' },
    { name: 'prefix', label: 'Prefix' },
  ],
  body: (v) => ({ description: v.description, prefix: v.prefix, sessionCookieHeaderName: `X-Qlik-Session-${v.prefix}` }),
  deleteNote: 'People signed in through it lose their sessions.',
};
