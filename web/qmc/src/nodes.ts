// Nodes: each node's services, whether it is running (its heartbeats, as servicestatus
// judges them), the central role's holder and failover candidacy; moving the central role.
import { h } from '../../common/dom';
import { get, post } from './api';
import { text } from './list';
import { action, heading, notice } from './ui';

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
  serverNodeConfiguration: { id: string };
}

const STATE = ['Initializing', 'Certificates not installed', 'Running', 'Not responding', 'Disabled', 'Unknown'];

export async function nodesPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const body = h('tbody');
  const load = async (): Promise<void> => {
    const [nodes, status] = await Promise.all([
      get<Node_[]>('/servernodeconfiguration/full?orderby=name'),
      get<Status[]>('/servicestatus/full').catch(() => [] as Status[]),
    ]);
    const byNode = new Map(status.map((s) => [s.serverNodeConfiguration.id, s]));
    body.replaceChildren(
      ...nodes.map((n) => {
        const s = byNode.get(n.id);
        const services = [n.engineEnabled && 'engine', n.proxyEnabled && 'proxy', n.schedulerEnabled && 'scheduler', 'repository'].filter(Boolean).join(', ');
        const state = s ? (STATE[s.serviceState] ?? String(s.serviceState)) : 'unknown';
        return h(
          'tr',
          { 'data-id': n.id },
          h('td', {}, n.name),
          h('td', {}, n.hostName),
          h('td', {}, services),
          h('td', { class: `state s${s?.serviceState ?? 5}` }, state, s ? h('span', { class: 'since' }, ` (last heard ${text(s.timestamp)})`) : null),
          h('td', {}, n.isCentral ? 'Central' : ''),
          h('td', {}, n.failoverCandidate ? 'yes' : 'no'),
          h(
            'td',
            { class: 'actions' },
            n.isCentral
              ? null
              : h(
                  'div',
                  {},
                  action('Make central', async () => {
                    if (!confirm(`Move the central role to ${n.name}?`)) return;
                    await post(`/failover/tonode/${n.id}`);
                    await load();
                    return `The central role moves to ${n.name}.`;
                  }, say),
                ),
          ),
        );
      }),
    );
  };
  const table = h(
    'table',
    { 'aria-label': 'Nodes' },
    h('thead', {}, h('tr', {}, ...['Name', 'Host', 'Services', 'Status', 'Role', 'Failover candidate'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    body,
  );
  main.replaceChildren(heading('Nodes', action('Refresh', async () => load(), say)), say, h('div', { class: 'scroll' }, table));
  try {
    await load();
  } catch (err) {
    say.fail(err);
  }
}
