// site.js: a real single-node Fathom site for the QIX suite: `fathom site create` in a
// temporary folder, `fathom run` as a child process, the repository API over HTTPS and QIX
// sessions through enigma.js over secure WebSocket, with the site's client certificate.
'use strict';

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const enigma = require('enigma.js');
const schema = require('enigma.js/schemas/12.2027.0.json');
const WebSocket = require('ws');

const FATHOM = process.env.FATHOM;
if (!FATHOM) throw new Error('set FATHOM to the fathom binary');
const XRF = 'abcdefghijklmnop';

// A loopback port for a node, from the bats suites' own free_port (helpers.bash's
// _free_port, which its free_port runs outside bats' command trap): below the
// kernel's ephemeral range, which clients use for their own ends (a port the kernel handed
// out for a moment here was once taken by another program before the node bound it), and
// not handed to any test on this machine in the last ten minutes.
async function freePort() {
  const helpers = path.join(__dirname, '..', 'integration', 'helpers.bash');
  const out = execFileSync('bash', ['-c', 'source <(sed -n "/^_free_port() {/,/^}/p" "$1") && _free_port', 'free-port', helpers],
    { encoding: 'utf8' });
  const port = Number(out.trim());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`no free port: ${out}`);
  return port;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Site {
  constructor(top) {
    this.top = top;
    this.dir = path.join(top, 'site');
    this.share = path.join(top, 'share');
    this.data = path.join(this.share, 'CustomData');
  }

  certs() {
    const c = path.join(this.dir, 'certs');
    return {
      ca: fs.readFileSync(path.join(c, 'root.pem')),
      cert: fs.readFileSync(path.join(c, 'client.pem')),
      key: fs.readFileSync(path.join(c, 'client_key.pem')),
    };
  }

  async create() {
    this.apiPort = await freePort();
    this.enginePort = await freePort();
    this.proxyPort = await freePort();
    this.proxyApiPort = await freePort();
    this.adminPassword = 'an admin password';
    const pw = path.join(this.top, 'admin.pw');
    fs.writeFileSync(pw, `${this.adminPassword}\n`);
    execFileSync(FATHOM, ['site', 'create', '--dir', this.dir, '--share', this.share,
      '--repository-port', String(this.apiPort), '--engine-port', String(this.enginePort),
      '--proxy-port', String(this.proxyPort), '--proxy-http-port', '0',
      '--proxy-api-port', String(this.proxyApiPort),
      '--admin', 'admin', '--admin-password-file', pw,
      '--hostname', 'localhost', '--name', 'node1'], { stdio: 'ignore' });
    this.tls = this.certs();
  }

  // A person of the INTERNAL directory who signs in with `password` (`fathom user add`).
  addUser(name, password, roles = []) {
    const pw = path.join(this.top, `${name}.pw`);
    fs.writeFileSync(pw, `${password}\n`);
    execFileSync(FATHOM, ['user', 'add', name, '--dir', this.dir, '--password-file', pw,
      ...roles.flatMap((r) => ['--role', r])], { stdio: 'ignore' });
  }

  // Signs in at the proxy's form as a browser would; resolves to the session cookie
  // ("X-Qlik-Session=...").
  signIn(user, password) {
    return new Promise((resolve, reject) => {
      const form = new URLSearchParams({ username: user, password }).toString();
      const req = https.request({
        host: 'localhost', port: this.proxyPort, method: 'POST', path: '/sign-in', ca: this.tls.ca,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }, (res) => {
        res.resume();
        const c = (res.headers['set-cookie'] || []).find((h) => h.startsWith('X-Qlik-Session='));
        if (res.statusCode !== 303 || !c) reject(new Error(`sign-in answered ${res.statusCode}`));
        else resolve(c.split(';')[0]);
      });
      req.on('error', reject);
      req.end(form);
    });
  }

  // A one-time ticket from the proxy API (port 4243, the site's client certificate), and
  // the session cookie a browser gets for it.
  ticketSession(dir, id, attributes) {
    const body = JSON.stringify({ UserDirectory: dir, UserId: id, Attributes: attributes });
    return new Promise((resolve, reject) => {
      const req = https.request({
        host: 'localhost', port: this.proxyApiPort, method: 'POST', path: `/qps/ticket?xrfkey=${XRF}`,
        headers: { 'X-Qlik-Xrfkey': XRF, 'Content-Type': 'application/json' }, ...this.tls,
      }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          if (res.statusCode !== 201) { reject(new Error(`ticket: ${res.statusCode} ${text}`)); return; }
          const { Ticket } = JSON.parse(text);
          https.get({ host: 'localhost', port: this.proxyPort, path: `/?qlikTicket=${Ticket}`, ca: this.tls.ca },
            (r2) => {
              r2.resume();
              const c = (r2.headers['set-cookie'] || []).find((h) => h.startsWith('X-Qlik-Session='));
              if (r2.statusCode !== 302 || !c) reject(new Error(`redeem: ${r2.statusCode}`));
              else resolve(c.split(';')[0]);
            }).on('error', reject);
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  proxyUrl(appId) {
    return `wss://localhost:${this.proxyPort}/app/${encodeURIComponent(appId)}`;
  }

  async start() {
    const args = ['run', '--dir', this.dir];
    if (process.getuid && process.getuid() === 0) args.push('--allow-root');
    this.logPath = path.join(this.dir, 'stderr.log');
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(FATHOM, args, { stdio: ['ignore', log, log] });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve({ code, sig })));
    // this folder's node, not another that holds the port: its id is node.conf's
    const id = /^id = (.*)$/m.exec(fs.readFileSync(path.join(this.dir, 'node.conf'), 'utf8'))?.[1];
    let ended = false;
    this.exited.then(() => { ended = true; });
    for (let i = 0; i < 100 && !ended; i++) {
      try {
        const r = await this.api('GET', '/qrs/about');
        if (r.status === 200 && r.json?.serverNodeId === id) return;
      } catch (e) { /* not up yet */ }
      await sleep(100);
    }
    throw new Error(`the node did not start:\n${fs.readFileSync(this.logPath, 'utf8')}`);
  }

  // SIGTERM; the node must exit 0 with no sanitizer report in its log.
  async stop() {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    const { code, sig } = await this.exited;
    this.proc = null;
    const log = fs.readFileSync(this.logPath, 'utf8');
    if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(log)) {
      throw new Error(`sanitizer report in the node's log:\n${log}`);
    }
    if (code !== 0) throw new Error(`the node exited with ${code} (${sig}):\n${log.slice(-3000)}`);
  }

  api(method, p, body, raw) {
    return new Promise((resolve, reject) => {
      const sep = p.includes('?') ? '&' : '?';
      const data = raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : null;
      const req = https.request({
        host: 'localhost', port: this.apiPort, method, path: `${p}${sep}xrfkey=${XRF}`,
        headers: { 'X-Qlik-Xrfkey': XRF, 'Content-Type': 'application/json' }, ...this.tls,
      }, (res) => {
        let text = '';
        res.on('data', (c) => { text += c; });
        res.on('end', () => {
          let json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { /* text */ }
          resolve({ status: res.statusCode, json, text });
        });
      });
      req.on('error', reject);
      if (data !== null) req.write(data);
      req.end();
    });
  }

  // A new app with `script` saved in it (no data yet).
  async app(name, script) {
    const r = await this.api('POST', '/qrs/app', { name });
    if (r.status !== 201) throw new Error(`POST /qrs/app: ${r.status} ${r.text}`);
    if (script !== undefined) {
      const s = await this.session(r.json.id);
      const doc = await s.global.openDoc(r.json.id);
      await doc.setScript(script);
      await doc.doSave();
      await s.session.close();
    }
    return r.json.id;
  }

  url(appId) {
    return `wss://localhost:${this.enginePort}/app/${encodeURIComponent(appId)}`;
  }

  // An enigma.js session, opened: { session, global, traffic }. opts.suffix is added to the
  // URL (/identity/<x>, /ttl/<seconds>), opts.enigma to enigma's config; opts.proxy goes
  // through the proxy (no client certificate; opts.ws carries the cookie).
  async session(appId, opts = {}) {
    const traffic = [];
    const session = enigma.create({
      schema,
      url: (opts.proxy ? this.proxyUrl(appId) : this.url(appId)) + (opts.suffix || ''),
      createSocket: (url) => new WebSocket(url, { ...(opts.proxy ? { ca: this.tls.ca } : this.tls), ...(opts.ws || {}) }),
      ...(opts.enigma || {}),
    });
    session.on('traffic:received', (msg) => traffic.push(msg));
    const global = await session.open();
    return { session, global, traffic };
  }
}

async function makeSite() {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), 'fathom-qix-'));
  const site = new Site(top);
  await site.create();
  await site.start();
  return site;
}

async function destroySite(site) {
  if (!site) return;
  try {
    await site.stop();
  } finally {
    fs.rmSync(site.top, { recursive: true, force: true });
  }
}

// The single row-major matrix of a layout's first data page, as texts.
function texts(page) {
  return page.qMatrix.map((row) => row.map((c) => c.qText));
}

module.exports = { makeSite, destroySite, texts, sleep, WebSocket };
