// Service cluster: the site's shared persistence folders and the central role's TTL,
// edited and saved through the repository (which checks each folder on the node that
// saves and the TTL's range before it saves anything), then the nodes that must restart to
// take the change; and the database as this node reaches it, read-only (each node has its
// own connection settings in node.conf).
import { h } from '../../common/dom';
import { get, put } from './api';
import { field, heading, notice } from './ui';

interface Cluster {
  id: string;
  name: string;
  modifiedDate: string;
  settings?: { sharedPersistenceProperties?: Record<string, string>; centralRoleTtlSeconds?: number } & Record<string, unknown>;
}

interface Status {
  serviceState: number;
  restartNeeded?: string[];
  serverNodeConfiguration: { id: string; name: string };
}

const FOLDERS: [string, string][] = [
  ['rootFolder', 'Root folder'],
  ['appFolder', 'Apps'],
  ['staticContentRootFolder', 'Static content'],
  ['archivedLogsRootFolder', 'Archived logs'],
  ['customDataRootFolder', 'Custom data'],
];

/** The running nodes that wait for a restart, and what for. */
async function waiting(box: HTMLElement): Promise<void> {
  const status = await get<Status[]>('/servicestatus/full');
  const nodes = status.filter((s) => s.serviceState === 2 && (s.restartNeeded ?? []).length);
  box.replaceChildren(
    ...(nodes.length
      ? [
          h('h2', {}, 'Nodes to restart'),
          h('ul', {}, ...nodes.map((s) => h('li', {}, h('strong', {}, s.serverNodeConfiguration.name), `: to ${(s.restartNeeded ?? []).join(', ')}`))),
        ]
      : [h('p', {}, 'Every running node uses these settings.')]),
  );
}

export async function clusterPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const restart = h('section', { class: 'restart-list', 'aria-live': 'polite' });
  const db = h('dl', { class: 'facts' });
  const inputs = new Map<string, HTMLInputElement>();
  for (const [key] of FOLDERS)
    inputs.set(key, h('input', { name: key, required: true, pattern: '/.*', title: 'an absolute path, as the nodes mount it', maxlength: '1024', autocomplete: 'off' }));
  const ttl = h('input', { name: 'centralRoleTtlSeconds', type: 'number', min: '3', max: '3600', step: '1', required: true });
  const form = h(
    'form',
    { class: 'settings', 'aria-label': 'Service cluster settings' },
    h('fieldset', {}, h('legend', {}, 'Shared persistence'), ...FOLDERS.map(([key, label]) => field(label, inputs.get(key) as HTMLInputElement))),
    h(
      'p',
      { class: 'hint' },
      'Folders inside the root folder keep their place under each node\'s mount of it (node.conf [share] root); others are the same path on every node. ',
      'Each must exist and be writable; the node that saves checks it, the others when they restart. Move the files of a folder you change before the nodes restart.',
    ),
    field('Central role TTL (seconds)', ttl),
    h('p', { class: 'hint' }, 'How long the central role lasts without renewal before a failover candidate takes it; taken at the next renewal, with no restart.'),
    h('button', { type: 'submit' }, 'Save'),
  );
  let current: Cluster | undefined;
  const fill = (c: Cluster): void => {
    current = c;
    const sp = c.settings?.sharedPersistenceProperties ?? {};
    for (const [key, input] of inputs) input.value = sp[key] ?? '';
    ttl.value = String(c.settings?.centralRoleTtlSeconds ?? 15);
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    say.clear();
    if (!current) return;
    const sp: Record<string, string> = { ...(current.settings?.sharedPersistenceProperties ?? {}) };
    for (const [key, input] of inputs) sp[key] = input.value.trim();
    const settings = { ...(current.settings ?? {}), sharedPersistenceProperties: sp, centralRoleTtlSeconds: Number(ttl.value) };
    try {
      fill(await put<Cluster>(`/servicecluster/${current.id}`, { ...current, settings }));
      say.ok('Saved.');
      await waiting(restart);
    } catch (err) {
      say.fail(err);
    }
  });
  main.replaceChildren(
    heading('Service cluster'),
    say,
    form,
    restart,
    h('h2', {}, 'Database'),
    db,
    h(
      'p',
      { class: 'hint' },
      'Each node has its own connection settings in node.conf: change them with ',
      h('code', {}, 'fathom config set --dir DIR database.host=...'),
      ' on each node (it checks the database before saving), then restart the node.',
    ),
  );
  try {
    const [clusters, site] = await Promise.all([
      get<Cluster[]>('/servicecluster/full'),
      get<{ database: { provider: string; connection?: string } }>('/about/site'),
    ]);
    if (clusters[0]) fill(clusters[0]);
    db.replaceChildren(h('dt', {}, 'This node reaches'), h('dd', {}, `${site.database.provider}: ${site.database.connection ?? ''}`));
    await waiting(restart);
  } catch (err) {
    say.fail(err);
  }
}
