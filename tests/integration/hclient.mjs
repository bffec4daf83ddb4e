// hclient.mjs PORTFILE PID: sends the integration tests' HTTPS requests for helpers.bash's
// `api`, so that a request costs a connection and not a program's start: curl's start
// (dynamic linking, TLS set-up) is about 40 ms of processor time on the build machine,
// most of what a request costs there, and make check sends thousands.
//
// It listens on a loopback port (written to PORTFILE once it listens) and exits when the
// process PID (the bats run) is gone. Each connection carries one request, as lines:
//
//   METHOD, URL, CA file, certificate file, key file, response body file, timeout in
//   seconds (0: none), request body file ("" for none), then "H name: value" per header,
//   then "END"
//
// and gets back "STATUS RC\n": STATUS as curl's %{http_code} (000 without an answer), RC as
// curl's exit status (0, 7 refused, 28 timed out, 35 TLS, 52 no answer, 56 cut off). Each
// request has its own TLS connection (closed after the answer, as curl's is), so a node
// sees what it saw from curl; sessions resume, which only spares a handshake's work.
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';

const [portFile, watched] = process.argv.slice(2);
const agents = new Map();

function agent(ca, cert, key) {
  const k = `${ca}\n${cert}\n${key}`;
  let a = agents.get(k);
  if (!a) {
    a = new https.Agent({
      keepAlive: false,
      ca: fs.readFileSync(ca),
      cert: cert ? fs.readFileSync(cert) : undefined,
      key: key ? fs.readFileSync(key) : undefined,
    });
    agents.set(k, a);
  }
  return a;
}

function exitCode(err, timedOut) {
  if (timedOut) return 28;
  const c = err.code ?? '';
  if (c === 'ECONNREFUSED') return 7;
  if (c.startsWith('ERR_TLS') || c.startsWith('ERR_SSL') || /CERT|SELF_SIGNED/.test(c)) return 35;
  if (c === 'ECONNRESET' && !err.answered) return 52;
  return 56;
}

function send(lines, reply) {
  const [method, url, ca, cert, key, out, timeout, bodyFile] = lines;
  // as curl: "Name: value" sets a header, "Name:" removes one curl would send
  const headers = {};
  const removed = new Set();
  for (const l of lines.slice(8)) {
    const h = l.slice(2);
    const i = h.indexOf(':');
    if (i <= 0) continue;
    const name = h.slice(0, i).trim();
    const value = h.slice(i + 1).trim();
    if (value) headers[name] = value;
    else removed.add(name.toLowerCase());
  }
  const has = (n) => removed.has(n) || Object.keys(headers).some((h) => h.toLowerCase() === n);
  if (!has('accept')) headers.Accept = '*/*';
  let body = null;
  try {
    body = bodyFile ? fs.readFileSync(bodyFile) : null;
  } catch {
    return reply('000 26'); // curl: cannot read the file to send
  }
  if (body && !has('transfer-encoding')) headers['Content-Length'] = body.length;
  // curl sends a body as a form's unless told otherwise
  if (body && !has('content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  let timedOut = false;
  let done = false;
  const chunks = [];
  const finish = (status, rc) => {
    if (done) return;
    done = true;
    try {
      fs.writeFileSync(out, Buffer.concat(chunks));
    } catch {
      rc = rc || 23; // curl: cannot write the body
    }
    reply(`${status} ${rc}`);
  };
  let req;
  try {
    req = https.request(url, { method, headers, agent: agent(ca, cert, key) }, (res) => {
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => finish(String(res.statusCode).padStart(3, '0'), 0));
      res.on('error', (err) => {
        err.answered = true;
        finish(String(res.statusCode).padStart(3, '0'), exitCode(err, timedOut));
      });
    });
  } catch {
    return reply('000 3'); // curl: a URL it cannot use
  }
  if (Number(timeout) > 0)
    req.setTimeout(Number(timeout) * 1000, () => {
      timedOut = true;
      req.destroy(new Error('timed out'));
    });
  req.on('error', (err) => finish('000', exitCode(err, timedOut)));
  req.end(body ?? undefined);
}

const server = net.createServer((sock) => {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('error', () => {});
  sock.on('data', (d) => {
    buf += d;
    const end = buf.indexOf('\nEND\n');
    if (end < 0) return;
    send(buf.slice(0, end).split('\n'), (answer) => sock.end(`${answer}\n`));
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(`${portFile}.new`, `${server.address().port}\n`);
  fs.renameSync(`${portFile}.new`, portFile);
});
setInterval(() => {
  try {
    process.kill(Number(watched), 0);
  } catch {
    process.exit(0);
  }
}, 1000).unref();
server.on('error', () => process.exit(1));
