/**
 * Browser login end to end: headless Chromium signs in at modgate's /login
 * through a real OpenID provider (oidc-provider, authorization code + PKCE),
 * reaches "Set me up" with its LDAP groups from real slapd, mints a token,
 * and the real go command downloads a private module through modgate with
 * the netrc and environment lines read off the page. Then: the token list and
 * revocation, CSRF refusals, a user disabled in LDAP, sign-out, the cookie's
 * attributes and a leak check of the gateway's logs and audit trail.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SSO_USER_REJECTED } from '../gateway/people/sso/oidc.ts';
import { LOGIN_COOKIE } from '../gateway/people/web/login.ts';
import { SESSION_COOKIE } from '../gateway/people/web/session.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { type GoEnv, runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { CLIENTS, type TestIdp } from './support/oidc-provider.ts';
import { type SsoStack, startSsoStack } from './support/sso-stack.ts';
import { PRIVATE_CORP_POLICY, type Stack } from './support/stack.ts';

/** Where the test leaves its screenshot (git-ignored). */
const ARTIFACTS = new URL('../test-artifacts', import.meta.url).pathname;
const SESSION_KEY = 'web-login-test-session-key-0123456789abcdef';
/** The directory lookup cache's TTL in this test (ms). */
const LOOKUP_CACHE_MS = 500;
const PRIVATE_MODULE = 'corp.example/team-a/secret@v0.1.0';
const POLICY = `${PRIVATE_CORP_POLICY}  - name: public
    modules: ["example.com"]
    upstream: athens
`;

let sso: SsoStack;
let idp: TestIdp;
let stack: Stack;
let browser: Browser;
let base: string;
/** Everything secret the run handled: none may appear in logs or the audit trail. */
const secrets: string[] = [CLIENTS.login.secret, SESSION_KEY];

