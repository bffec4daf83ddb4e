// A section that is a list with a form that adds to it, and an Edit and a Delete per row:
// streams, data connections, tags, custom properties, virtual proxies.
import { h } from '../../common/dom';
import { del, get, post } from './api';
import { editEntity, labelFields, type Choice, type EditField } from './editor';
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
  /** what Edit shows and saves of a row's entity */
  edit: EditField[];
}

export async function simplePage(main: HTMLElement, s: SimpleSection): Promise<void> {
  const say = notice();
  const editBox = h('section', { class: 'editing', hidden: true });
  const list: List = new List({
    type: s.type,
    label: s.title,
    searchOn: s.searchOn,
    sortColumn: 'c0',
    columns: s.columns,
    extra: { name: s.nameOf },
    actions: (r: Row) => [
      r.may.includes('update') &&
        action('Edit', () => editEntity(editBox, { type: s.type, id: r.id, name: String(r.name), fields: s.edit, say, saved: () => list.load() }), say),
      r.may.includes('delete') &&
        action('Delete', async () => {
          if (!confirm(`Delete ${String(r.name)}?${s.deleteNote ? ` ${s.deleteNote}` : ''}`)) return;
          await del(`/${s.type}/${r.id}`);
          await list.load();
          return `${String(r.name)} is deleted.`;
        }, say, { class: 'danger' }),
    ].filter((b): b is HTMLButtonElement => !!b),
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
  main.replaceChildren(heading(s.title), form, say, editBox, list.el);
  await list.load();
}

/** QRS's authenticationMethod numbers, and what the console calls them. */
const METHODS: Choice[] = [
  ['6', 'Form (the sign-in page)'],
  ['0', 'Ticket'],
  ['1', 'Header, static directory'],
  ['2', 'Header, dynamic directory'],
  ['3', 'SAML'],
  ['4', 'JWT'],
  ['5', 'OpenID Connect'],
];

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
  edit: [{ key: 'name', label: 'Name', required: true }, ...labelFields('Stream')],
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
  edit: [
    { key: 'name', label: 'Name (scripts read lib://<name>/)', required: true },
    { key: 'connectionstring', label: 'Folder (on every node)', required: true },
    ...labelFields('DataConnection'),
  ],
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
  edit: [{ key: 'name', label: 'Name', required: true }],
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
    { name: 'objectTypes', label: 'On', input: select(['App', 'Stream', 'User', 'ReloadTask', 'DataConnection', 'ServerNodeConfiguration', 'VirtualProxyConfig']) },
  ],
  body: (v) => ({
    name: v.name,
    valueType: 'Text',
    choiceValues: v.choiceValues.split(',').map((x) => x.trim()).filter(Boolean),
    objectTypes: [v.objectTypes],
  }),
  deleteNote: 'Its values go from everything that carries them.',
  edit: [
    { key: 'name', label: 'Name', required: true },
    { key: 'description', label: 'Description' },
    { key: 'choiceValues', label: 'Values (one a line)', kind: 'lines' },
    { key: 'objectTypes', label: 'On (one kind a line)', kind: 'lines' },
  ],
};

export const vproxiesSection: SimpleSection = {
  title: 'Virtual proxies',
  type: 'virtualproxyconfig',
  searchOn: 'description',
  nameOf: 'description',
  columns: [
    { title: 'Description', path: 'description' },
    { title: 'Prefix', path: 'prefix', cell: (r) => (r.value ? `/${String(r.value)}/` : '/ (the default)') },
    { title: 'Sign-in', path: 'authenticationMethod', cell: (r) => METHODS.find(([v]) => v === String(r.value))?.[1] ?? String(r.value) },
    { title: 'Session cookie', path: 'sessionCookieHeaderName' },
  ],
  fields: [
    { name: 'description', label: 'New virtual proxy' },
    { name: 'prefix', label: 'Prefix' },
  ],
  body: (v) => ({ description: v.description, prefix: v.prefix, sessionCookieHeaderName: `X-Qlik-Session-${v.prefix}` }),
  deleteNote: 'People signed in through it lose their sessions.',
  edit: vproxyFields(),
};

/** A virtual proxy's settings (docs/admin.md, "Virtual proxies"): those of its sign-in
 * method are shown for the method chosen. */
function vproxyFields(): EditField[] {
  const method = (...m: number[]) => (v: Record<string, string>) => m.includes(Number(v.authenticationMethod));
  const nodes = async (): Promise<Choice[]> =>
    (await get<{ id: string; name: string }[]>('/servernodeconfiguration?orderby=name')).map((n) => [n.id, n.name]);
  return [
    { key: 'description', label: 'Description', required: true },
    { key: 'prefix', label: 'Prefix (empty: the default)' },
    { key: 'authenticationMethod', label: 'Sign-in', kind: 'enum', choices: METHODS.filter(([v]) => v !== '3') },
    { key: 'sessionCookieHeaderName', label: 'Session cookie', required: true },
    { key: 'sessionInactivityTimeout', label: 'Minutes of inactivity before a session ends', kind: 'number' },
    { key: 'authenticationModuleRedirectUri', label: 'Sign-in portal (tickets)', when: method(0) },
    { key: 'headerAuthenticationHeaderName', label: 'Header naming the user', when: method(1, 2) },
    { key: 'headerAuthenticationStaticUserDirectory', label: 'User directory', when: method(1) },
    { key: 'headerAuthenticationDynamicUserDirectory', label: 'User directory pattern', when: method(2) },
    { key: 'headerAuthenticationTrustedAddresses', label: 'Addresses the header is taken from (one a line)', kind: 'lines', when: method(1, 2) },
    { key: 'jwtPublicKeyCertificate', label: 'Key or certificate (PEM) or shared secret', kind: 'area', when: method(4) },
    { key: 'jwtAttributeUserId', label: 'Claim of the user id', when: method(4) },
    { key: 'jwtAttributeUserDirectory', label: 'Claim of the directory, or [DIRECTORY]', when: method(4) },
    { key: 'jwtAudience', label: 'Audience', when: method(4) },
    { key: 'jwtIssuer', label: 'Issuer', when: method(4) },
    { key: 'oidcConfigurationEndpointUri', label: 'Discovery document (https://…/.well-known/openid-configuration)', when: method(5) },
    { key: 'oidcClientId', label: 'Client id', when: method(5) },
    { key: 'oidcClientSecret', label: 'Client secret', kind: 'secret', when: method(5) },
    { key: 'oidcRealm', label: 'User directory', when: method(5) },
    { key: 'oidcScope', label: 'Scopes', when: method(5) },
    { key: 'oidcAttributeSub', label: 'Claim of the user id', when: method(5) },
    { key: 'oidcAttributeName', label: 'Claim of the name', when: method(5) },
    { key: 'oidcAttributeGroups', label: 'Claim of the groups', when: method(5) },
    { key: 'oidcAttributeEmail', label: 'Claim of the e-mail address', when: method(5) },
    { key: 'oidcCaCertificate', label: 'CA certificates (PEM; empty: the system\'s)', kind: 'area', when: method(5) },
    { key: 'websocketCrossOriginWhiteList', label: 'Other origins whose pages may open engine sessions (one a line)', kind: 'lines' },
    { key: 'additionalResponseHeaders', label: 'Headers added to every answer (Name: value, one a line)', kind: 'area' },
    { key: 'loadBalancingServerNodes', label: 'Engines its sessions go to (none ticked: any)', kind: 'refs', choices: nodes },
    ...labelFields('VirtualProxyConfig'),
  ];
}
