// Health: whether this node reaches the repository database and the share (its /health,
// as load balancers ask), every node's state from its heartbeats, the central role's
// holder, the queue of executions, and the executions that failed last.
import { h } from '../../common/dom';
import { get } from './api';
import { text } from './list';
import { executions } from './tasks';
import { action, heading, notice } from './ui';

interface NodeStatus {
  serviceState: number;
  timestamp: string;
  centralToken?: number;
  centralSince?: string;
  serverNodeConfiguration: { id: string; name: string };
}

export async function healthPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const facts = h('dl', { class: 'facts' });
  const fact = (term: string, value: string, good?: boolean): Node[] => [
    h('dt', {}, term),
    h('dd', { class: good === undefined ? '' : good ? 'good' : 'bad' }, value),
  ];
  const failed = executions('status eq 8', 'Failed executions', 10, true);
  const load = async (): Promise<void> => {
    const here = await fetch('/health', { cache: 'no-store' })
      .then(async (r) => ({ ok: r.ok, body: (await r.json()) as { reason?: string } }))
      .catch((err: unknown) => ({ ok: false, body: { reason: String(err) } }));
    const [status, nodes, queued, running] = await Promise.all([
      get<NodeStatus[]>('/servicestatus/full'),
      get<{ name: string; isCentral: boolean }[]>('/servernodeconfiguration/full?orderby=name'),
      get<{ value: number }>(`/executionsession/count?filter=${encodeURIComponent('status eq 3')}`),
      get<{ value: number }>(`/executionsession/count?filter=${encodeURIComponent('status eq 2')}`),
    ]);
    const central = nodes.find((n) => n.isCentral);
    const lease = status.find((s) => s.centralToken !== undefined);
    facts.replaceChildren(
      ...fact('This node', here.ok ? 'reaches the repository database and the share' : `cannot work: ${here.body.reason ?? 'no answer'}`, here.ok),
      ...status.flatMap((s) =>
        fact(
          `Node ${s.serverNodeConfiguration.name}`,
          `${s.serviceState === 2 ? 'Running' : 'Not responding'}, last heard ${text(s.timestamp)}`,
          s.serviceState === 2,
        ),
      ),
      ...fact('Central role', central ? `held by ${central.name}` : 'held by no node', !!central),
      ...(lease ? fact('Central role since', `${text(lease.centralSince)} (fencing token ${lease.centralToken})`) : []),
      ...fact('Executions', `${running.value} running, ${queued.value} queued`),
    );
    await failed.list.load();
  };
  main.replaceChildren(heading('Health', action('Refresh', async () => load(), say)), say, facts, h('h2', {}, 'Failed executions'), failed.el);
  try {
    await load();
  } catch (err) {
    say.fail(err);
  }
}