beforeAll(async () => {
  // Directory lookups cached briefly, so disabling a signed-in user shows within the test.
  sso = await startSsoStack({
    policy: POLICY,
    sessionKey: SESSION_KEY,
    auth: { cache_ttl: `${LOOKUP_CACHE_MS}ms` },
  });
  ({ stack, idp, url: base } = sso);
  // Chromium trusts exactly the gateway's key (by SPKI hash), not every certificate.
  const spki = new X509Certificate(stack.pki.certPem).publicKey.export({ type: 'spki', format: 'der' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`,
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await sso?.close();
});

/** Signs in as `login` on the IdP's development form and approves the consent; returns where the browser ends up. */
async function signIn(page: Page, login: string, start = '/setup') {
  await page.goto(`${base}${start}`);
  await page.waitForURL((url) => url.origin === idp.issuer);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password');
  await page.click('button[type=submit]');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL((url) => url.origin === base);
  await page.waitForLoadState();
}

/** The text of the copy line `id` on the page. */
async function line(page: Page, id: string): Promise<string> {
  return (await page.locator(`#${id}`).textContent()) ?? '';
}

/** A go environment from the page's lines: `~/.netrc` and the exported variables. */
async function goEnvFromPage(name: string, netrc: string[], exports: string[]): Promise<GoEnv> {
  const env = await stack.goEnv(name);
  await writeFile(env.netrc, `${netrc.join('\n')}\n`, { mode: 0o600 });
  for (const e of exports) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(e);
    if (!m) throw new Error(`not an export line: ${e}`);
    env.env[m[1] as string] = (m[2] as string).replace(/^'(.*)'$/, '$1');
  }
  return env;
}

/** POSTs a form to the gateway from Node (trusting the test CA), with the given headers. */
function postForm(
  path: string,
  fields: Record<string, string>,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const body = new URLSearchParams(fields).toString();
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: stack.pki.caPem,
        headers: {
          ...headers,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

describe('browser login and the set-up page', () => {
  let context: BrowserContext;
  let page: Page;
  let token = '';
  let netrc: string[] = [];
  let exports: string[] = [];

  beforeAll(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    page.on('request', (r) => {
      const code = new URL(r.url()).searchParams.get('code');
      if (code) secrets.push(code);
    });
  });
  afterAll(() => context?.close());

  it('alice signs in at the IdP and sees herself with her LDAP groups and the routes', async () => {
    await signIn(page, 'alice');
    expect(new URL(page.url()).pathname).toBe('/setup');
    await expect(page.title()).resolves.toBe('Set me up · modgate');
    expect(await page.locator('#user').textContent()).toBe('alice');
    expect(await page.locator('#groups .tag').allTextContents()).toEqual([...USERS.alice.groups]);
    const rows = await page.locator('table tbody tr').all();
    const cells = await Promise.all(rows.map((r) => r.locator('td').allTextContents()));
    expect(cells).toEqual([
      ['corp', 'corp.example/*', 'yes'],
      ['public', 'example.com', 'no'],
    ]);
  });

  it('the session cookie is __Host-, Secure, HttpOnly and SameSite=Lax; the pending login is gone', async () => {
    const cookies = await context.cookies(base);
    const session = cookies.find((c) => c.name === SESSION_COOKIE);
    expect(session).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      domain: '127.0.0.1',
    });
    expect(cookies.find((c) => c.name === LOGIN_COOKIE)).toBeUndefined();
    secrets.push(session!.value);
  });

  it('the page carries strict security headers', async () => {
    const res = await page.goto(`${base}/setup`);
    const h = res!.headers();
    expect(h['content-security-policy']).toMatch(
      /default-src 'none'; style-src 'nonce-[^']+'; script-src 'nonce-[^']+'; form-action 'self'; frame-ancestors 'none'/,
    );
    expect(h).toMatchObject({
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
  });

  it('minting shows the token once with netrc lines for both go netrc styles and the environment', async () => {
    await page.fill('#token-name', 'laptop <b>1</b>');
    await page.click('#mint');
    await page.waitForSelector('#netrc-host');
    netrc = [await line(page, 'netrc-host'), await line(page, 'netrc-host-port')];
    const port = new URL(base).port;
    expect(netrc[0]).toMatch(/^machine 127\.0\.0\.1 login alice password mgp_\S+$/);
    expect(netrc[1]).toMatch(new RegExp(`^machine 127\\.0\\.0\\.1:${port} login alice password mgp_\\S+$`));
    token = netrc[0]!.split(' ').at(-1)!;
    secrets.push(token);
    exports = [
      await line(page, 'goproxy'),
      await line(page, 'gonosumdb'),
      await line(page, 'goprivate'),
      await line(page, 'gonoproxy'),
    ];
    expect(exports).toEqual([
      `export GOPROXY=${base}`,
      "export GONOSUMDB='corp.example/*'",
      "export GOPRIVATE='corp.example/*'",
      'export GONOPROXY=none',
    ]);
    expect(await line(page, 'ssl-cert-file')).toBe('export SSL_CERT_FILE=/path/to/ca-bundle.pem');
    // go 1.24 and newer: the GOAUTH set-up, first on the page, with no token in it.
    expect([await line(page, 'goauth-login'), await line(page, 'goauth')]).toEqual([
      `modgate login ${base}`,
      "go env -w GOAUTH='modgate credential'",
    ]);
    // The name was escaped, not rendered as markup; copy buttons are shown by the nonce'd script.
    expect(await page.locator('#token').textContent()).toBe('Your new token: laptop <b>1</b>');
    expect(await page.locator('button[data-copy="netrc-host"]').isVisible()).toBe(true);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-setup.png'), fullPage: true });
  });

  it('the real go command downloads a private module with the lines from the page', async () => {
    const env = await goEnvFromPage('web-minted', netrc, exports);
    const before = (await stack.gateway.auditRecords()).length;
    const result = await runGo(['mod', 'download', PRIVATE_MODULE], { env: env.env, cwd: stack.dir });
    expect(result.code, result.stderr).toBe(0);
    const records = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(records).toContainEqual(
      expect.objectContaining({
        user: { name: 'alice', roles: [...USERS.alice.groups] },
        auth: { method: 'pat' },
      }),
    );
  });

  it('My tokens lists it; revoking it makes go fail with 401 and modgate’s reason', async () => {
    await page.goto(`${base}/tokens`);
    const rows = page.locator('#tokens tbody tr');
    await expect(rows.count()).resolves.toBe(1);
    expect(await rows.first().locator('td').first().textContent()).toBe('laptop <b>1</b>');
    expect(await rows.first().locator('td').nth(3).textContent()).toBe('this page');
    await rows.first().getByRole('button', { name: 'Revoke laptop <b>1</b>' }).click();
    await page.waitForSelector('#notice');
    expect(await page.locator('#notice').textContent()).toBe(
      'Revoked “laptop <b>1</b>”. It no longer works.',
    );
    await expect(page.locator('#tokens').count()).resolves.toBe(0);

    const env = await goEnvFromPage('web-revoked', netrc, exports);
    const result = await runGo(['mod', 'download', PRIVATE_MODULE], { env: env.env, cwd: stack.dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('401 Unauthorized');
    expect(result.stderr).toContain('modgate: personal token has been revoked');
  });

  it('a form post without the CSRF token, or from another site, is refused with 403', async () => {
    // The browser's own form, with the session cookie but the token field taken out.
    await page.goto(`${base}/setup`);
    await page.locator('form[action="/setup/token"] input[name=csrf]').evaluate((e) => e.remove());
    const [noToken] = await Promise.all([page.waitForResponse(`${base}/setup/token`), page.click('#mint')]);
    expect(noToken.status()).toBe(403);
    expect(await page.locator('#reason').textContent()).toBe(
      'missing or invalid CSRF token; reload the page and try again',
    );
    await page.goto(`${base}/setup`);
    // Another site's post with a stolen valid token is still refused by fetch metadata.
    const cookie = (await context.cookies(base)).find((c) => c.name === SESSION_COOKIE)!;
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    const crossSite = await postForm(
      '/setup/token',
      { name: 'forged', csrf },
      {
        cookie: `${cookie.name}=${cookie.value}`,
        origin: 'https://evil.test',
        'sec-fetch-site': 'cross-site',
      },
    );
    expect(crossSite.status).toBe(403);
    expect(crossSite.text).toContain('cross-site form submission refused (Sec-Fetch-Site: cross-site)');
    // The same request from the page's own origin goes through: the refusals were the checks.
    const sameSite = await postForm(
      '/setup/token',
      { name: 'via-node', csrf },
      {
        cookie: `${cookie.name}=${cookie.value}`,
        origin: base,
        'sec-fetch-site': 'same-origin',
      },
    );
    expect(sameSite.status).toBe(200);
    const minted = /password (mgp_\S+)/.exec(sameSite.text)?.[1];
    expect(minted).toBeDefined();
    secrets.push(minted!);
  });

  it('signing out ends the session: the pages send the browser to the login again', async () => {
    const cookie = (await context.cookies(base)).find((c) => c.name === SESSION_COOKIE)!;
    await page.goto(`${base}/setup`);
    await page.getByRole('button', { name: /^Sign out/ }).click();
    await page.waitForSelector('#reason');
    expect(await page.locator('#reason').textContent()).toBe('You are signed out of modgate.');
    expect((await context.cookies(base)).some((c) => c.name === SESSION_COOKIE)).toBe(false);
    // The old cookie, replayed, no longer works.
    const replay = await httpsGet(base, '/setup', {
      ca: stack.pki.caPem,
      headers: { cookie: `${cookie.name}=${cookie.value}` },
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.location).toBe('/login?return=%2Fsetup');
  });
});

describe('refusals', () => {
  it('a user disabled in LDAP cannot sign in: a clear error page and no session cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const statuses: number[] = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname === '/login/callback') statuses.push(r.status());
    });
    await signIn(page, USERS.carol.name);
    expect(new URL(page.url()).pathname).toBe('/login/callback');
    expect(statuses).toEqual([401]);
    expect(await page.locator('#reason').textContent()).toBe(SSO_USER_REJECTED);
    expect(await page.locator('h1').textContent()).toBe('Sign-in failed');
    const names = (await context.cookies(base)).map((c) => c.name);
    expect(names).not.toContain(SESSION_COOKIE);
    expect(names).not.toContain(LOGIN_COOKIE);
    await context.close();
  });

  it('a signed-in user disabled in LDAP loses the pages on the next load (after the lookup cache)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, USERS.erin.name);
    expect(await page.locator('#user').textContent()).toBe(USERS.erin.name);
    expect(await page.locator('#groups').textContent()).toBe('none');
    const flag = (op: 'add' | 'delete') =>
      stack.slapd!.modify(
        `dn: ${USERS.erin.dn}\nchangetype: modify\n${op}: employeeType\nemployeeType: disabled\n`,
      );
    await flag('add');
    try {
      await new Promise((r) => setTimeout(r, LOOKUP_CACHE_MS + 200));
      const res = await page.reload();
      expect(res!.status()).toBe(401);
      expect(await page.locator('#reason').textContent()).toBe(SSO_USER_REJECTED);
      expect((await context.cookies(base)).map((c) => c.name)).not.toContain(SESSION_COOKIE);
    } finally {
      await flag('delete');
      await context.close();
    }
  });

  it('a login cancelled at the IdP ends on a clear page with the IdP’s one-line reason', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/setup`);
    await page.waitForURL((url) => url.origin === idp.issuer);
    const [callback] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname === '/login/callback'),
      page.getByRole('link', { name: '[ Cancel ]' }).click(),
    ]);
    expect(callback.status()).toBe(401);
    expect(await page.locator('#reason').textContent()).toBe(
      'the identity provider refused the login: access_denied (End-User aborted interaction)',
    );
    expect((await context.cookies(base)).map((c) => c.name)).not.toContain(SESSION_COOKIE);
    await context.close();
  });

  it('a callback without a login in progress is refused with a clear page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${base}/login/callback?code=forged&state=forged`);
    expect(res!.status()).toBe(401);
    expect(await page.locator('#reason').textContent()).toBe(
      'this sign-in expired or was started in another browser; please sign in again',
    );
    await context.close();
  });

  it('neither the token, the cookies, the code nor any secret appears in the logs or the audit trail', async () => {
    const text = (await stack.gateway.logText()) + (await readFile(stack.gateway.auditPath, 'utf8'));
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    for (const secret of [...secrets, ...stack.secrets]) expect(text).not.toContain(secret);
    const audit = await stack.gateway.auditRecords();
    const actions = new Set(audit.map((r) => (r.event as { action: string }).action));
    for (const a of [
      'modgate.web.login',
      'modgate.web.login.callback',
      'modgate.web.setup',
      'modgate.web.token.mint',
      'modgate.web.token.revoke',
      'modgate.web.logout',
    ]) {
      expect(actions).toContain(a);
    }
    expect(audit).toContainEqual(
      expect.objectContaining({
        event: expect.objectContaining({ action: 'modgate.web.token.mint' }),
        auth: { method: 'sso' },
      }),
    );
  });
});
