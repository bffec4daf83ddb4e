// Nodes: each node's services (turned on and off here, taken when the node restarts),
// whether it is running (its heartbeats, as servicestatus
// judges them) or still joining, the central role's holder and failover candidacy, its
// engine's sessions and apps in memory, its version and start; adding
// a node and approving one that asked to join (each gives a one-time password for the new
// machine's `fathom node join`), failover candidacy, moving the central role, and removing
// a node (its certificates revoked).
import { h } from '../../common/dom';
import { del, get, post, put } from './api';
import { editEntity, labelFields } from './editor';
import { text } from './list';
import { action, field, heading, notice, type Notice } from './ui';

interface Node_ {
  id: string;
  name: string;
  hostName: string;
  isCentral: boolean;
  engineEnabled: boolean;
  proxyEnabled: boolean;
  schedulerEnabled: boolean;
  failoverCandidate: boolean;
}

interface Status {
  serviceState: number;
  timestamp: string;
  registration?: string;
  version?: string;
  startedAt?: string;
  engineSessions?: number;
  appsLoaded?: number;
  restartNeeded?: string[];
  serverNodeConfiguration: { id: string };
}

const SERVICES: ['engineEnabled' | 'proxyEnabled' | 'schedulerEnabled', string][] = [
  ['engineEnabled', 'engine'],
  ['proxyEnabled', 'proxy'],
  ['schedulerEnabled', 'scheduler'],
];

/** A node's services as checkboxes; a change is saved to its row at once and taken when the node restarts. */
function servicesCell(n: Node_, say: Notice, reload: () => Promise<void>): HTMLElement {
  const boxes = SERVICES.map(([key, label]) => {
    const box = h('input', { type: 'checkbox', 'aria-label': `${label} on ${n.name}` });
    box.checked = n[key];
    box.addEventListener('change', async () => {
      say.clear();
      try {
        const full = await get<Record<string, unknown>>(`/servernodeconfiguration/${n.id}`);
        await put(`/servernodeconfiguration/${n.id}`, { ...full, [key]: box.checked });
        say.ok(`${n.name} will ${box.checked ? 'start' : 'stop'} its ${label} when it restarts.`);
        await reload();
      } catch (err) {
        box.checked = !box.checked;
        say.fail(err);
      }
    });
    return h('label', { class: 'check' }, box, ` ${label}`);
  });
  return h('td', { class: 'services' }, 'repository', ...boxes);
}

/** What a running node waits for a restart to take, if anything. */
function restartNote(s: Status | undefined): HTMLElement | null {
  const why = s?.restartNeeded ?? [];
  return why.length ? h('div', { class: 'restart', role: 'note' }, `Restart needed to ${why.join(', ')}`) : null;
}

function stateText(s: Status | undefined): string {
  if (!s) return 'Unknown';
  if (s.serviceState === 1) return s.registration === 'approved' ? 'Approved, joining' : 'Waiting for approval';
  return ['Initializing', 'Joining', 'Running', 'Not responding', 'Disabled', 'Unknown'][s.serviceState] ?? String(s.serviceState);
}

/** The one-time password, shown once, with what to run on the new machine. */
function handOver(box: HTMLElement, name: string, password: string): void {
  box.hidden = false;
  box.replaceChildren(
    h('h2', {}, `${name} may join`),
    h('p', {}, 'On the new machine, within an hour, finish the join with this one-time password (it is shown only now):'),
    h('pre', { class: 'password', 'aria-label': `One-time password for ${name}` }, password),
    h(
      'pre',
      { class: 'command' },
      `fathom node join --dir DIR --password '${password}'\n# or, if this machine has not started joining yet:\nfathom node join --dir DIR --share SHARE --db URL --name ${name} --password '${password}'`,
    ),
  );
}

function addForm(say: Notice, box: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const name = h('input', { name: 'newNode', required: true, maxlength: '255', autocomplete: 'off' });
  const host = h('input', { name: 'newHost', required: true, maxlength: '255', autocomplete: 'off' });
  const form = h('form', { class: 'inline-form', 'aria-label': 'Add a node' }, field('New node', name), field('Host name', host), h('button', { type: 'submit' }, 'Add and approve'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    say.clear();
    try {
      const made = await post<{ configuration: { id: string; name: string } }>('/servernodeconfiguration/container', {
        configuration: { name: name.value.trim(), hostName: host.value.trim() },
      });
      const password = await get<string>(`/servernoderegistration/start/${made.configuration.id}`);
      handOver(box, made.configuration.name, password);
      say.ok(`${made.configuration.name} is registered and approved.`);
      form.reset();
      await reload();
    } catch (err) {
      say.fail(err);
    }
  });
  return form;
}

