// The management console: the sections of the site an administrator manages, each a page
// at {prefix}/qmc/{section}. Every action is a repository call made as the signed-in person,
// so someone whose rules forbid it reads the repository's refusal, and the console holds no
// privilege of its own.
import '../../common/base.css';
import './style.css';
import { h } from '../../common/dom';
import { me, prefix, signOut } from '../../common/http';
import { appsPage } from './apps';
import { clusterPage } from './cluster';
import { healthPage } from './health';
import { nodesPage } from './nodes';
import { proxiesPage } from './proxies';
import { rulesPage } from './rules';
import { connectionsSection, propertiesSection, simplePage, streamsSection, tagsSection, vproxiesSection, type SimpleSection } from './simple';
import { executionsPage, tasksPage } from './tasks';
import { usersPage } from './users';
import { get, why } from './api';

const simple = (s: SimpleSection) => (main: HTMLElement) => simplePage(main, s);

const SECTIONS: [string, string, (main: HTMLElement) => Promise<void>][] = [
  ['apps', 'Apps', appsPage],
  ['streams', 'Streams', simple(streamsSection)],
  ['tasks', 'Tasks', tasksPage],
  ['executions', 'Executions', executionsPage],
  ['rules', 'Rules', rulesPage],
  ['users', 'Users', usersPage],
  ['dataconnections', 'Data connections', simple(connectionsSection)],
  ['tags', 'Tags', simple(tagsSection)],
  ['customproperties', 'Custom properties', simple(propertiesSection)],
  ['virtualproxies', 'Virtual proxies', simple(vproxiesSection)],
  ['proxies', 'Proxies', proxiesPage],
  ['nodes', 'Nodes', nodesPage],
  ['cluster', 'Service cluster', clusterPage],
  ['health', 'Health', healthPage],
];

/* Sections about the site itself: shown to those who may read its nodes or its rules (a
 * site always has both, so a count of none means the rules give this person none). */
const NEEDS: Record<string, string> = { nodes: 'servernodeconfiguration', proxies: 'servernodeconfiguration', cluster: 'servernodeconfiguration', health: 'servernodeconfiguration', rules: 'systemrule' };
const hidden = new Set<string>();

async function findHidden(): Promise<void> {
  const types = [...new Set(Object.values(NEEDS))];
  const counts = await Promise.all(types.map((t) => get<{ value: number }>(`/${t}/count`).then((c) => c.value, () => 0)));
  types.forEach((t, i) => {
    if (counts[i] === 0) for (const [s, need] of Object.entries(NEEDS)) if (need === t) hidden.add(s);
  });
}

const base = `${prefix}/qmc/`;
const main = document.getElementById('main') as HTMLElement;
const side = document.getElementById('side') as HTMLElement;

function section(): string {
  const rest = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : '';
  const name = rest.split('/')[0];
  return SECTIONS.some(([s]) => s === name) ? name : 'apps';
}

async function show(): Promise<void> {
  const current = section();
  side.replaceChildren(
    ...SECTIONS.filter(([s]) => !hidden.has(s) || s === current).map(([s, title]) =>
      h('a', { href: `${base}${s}`, 'data-nav': true, 'aria-current': s === current ? 'page' : undefined }, title),
    ),
  );
  const entry = SECTIONS.find(([s]) => s === current);
  document.title = `${entry?.[1] ?? ''} · Fathom console`;
  main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  try {
    await entry?.[2](main);
  } catch (err) {
    main.replaceChildren(h('p', { class: 'notice bad', role: 'alert' }, why(err)));
  }
  main.focus({ preventScroll: true });
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest('a[data-nav]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || (e as MouseEvent).button !== 0) return;
  e.preventDefault();
  history.pushState(null, '', (a as HTMLAnchorElement).href);
  void show();
});
window.addEventListener('popstate', () => void show());
document.getElementById('sign-out')?.addEventListener('click', () => signOut());

void (async () => {
  try {
    const who = await me();
    (document.getElementById('who') as HTMLElement).textContent = `${who.userDirectory}\\${who.userId}`;
  } catch {
    /* the pages say what is wrong */
  }
  await findHidden();
  await show();
})();
