// Health: whether this node reaches the repository database and the share (its /health,
// as load balancers ask), the database's connections and standbys, the share's free
// space, every node's state from its heartbeats and whether the share works from it (its
// last probe of the share), the central role's holder, the queue of
// executions, the executions that failed last, and the last warnings and errors the
// nodes logged.
import { h } from '../../common/dom';
import { fetchSteady } from '../../common/http';
import { get } from './api';
import { text } from './list';
import { executions } from './tasks';
import { action, bytes, heading, notice } from './ui';

interface LogLine {
  node: string;
  at: string;
  level: string;
  message: string;
}

interface Site {
  lastErrors?: LogLine[];
  database: { provider: string; connections?: number; maxConnections?: number; poolSize: number; poolInUse: number; standbys?: { name: string | null; state: string | null; sync: string | null }[] };
  share: { freeBytes?: number; totalBytes?: number; usable: boolean; problem?: string; appFolder: string };
}

interface NodeStatus {
  serviceState: number;
  timestamp: string;
  centralToken?: number;
  centralSince?: string;
  shareState?: string;
  serverNodeConfiguration: { id: string; name: string };
}

/** How a node's last probe of the share went (from its heartbeat). */
function shareText(s: NodeStatus): string {
  if (s.serviceState !== 2) return '';
  if (s.shareState === undefined) return '; share not probed yet';
  return s.shareState === 'ok' ? '; share writable' : `; share: ${s.shareState}`;
}

export async function healthPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const facts = h('dl', { class: 'facts' });
  const fact = (term: string, value: string, good?: boolean): Node[] => [
    h('dt', {}, term),
    h('dd', { class: good === undefined ? '' : good ? 'good' : 'bad' }, value),
  ];
  const failed = executions('status eq 8', 'Failed executions', 10, true);
  const errors = h('tbody');
  const load = async (): Promise<void> => {
    const here = await fetchSteady('/health', { cache: 'no-store' })
      .then(async (r) => ({ ok: r.ok, body: (await r.json()) as { reason?: string } }))
      .catch((err: unknown) => ({ ok: false, body: { reason: String(err) } }));
    const [site, status, nodes, queued, running] = await Promise.all([
      get<Site>('/about/site'),
      get<NodeStatus[]>('/servicestatus/full'),
      get<{ name: string; isCentral: boolean }[]>('/servernodeconfiguration/full?orderby=name'),
      get<{ value: number }>(`/executionsession/count?filter=${encodeURIComponent('status eq 3')}`),
      get<{ value: number }>(`/executionsession/count?filter=${encodeURIComponent('status eq 2')}`),
    ]);
    const central = nodes.find((n) => n.isCentral);
    const lease = status.find((s) => s.centralToken !== undefined);
    const d = site.database;
    const standbys = d.standbys?.length
      ? d.standbys.map((sb) => `${sb.name ?? '?'} ${sb.state ?? '?'}${sb.sync ? ` (${sb.sync})` : ''}`).join(', ')
      : 'none';
    const sh = site.share;
    facts.replaceChildren(
      ...fact('This node', here.ok ? 'reaches the repository database and the share' : `cannot work: ${here.body.reason ?? 'no answer'}`, here.ok),
      ...fact(
        'Database',
        d.provider === 'PostgreSQL'
          ? `PostgreSQL: ${d.connections} of ${d.maxConnections} connections in use; standbys: ${standbys}`
          : `SQLite (this node's file); ${d.poolInUse} of ${d.poolSize} connections in use`,
        d.maxConnections === undefined || (d.connections ?? 0) < 0.9 * d.maxConnections,
      ),
      ...fact(
        'Share',
        `${sh.appFolder}: ${sh.freeBytes === undefined ? '?' : bytes(sh.freeBytes)} free of ${sh.totalBytes === undefined ? '?' : bytes(sh.totalBytes)}${sh.usable ? '' : `; ${sh.problem ?? 'cannot be used'}`}`,
        sh.usable,
      ),
      ...status.flatMap((s) =>
        fact(
          `Node ${s.serverNodeConfiguration.name}`,
          `${s.serviceState === 2 ? 'Running' : 'Not responding'}, last heard ${text(s.timestamp)}${shareText(s)}`,
          s.serviceState === 2 && (s.shareState ?? 'ok') === 'ok',
        ),
      ),
      ...fact('Central role', central ? `held by ${central.name}` : 'held by no node', !!central),
      ...(lease ? fact('Central role since', `${text(lease.centralSince)} (fencing token ${lease.centralToken})`) : []),
      ...fact('Executions', `${running.value} running, ${queued.value} queued`),
    );
    errors.replaceChildren(
      ...(site.lastErrors?.length
        ? site.lastErrors.map((l) => h('tr', {}, h('td', {}, l.node), h('td', {}, text(l.at)), h('td', {}, l.level), h('td', {}, l.message)))
        : [h('tr', {}, h('td', { colspan: '4', class: 'empty' }, 'No warnings or errors logged.'))]),
    );
    await failed.list.load();
  };
  const errorTable = h(
    'table',
    { 'aria-label': 'Last errors' },
    h('thead', {}, h('tr', {}, ...['Node', 'When', 'Level', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
    errors,
  );
  main.replaceChildren(
    heading('Health', action('Refresh', async () => load(), say)),
    say,
    facts,
    h('h2', {}, 'Failed executions'),
    failed.el,
    h('h2', {}, 'Last warnings and errors of the nodes\' logs'),
    h('div', { class: 'scroll' }, errorTable),
  );
  try {
    await load();
  } catch (err) {
    say.fail(err);
  }
}