export async function nodesPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const body = h('tbody');
  const box = h('section', { class: 'handover', hidden: true, 'aria-live': 'polite' });
  const editBox = h('section', { class: 'editing', hidden: true });
  const load = async (): Promise<void> => {
    const [nodes, status, local] = await Promise.all([
      get<Node_[]>('/servernodeconfiguration/full?orderby=name'),
      get<Status[]>('/servicestatus/full').catch(() => [] as Status[]),
      get<{ id: string }>('/servernodeconfiguration/local').catch(() => ({ id: '' })),
    ]);
    const byNode = new Map(status.map((s) => [s.serverNodeConfiguration.id, s]));
    body.replaceChildren(
      ...nodes.map((n) => {
        const s = byNode.get(n.id);
        const acts: Node[] = [];
        if (s?.serviceState === 1 && s.registration === 'pending')
          acts.push(
            action('Approve', async () => {
              const password = await get<string>(`/servernoderegistration/start/${n.id}`);
              handOver(box, n.name, password);
              await load();
              return `${n.name} is approved.`;
            }, say),
          );
        acts.push(
          action(n.failoverCandidate ? 'Not a candidate' : 'Make candidate', async () => {
            const full = await get<Record<string, unknown>>(`/servernodeconfiguration/${n.id}`);
            await put(`/servernodeconfiguration/${n.id}`, { ...full, failoverCandidate: !n.failoverCandidate });
            await load();
            return `${n.name} ${n.failoverCandidate ? 'may no longer' : 'may now'} take the central role.`;
          }, say),
        );
        if (!n.isCentral && n.failoverCandidate && s?.serviceState === 2)
          acts.push(
            action('Make central', async () => {
              if (!confirm(`Move the central role to ${n.name}?`)) return;
              await post(`/failover/tonode/${n.id}`);
              await load();
              return `The central role moves to ${n.name}.`;
            }, say),
          );
        acts.push(
          action('Tags', () =>
            editEntity(editBox, { type: 'servernodeconfiguration', id: n.id, name: n.name, say, saved: load, fields: labelFields('ServerNodeConfiguration') }), say),
        );
        if (!n.isCentral && n.id !== local.id)
          acts.push(
            action('Remove', async () => {
              if (!confirm(`Remove ${n.name} from the site? Its certificates are revoked at once; stop it first. The share and the repository stay.`)) return;
              await del(`/servernodeconfiguration/${n.id}`);
              await load();
              return `${n.name} is removed; the other nodes refuse its certificates.`;
            }, say, { class: 'danger' }),
          );
        return h(
          'tr',
          { 'data-id': n.id },
          h('td', {}, n.name),
          h('td', {}, n.hostName),
          servicesCell(n, say, load),
          h('td', { class: `state s${s?.serviceState ?? 5}` }, stateText(s), s && s.serviceState !== 1 ? h('span', { class: 'since' }, ` (last heard ${text(s.timestamp)})`) : null, restartNote(s)),
          h('td', {}, n.isCentral ? 'Central' : ''),
          h('td', {}, n.failoverCandidate ? 'yes' : 'no'),
          h('td', {}, s?.engineSessions === undefined ? '' : `${s.engineSessions} sessions, ${s.appsLoaded ?? 0} apps`),
          h('td', {}, s?.version ?? '', s?.startedAt ? h('span', { class: 'since' }, ` (up since ${text(s.startedAt)})`) : null),
          h('td', { class: 'actions' }, h('div', {}, ...acts)),
        );
      }),
    );
  };
  const table = h(
    'table',
    { 'aria-label': 'Nodes' },
    h('thead', {}, h('tr', {}, ...['Name', 'Host', 'Services', 'Status', 'Role', 'Failover candidate', 'Engine', 'Version'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    body,
  );
  main.replaceChildren(
    heading('Nodes', action('Refresh', async () => load(), say)),
    addForm(say, box, load),
    say,
    box,
    editBox,
    h('div', { class: 'scroll' }, table),
  );
  try {
    await load();
  } catch (err) {
    say.fail(err);
  }
}
