// The user: Debian's chromium driven by playwright-core. Opens the app, clicks
// "Sign in", logs in at the provider if it gets there, and reports where it
// ended up as one JSON line on stdout. The caller decides pass or fail.
//
// node browser.mjs --url http://app.localhost/ --proxy 10.203.0.4 \
//   --names auth.localhost,app.localhost --shot out.png [--timeout 60] [--session 1]
import { chromium } from 'playwright-core';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const appUrl = new URL(args.url);
const proxy = args.proxy;
const names = String(args.names || '').split(',').filter(Boolean);
const shot = args.shot;
const stepTimeout = 1000 * Number(args.timeout || 45);
const user = { name: args.user || 'akadmin', password: args.password || 'password' };

function note(...a) {
  console.error(new Date().toISOString(), ...a);
}

const result = { outcome: 'unknown', url: null, status: null, error: null, user: null, api: null, steps: [] };
function step(s) {
  result.steps.push(s);
  note('step:', s);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  timeout: stepTimeout,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // stands in for the reverse proxy's published port 80
    `--host-resolver-rules=${names.map((n) => `MAP ${n} ${proxy}`).join(',')}`,
  ],
});
let page;
try {
  const context = await browser.newContext({ viewport: { width: 900, height: 600 } });
  page = await context.newPage();
  page.setDefaultTimeout(stepTimeout);
  page.setDefaultNavigationTimeout(stepTimeout);
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) note('navigated', f.url());
  });
  page.on('requestfailed', (r) => note('request failed', r.url(), r.failure()?.errorText));

  step(`open ${appUrl.href}`);
  await page.goto(appUrl.href, { waitUntil: 'load' });
  await page.locator('#status').waitFor();
  result.status = await page.locator('#status').innerText();
  if (!/Not signed in/.test(result.status)) throw new Error(`start page not signed out: ${result.status}`);

  step('click Sign in');
  await page.locator('#signin').click();
  await page.waitForURL(
    (u) => (u.origin === appUrl.origin && u.searchParams.has('error')) || (u.origin !== appUrl.origin),
    { waitUntil: 'load' },
  );

  if (new URL(page.url()).origin !== appUrl.origin) {
    step(`at the provider: ${page.url()}`);
    await page.locator('input[name=username]').fill(user.name);
    await page.locator('input[name=password]').fill(user.password);
    step('log in');
    await page.locator('#login').click();
    await page.waitForURL((u) => u.origin === appUrl.origin && !u.pathname.startsWith('/api/auth/'), { waitUntil: 'load' });
  }
  step(`back at the app: ${page.url()}`);
  await page.locator('#status').waitFor();
  result.status = await page.locator('#status').innerText();
  const err = page.locator('#error');
  if (await err.count()) result.error = await err.innerText();
  if (await page.locator('#user-name').count()) {
    result.user = {
      name: await page.locator('#user-name').innerText(),
      email: await page.locator('#user-email').innerText(),
    };
    result.outcome = 'signed-in';
    if (await page.locator('#api').count()) result.api = await page.locator('#api').innerText();
    // --session 1: the session's ID token, as a user would fetch it to call
    // the API by hand (the example keeps it: NextAuth's session callback)
    if (args.session) {
      result.idToken = await page.evaluate(() => fetch('/api/auth/session').then((r) => r.json()).then((s) => s.idToken || null));
    }
  } else {
    result.outcome = result.error ? 'error' : 'not-signed-in';
  }
} catch (e) {
  result.outcome = 'exception';
  result.error = String(e && e.message ? e.message.split('\n')[0] : e);
  note('exception:', e);
} finally {
  if (page) {
    result.url = page.url();
    if (shot) await page.screenshot({ path: shot, fullPage: true, timeout: 15000 }).catch((e) => note('screenshot failed', e.message));
  }
  await browser.close().catch(() => {});
}
process.stdout.write(`${JSON.stringify(result)}\n`);
