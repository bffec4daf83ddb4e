// idp.mjs: an OpenID Connect provider on loopback for the proxy's tests, built on the
// certified oidc-provider package. Its sign-in page asks only for a user name (of the
// accounts below); everything else (discovery, authorization with PKCE, the token and
// user-info endpoints, the keys) is the package's own.
//
//   node idp.mjs --port N --cert server.pem --key server.key --secret S --redirect URI...
//
// Two clients: "fathom" (ID tokens signed RS256, secret by HTTP Basic) and "fathom-ec"
// (ES256, secret in the form body). It prints "ready <issuer>" once it listens.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    secret: { type: 'string' },
    redirect: { type: 'string', multiple: true },
  },
});
if (!opt.port || !opt.cert || !opt.key || !opt.secret || !opt.redirect) {
  console.error('usage: idp.mjs --port N --cert PEM --key PEM --secret S --redirect URI...');
  process.exit(2);
}

const accounts = {
  alice: { name: 'Alice Example', email: 'alice@example.com', groups: ['finance', 'analysts'] },
  bob: { name: 'Bob Builder', email: 'bob@example.com', groups: ['sales'] },
};

function privateJwk(kind, kid) {
  const { privateKey } =
    kind === 'RSA'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

const issuer = `https://127.0.0.1:${opt.port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'fathom',
      client_secret: opt.secret,
      redirect_uris: opt.redirect,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'fathom-ec',
      client_secret: opt.secret,
      redirect_uris: opt.redirect,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
    },
  ],
  jwks: { keys: [privateJwk('RSA', 'rsa-1'), privateJwk('EC', 'ec-1')] },
  claims: { profile: ['name'], email: ['email'], groups: ['groups'] },
  cookies: { keys: ['a key for the test provider cookies only'] },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    if (!accounts[sub]) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) };
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, uid, message) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>Test provider</title>${message ? `<p>${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}"><input name="login"><button>Sign in</button></form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

// The sign-in page: a user name of `accounts` signs in and grants what the client asked.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') return page(res, details.uid);
  const login = (await readForm(req)).get('login');
  if (!accounts[login]) return page(res, details.uid, 'no such user');
  const grant = new provider.Grant({ accountId: login, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: login }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const handle = provider.callback();
const server = createServer(
  { cert: readFileSync(opt.cert), key: readFileSync(opt.key) },
  (req, res) => {
    if (req.url.startsWith('/interaction/')) {
      interaction(req, res).catch((err) => {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end(`interaction failed: ${err.message}`);
      });
      return;
    }
    handle(req, res);
  },
);
server.listen(Number(opt.port), '127.0.0.1', () => console.log(`ready ${issuer}`));
