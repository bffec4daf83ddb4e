// qrs-clients.test.js: the two QRS client packages people use from npm, unchanged, against a
// real Fathom node's repository port with the site's client certificate, as they would
// talk to Qlik's 4242: qrs-interact 6.3 (about, lists with filters, create, update with
// the modifiedDate it read, delete) and qlik-repo-api 0.15 (about, streams, apps: upload,
// get, filter, update, copy, publish, export, remove). Run by `make check` (ctest) with
// FATHOM set to the binary.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const QrsInteract = require('qrs-interact');
const { QlikRepoApi } = require('qlik-repo-api');
const { makeSite, destroySite } = require('./site');

let site;
let certDir;

before(async () => {
  site = await makeSite();
  // qrs-interact reads the certificate and key from files, as Qlik exports them
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fathom-certs-'));
  fs.writeFileSync(path.join(certDir, 'client.pem'), site.tls.cert);
  fs.writeFileSync(path.join(certDir, 'client_key.pem'), site.tls.key);
});

after(async () => {
  await destroySite(site);
  fs.rmSync(certDir, { recursive: true, force: true });
});

function interact() {
  return new QrsInteract({
    hostname: 'localhost',
    portNumber: site.apiPort,
    certificates: {
      certFile: path.join(certDir, 'client.pem'),
      keyFile: path.join(certDir, 'client_key.pem'),
    },
  });
}

function repoApi() {
  return new QlikRepoApi.client({
    host: 'localhost',
    port: site.apiPort,
    httpsAgent: new https.Agent({ rejectUnauthorized: false, cert: site.tls.cert, key: site.tls.key }),
    authentication: { user_dir: 'INTERNAL', user_name: 'sa_repository' },
  });
}

test('qrs-interact: about, a stream made, listed by filter, renamed with the date it read, deleted', async () => {
  const q = interact();
  const about = await q.Get('about');
  assert.equal(about.statusCode, 200);
  assert.ok(about.body.buildVersion, 'about names a build version');

  const made = await q.Post('stream', { name: 'Interact stream' }, 'json');
  assert.equal(made.statusCode, 201);
  const id = made.body.id;
  assert.match(id, /^[0-9a-f-]{36}$/);

  const found = await q.Get("stream/full?filter=name eq 'Interact stream'");
  assert.equal(found.statusCode, 200);
  assert.deepEqual(found.body.map((s) => s.id), [id]);

  // an update sends back what it read, with the modifiedDate the repository gave
  const read = (await q.Get(`stream/${id}`)).body;
  const put = await q.Put(`stream/${id}`, { ...read, name: 'Interact stream, renamed' });
  assert.equal(put.statusCode, 200);
  assert.equal((await q.Get(`stream/${id}`)).body.name, 'Interact stream, renamed');

  const del = await q.Delete(`stream/${id}`);
  assert.equal(del.statusCode, 204);
  const gone = await q.Get(`stream/full?filter=id eq ${id}`);
  assert.deepEqual(gone.body, []);
});

test('qlik-repo-api: streams and apps through their documented calls', async () => {
  const api = repoApi();
  const about = await api.about.get();
  assert.ok(about.buildVersion, 'about names a build version');

  const stream = await api.streams.create({ name: 'Repo API stream' });
  assert.equal(stream.details.name, 'Repo API stream');
  const listed = await api.streams.getFilter({ filter: "name eq 'Repo API stream'" });
  assert.deepEqual(listed.map((s) => s.details.id), [stream.details.id]);

  // an app uploaded from an app file Fathom made
  const seed = await site.app('Seed app', "T: LOAD * INLINE [\nA, B\n1, x\n2, y\n];");
  const apps = path.join(site.share, 'Apps');
  const seedFile = fs.readdirSync(apps).find((f) => f.startsWith(`${seed}.`));
  assert.ok(seedFile, 'the seed app has its file on the share');
  const app = await api.apps.upload({ name: 'Uploaded by repo api', file: fs.readFileSync(path.join(apps, seedFile)) });
  assert.equal(app.details.name, 'Uploaded by repo api');
  const got = await api.apps.get({ id: app.details.id });
  assert.equal(got.details.id, app.details.id);

  // an update: qlik-repo-api stamps modifiedDate with the time of the call
  await got.update({ name: 'Renamed by repo api', description: 'a description' });
  const again = await api.apps.get({ id: app.details.id });
  assert.equal(again.details.name, 'Renamed by repo api');
  assert.equal(again.details.description, 'a description');

  const copy = await again.copy({ name: 'Copy by repo api' });
  assert.equal(copy.details.name, 'Copy by repo api');
  assert.notEqual(copy.details.id, again.details.id);

  await copy.publish({ stream: stream.details.name });
  const published = await api.apps.get({ id: copy.details.id });
  assert.equal(published.details.published, true);
  assert.equal(published.details.stream.id, stream.details.id);

  // the export: a download link, then the file as a stream (an app file, as uploaded)
  const exported = await again.export();
  const chunks = [];
  for await (const c of exported.file) chunks.push(c);
  const bytes = Buffer.concat(chunks);
  assert.ok(bytes.length > 100, `the export has the app file (${bytes.length} bytes)`);
  const back = await api.apps.upload({ name: 'Round trip', file: bytes });
  assert.equal(back.details.name, 'Round trip');
  assert.equal(await back.remove(), 204);

  const filtered = await api.apps.getFilter({ filter: "name sw 'Copy by'" });
  assert.deepEqual(filtered.map((a) => a.details.id), [copy.details.id]);

  assert.equal(await copy.remove(), 204);
  assert.equal(await again.remove(), 204);
  assert.equal(await stream.remove(), 204);
  assert.deepEqual(await api.apps.getFilter({ filter: "name sw 'Copy by'" }), []);
});
