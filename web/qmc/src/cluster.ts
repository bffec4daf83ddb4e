// Service cluster: the site's shared persistence as the repository records it (the share's
// folders) and the database as this node reaches it, read-only: each node reads them from
// its node.conf, so they change with `fathom config set` on each node and a restart.
import { h } from '../../common/dom';
import { get } from './api';
import { heading, notice } from './ui';

interface Cluster {
  name: string;
  settings?: { sharedPersistenceProperties?: Record<string, string> };
}

const FOLDERS: [string, string][] = [
  ['rootFolder', 'Root folder'],
  ['appFolder', 'Apps'],
  ['staticContentRootFolder', 'Static content'],
  ['archivedLogsRootFolder', 'Archived logs'],
  ['customDataRootFolder', 'Custom data'],
];

export async function clusterPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const facts = h('dl', { class: 'facts' });
  main.replaceChildren(
    heading('Service cluster'),
    say,
    facts,
    h(
      'p',
      { class: 'hint' },
      'Each node reads these from its own node.conf: change them with ',
      h('code', {}, 'fathom config set --dir DIR share.apps=... database.host=...'),
      ' on every node (it checks the folders and the database before saving), then restart the node.',
    ),
  );
  try {
    const [clusters, site] = await Promise.all([
      get<Cluster[]>('/servicecluster/full'),
      get<{ database: { provider: string; connection?: string } }>('/about/site'),
    ]);
    const c = clusters[0];
    const sp = c?.settings?.sharedPersistenceProperties ?? {};
    facts.replaceChildren(
      h('dt', {}, 'Name'),
      h('dd', {}, c?.name ?? ''),
      ...FOLDERS.flatMap(([k, label]) => [h('dt', {}, label), h('dd', {}, sp[k] ?? '')]),
      h('dt', {}, 'Database'),
      h('dd', {}, `${site.database.provider}: ${site.database.connection ?? ''}`),
      h('dt', {}, 'Central role'),
      h('dd', {}, 'a lease of 15 s renewed every 5 s by its holder; a failover candidate takes it when it lapses'),
    );
  } catch (err) {
    say.fail(err);
  }
}
