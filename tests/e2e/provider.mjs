// A stand-in for Authentik: a real OpenID Connect provider (oidc-provider)
// with Authentik's URL layout, listening on PORT (default 9000).
//
// Like Authentik, it builds the issuer and every discovery endpoint from the
// request's Host header: a request with "Host: auth.localhost" is answered
// with issuer http://auth.localhost/application/o/<slug>/, whether it came
// from the browser through the reverse proxy or straight from the Next.js
// server. A request with "Host: server:9000" gets http://server:9000/... .
//
// Paths (Authentik's):
//   /application/o/<slug>/.well-known/openid-configuration
//   /application/o/authorize/   /application/o/token/   /application/o/userinfo/
//   /application/o/<slug>/jwks/ /application/o/<slug>/end-session/
//   /if/flow/login/<uid>/       (the login form; any password is "password")
//
// Environment: PORT, SLUG, CLIENTS (JSON array of {client_id, client_secret,
// redirect_uris}), SIGNING_KEY, COOKIE_KEY (below).
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.PORT || 9000);
const SLUG = process.env.SLUG || 'e2e';
const CLIENTS = JSON.parse(process.env.CLIENTS || '[]');
const USER = {
  accountId: 'akadmin',
  password: 'password',
  claims: {
    sub: 'akadmin',
    preferred_username: 'akadmin',
    name: 'Alice Admin',
    email: 'alice@auth.localhost',
    email_verified: true,
  },
};

// SIGNING_KEY (PEM) and COOKIE_KEY: fixed keys, as Authentik keeps its keys
// in its database; replicas and a provider recreated at a new address then
// sign and verify alike. Unset: fresh keys for this process.
const privateKey = process.env.SIGNING_KEY
  ? crypto.createPrivateKey(process.env.SIGNING_KEY)
  : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e-rs256', use: 'sig', alg: 'RS256' };
const cookieKeys = [process.env.COOKIE_KEY || crypto.randomBytes(32).toString('hex')];

function log(...args) {
  console.log(new Date().toISOString(), ...args);
}

const providers = new Map();

function providerFor(host) {
  let p = providers.get(host);
  if (p) return p;
  if (providers.size >= 16) return null;
  const issuer = `http://${host}/application/o/${SLUG}/`;
  p = new Provider(issuer, {
    clients: CLIENTS,
    jwks: { keys: [signingKey] },
    cookies: { keys: cookieKeys },
    conformIdTokenClaims: false,
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    features: { devInteractions: { enabled: false } },
    routes: {
      authorization: '/application/o/authorize/',
      token: '/application/o/token/',
      userinfo: '/application/o/userinfo/',
      jwks: `/application/o/${SLUG}/jwks/`,
      end_session: `/application/o/${SLUG}/end-session/`,
      revocation: '/application/o/revoke/',
      introspection: '/application/o/introspect/',
    },
    interactions: { url: (ctx, interaction) => `/if/flow/login/${interaction.uid}/` },
    async findAccount(ctx, id) {
      if (id !== USER.accountId) return undefined;
      return { accountId: id, claims: async () => ({ ...USER.claims }) };
    },
  });
  p.on('server_error', (ctx, err) => log('server_error', err));
  p.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description || ''));
  p.on('authorization.error', (ctx, err) => log('authorization.error', err.message, err.error_description || ''));
  p.on('grant.success', () => log('grant.success (token endpoint) host', host));
  providers.set(host, p);
  log('issuer', issuer);
  return p;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      data += c;
      if (data.length > 65536) reject(new Error('body too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><head><title>${esc(title)}</title></head>
<body style="font-family:sans-serif;max-width:28em;margin:3em auto">
<h1>e2e identity provider</h1>${body}</body></html>`);
}

async function interaction(p, req, res, uid) {
  let details;
  try {
    details = await p.interactionDetails(req, res);
  } catch (err) {
    return page(res, 400, 'Error', `<p id="error">${esc(err.message)}</p>`);
  }
  if (details.uid !== uid) return page(res, 400, 'Error', '<p id="error">interaction mismatch</p>');
  const action = `/if/flow/login/${esc(uid)}/`;
  if (req.method === 'GET') {
    return page(res, 200, 'Sign in', `<p>Client <code>${esc(details.params.client_id)}</code> asks you to sign in.</p>
<form method="post" action="${action}">
<p><label>Username <input name="username" autocomplete="username"></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"></label></p>
<p><button type="submit" id="login">Log in</button></p></form>`);
  }
  const form = await readBody(req);
  if (form.get('username') !== USER.accountId || form.get('password') !== USER.password) {
    return page(res, 200, 'Sign in', `<p id="error">Invalid username or password.</p><p><a href="${action}">again</a></p>`);
  }
  const grant = new p.Grant({ accountId: USER.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope || 'openid'));
  const grantId = await grant.save();
  log('login', USER.accountId, 'client', details.params.client_id);
  return p.interactionFinished(req, res, { login: { accountId: USER.accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const wellKnown = `/application/o/${SLUG}/.well-known/openid-configuration`;

const server = http.createServer(async (req, res) => {
  const host = String(req.headers.host || '').toLowerCase();
  log('from', req.socket.remoteAddress, req.method, host, req.url);
  const p = /^[a-z0-9.-]+(:\d+)?$/.test(host) ? providerFor(host) : null;
  if (!p) {
    res.writeHead(400).end('bad host\n');
    return;
  }
  try {
    const url = new URL(req.url, 'http://x');
    const m = /^\/if\/flow\/login\/([^/]+)\/$/.exec(url.pathname);
    if (m) {
      await interaction(p, req, res, m[1]);
      return;
    }
    if (url.pathname === wellKnown) req.url = `/.well-known/openid-configuration${url.search}`;
    p.callback()(req, res);
  } catch (err) {
    log('error', err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  }
});

server.listen(PORT, '0.0.0.0', () => log(`provider listening on :${PORT}, slug ${SLUG}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
