// Proxies: each node's proxy as the repository lists it (/qrs/proxyservice): its ports, as
// the node said when it started, and the virtual proxies it serves (every one). Read-only:
// the ports are [proxy] port, http_port and api_port in each node's node.conf; a node's
// proxy is turned on or off on the Nodes page.
import { h } from '../../common/dom';
import { get } from './api';
import { heading, notice } from './ui';

interface ProxyService {
  id: string;
  serverNodeConfiguration: { id: string; name: string; hostName: string };
  settings: {
    listenPort?: number;
    unencryptedListenPort?: number;
    restListenPort?: number;
    allowHttp: boolean;
    virtualProxies: { id: string; prefix: string; description: string }[];
  };
}

const port = (n: number | undefined): string => (n === undefined ? 'not known (not started)' : n === 0 ? 'off' : String(n));

export async function proxiesPage(main: HTMLElement): Promise<void> {
  const say = notice();
  const body = h('tbody');
  main.replaceChildren(
    heading('Proxies'),
    say,
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        { 'aria-label': 'Proxies' },
        h('thead', {}, h('tr', {}, ...['Node', 'HTTPS', 'HTTP (redirects to HTTPS)', 'Proxy API', 'Virtual proxies'].map((t) => h('th', { scope: 'col' }, t)))),
        body,
      ),
    ),
    h(
      'p',
      { class: 'hint' },
      'A node’s ports are [proxy] port, http_port and api_port in its node.conf (then restart it); turn a node’s proxy on or off on the Nodes page.',
    ),
  );
  try {
    const list = await get<ProxyService[]>('/proxyservice/full');
    body.replaceChildren(
      ...(list.length
        ? list.map((p) => {
            const s = p.settings;
            const https = s.listenPort ? h('a', { href: `https://${p.serverNodeConfiguration.hostName}:${s.listenPort}/` }, port(s.listenPort)) : port(s.listenPort);
            return h(
              'tr',
              { 'data-id': p.id },
              h('td', {}, p.serverNodeConfiguration.name),
              h('td', {}, https),
              h('td', {}, port(s.unencryptedListenPort)),
              h('td', {}, port(s.restListenPort)),
              h('td', {}, s.virtualProxies.map((v) => (v.prefix ? `/${v.prefix}` : '/ (default)')).join(', ')),
            );
          })
        : [h('tr', {}, h('td', { class: 'empty', colspan: '5' }, 'No node runs a proxy.'))]),
    );
  } catch (err) {
    say.fail(err);
  }
}
