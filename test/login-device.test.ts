/**
 * `modgate login` / `logout` end to end: the real CLI as a child process, a
 * real oidc-provider running the device flow (approved through its own pages
 * with fetch and a cookie jar, as a person in a browser would), real slapd,
 * the Athens emulator, and the real go command using the netrc the CLI wrote.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson } from '../bin/commands/modgate-api.ts';
import { netrcEntryFor, parseNetrc } from '../client/netrc.ts';
import { DEVICE_LOGIN_STARTS } from '../gateway/abuse/guard.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo, turnOffGoTelemetry } from '../harness/go.ts';
import { freePort } from '../harness/ports.ts';
import { approveAtIdp, CLIENTS, type TestIdp } from './support/oidc-provider.ts';
import { type SsoStack, startSsoStack } from './support/sso-stack.ts';
import { PRIVATE_CORP_POLICY, type Stack } from './support/stack.ts';

/** Upper bound for one CLI run (ms): the provider asks for 5 s between polls. */
const CLI_TIMEOUT_MS = 40_000;
/** Upper bound for the CLI to print its code (ms). */
const CODE_TIMEOUT_MS = 15_000;
const SESSION_KEY = 'session-key-for-the-login-test-0123456789';
const UNRELATED = '# other hosts\nmachine github.com login bob password ghp_unrelated_x1\n';

let sso: SsoStack;
let idp: TestIdp;
let stack: Stack;
let url: string;
let caPath: string;

beforeAll(async () => {
  sso = await startSsoStack({ policy: PRIVATE_CORP_POLICY, sessionKey: SESSION_KEY });
  ({ stack, idp, url } = sso);
  caPath = stack.pki.caCertPath;
  await turnOffGoTelemetry(stack.dir);
}, 60_000);

afterAll(async () => {
  await sso?.close();
});

/** A running `modgate <args>` with its output so far. */
interface Cli {
  readonly child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  readonly exit: Promise<number>;
}

function cli(args: string[]): Cli {
  const child = spawn(process.execPath, ['bin/modgate.ts', ...args], {
    // No DISPLAY and no SSL_CERT_FILE: no browser, and --ca is needed.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: stack.dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  const exit = new Promise<number>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    }),
  );
  return { child, out: () => out, err: () => err, exit };
}

/** Waits until the login CLI has printed the link and the user code. */
async function linkAndCode(login: Cli): Promise<{ link: string; code: string }> {
  const deadline = Date.now() + CODE_TIMEOUT_MS;
  for (;;) {
    const m = /open (\S+)\nand confirm the code (\S+)/.exec(login.out());
    if (m !== null) return { link: m[1]!, code: m[2]! };
    if (Date.now() > deadline || login.child.exitCode !== null) {
      throw new Error(`no code printed:\n${login.out()}\n${login.err()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `modgate login` for `netrc`, approving as `user` (or aborting). */
async function login(netrc: string, user: string, options: { abort?: boolean } = {}) {
  const run = cli(['login', url, '--netrc', netrc, '--no-browser', '--ca', caPath, '--name', 'laptop']);
  const { link, code } = await linkAndCode(run);
  expect(link).toContain(code);
  const title = await approveAtIdp(link, user, options);
  return { code: await run.exit, out: run.out(), err: run.err(), title };
}

const host = () => new URL(url).host;
const hostname = () => new URL(url).hostname;

describe('modgate login and logout', () => {
  it('login writes the token for both machine forms, go downloads with it; logout revokes it', async () => {
    const netrc = join(stack.dir, 'alice.netrc');
    await writeFile(netrc, UNRELATED);
    await chmod(netrc, 0o644);
    const auditBefore = (await stack.gateway.auditRecords()).length;

    const result = await login(netrc, USERS.alice.name);
    expect(result.code, `${result.out}\n${result.err}`).toBe(0);
    expect(result.title).toBe('Sign-in Success');
    expect(result.out).toContain('Signed in as alice (developers, team-a)');
    expect(result.out).toContain('(its mode was 0644, now 0600)');
    expect(result.out).toContain(`export GOPROXY=${url}\n`);
    expect(result.out).toContain("export GONOSUMDB='corp.example/*'");
    expect(result.out).toContain(`export SSL_CERT_FILE=${caPath}`);
    expect(result.out).toContain(`export NETRC=${netrc}`);

    const text = await readFile(netrc, 'utf8');
    expect((await stat(netrc)).mode & 0o777).toBe(0o600);
    expect(text.startsWith(UNRELATED)).toBe(true);
    const lines = parseNetrc(text);
    const short = netrcEntryFor(lines, hostname());
    const long = netrcEntryFor(lines, host());
    expect(short?.login).toBe('alice');
    expect(short?.password).toMatch(/^mgp_/);
    expect(long).toEqual({ ...short, machine: host() });
    const token = short!.password;

    // The real go command (1.19: looks up the host without port) downloads through modgate.
    const env = await stack.goEnv('login-alice');
    env.env.NETRC = netrc;
    const ok = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], { env: env.env, cwd: stack.dir });
    expect(ok.code, ok.stderr).toBe(0);
    const records = (await stack.gateway.waitForAudit(auditBefore + 3)).slice(auditBefore);
    expect(records).toContainEqual(
      expect.objectContaining({
        event: expect.objectContaining({ action: 'modgate.login.device.token', outcome: 'success' }),
        user: { name: 'alice', roles: ['developers', 'team-a'] },
      }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ user: expect.objectContaining({ name: 'alice' }), auth: { method: 'pat' } }),
    );

    // Logout: revoked at modgate, entries gone, the rest of the file as it was.
    const copy = join(stack.dir, 'alice-copy.netrc');
    await copyFile(netrc, copy);
    const logout = cli(['logout', url, '--netrc', netrc, '--ca', caPath]);
    expect(await logout.exit, logout.err()).toBe(0);
    expect(logout.out()).toContain('Revoked the token at modgate.');
    expect(await readFile(netrc, 'utf8')).toBe(UNRELATED);
    expect((await stat(netrc)).mode & 0o777).toBe(0o600);

    // The revoked token (a copy kept elsewhere) is refused with modgate's reason; no entry: 401 too.
    const revokedEnv = await stack.goEnv('login-alice-revoked');
    revokedEnv.env.NETRC = copy;
    const refused = await runGo(['mod', 'download', 'example.com/hello@v1.1.0'], {
      env: revokedEnv.env,
      cwd: stack.dir,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('401 Unauthorized');
    expect(refused.stderr).toContain('modgate: personal token has been revoked');
    const noEntryEnv = await stack.goEnv('login-alice-none');
    noEntryEnv.env.NETRC = netrc;
    const missing = await runGo(['mod', 'download', 'example.com/hello@v1.1.0'], {
      env: noEntryEnv.env,
      cwd: stack.dir,
    });
    expect(missing.stderr).toContain('401 Unauthorized');
    expect(missing.stderr).toContain('modgate: authentication required');

    // Neither the token nor the client secret reaches the logs or the audit trail.
    const logs = (await stack.gateway.logText()) + (await readFile(stack.gateway.auditPath, 'utf8'));
    for (const secret of [token, token.slice(4), CLIENTS.login.secret, SESSION_KEY]) {
      expect(logs).not.toContain(secret);
    }
  }, 90_000);

  it('a disabled directory user is refused with a one-line reason; a denial at the IdP too', async () => {
    const [disabled, denied] = await Promise.all([
      login(join(stack.dir, 'carol.netrc'), USERS.carol.name),
      login(join(stack.dir, 'denied.netrc'), USERS.bob.name, { abort: true }),
    ]);
    expect(disabled.code).toBe(1);
    expect(disabled.err).toBe('modgate login: your account is unknown or disabled in the directory\n');
    expect(denied.code).toBe(1);
    expect(denied.err).toBe('modgate login: the sign-in was denied at the identity provider\n');
    await expect(stat(join(stack.dir, 'carol.netrc'))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 60_000);

  it('logout when modgate cannot be reached removes the entries but exits 1: the token was not revoked', async () => {
    const netrc = join(stack.dir, 'offline.netrc');
    const dead = `https://127.0.0.1:${await freePort()}`;
    const deadHost = new URL(dead).host;
    const token = `mgp_eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify({ exp: 2_000_000_000 })).toString('base64url')}.c2ln`;
    await writeFile(netrc, `${UNRELATED}machine ${deadHost} login alice password ${token}\n`, {
      mode: 0o600,
    });
    const logout = cli(['logout', dead, '--netrc', netrc]);
    expect(await logout.exit).toBe(1);
    expect(logout.err()).toMatch(/cannot reach .*the token was NOT revoked and stays valid until 2033-05-18/);
    expect(await readFile(netrc, 'utf8')).toBe(UNRELATED);
  });
});

describe('the login API', () => {
  const store = () => ({ ca: [stack.pki.caPem], source: 'test CA' });

  it('answers the device codes; the token endpoint says authorization_pending until approval', async () => {
    const started = await postJson(new URL(url), '/_modgate/login/device', {}, { store: store() });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({
      device_code: expect.any(String),
      user_code: expect.any(String),
      verification_uri: `${idp.issuer}/device`,
      interval: expect.any(Number),
      expires_in: expect.any(Number),
    });
    const deviceCode = String(started.body!.device_code);
    const pending = await postJson(
      new URL(url),
      '/_modgate/login/device/token',
      { device_code: deviceCode },
      { store: store() },
    );
    expect(pending.status).toBe(428);
    expect(pending.body).toMatchObject({ error: 'authorization_pending' });
    const unknown = await postJson(
      new URL(url),
      '/_modgate/login/device/token',
      { device_code: 'not-a-device-code' },
      { store: store() },
    );
    expect(unknown.status).toBe(403);
    expect(unknown.body).toMatchObject({
      error_description: 'unknown or already used device code; run modgate login again',
    });
    const logs = (await stack.gateway.logText()) + (await readFile(stack.gateway.auditPath, 'utf8'));
    expect(logs).not.toContain(deviceCode);
  });

  it('refuses other methods, other content types, large bodies and a missing or foreign credential', async () => {
    const get = await raw('GET', '/_modgate/login/device');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    expect(JSON.parse(get.text)).toMatchObject({
      error_description: 'method GET not allowed here; use POST',
    });
    const text = await raw('POST', '/_modgate/login/device/token', 'device_code=x', 'text/plain');
    expect(text.status).toBe(400);
    expect(JSON.parse(text.text).error_description).toBe(
      'content type text/plain not accepted; send JSON or a form',
    );
    const big = await raw('POST', '/_modgate/login/device/token', 'x'.repeat(10_000), 'application/json');
    expect(big.status).toBe(400);
    expect(JSON.parse(big.text).error_description).toBe('the request body is larger than 4096 bytes');
    const none = await raw('POST', '/_modgate/tokens/revoke-self');
    expect(none.status).toBe(401);
    expect(JSON.parse(none.text).error_description).toBe(
      'send the personal token as the Basic password or a Bearer token',
    );
    const password = await raw('POST', '/_modgate/tokens/revoke-self', '', undefined, {
      authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`,
    });
    expect(password.status).toBe(401);
    const crossSite = await raw('POST', '/_modgate/tokens/revoke-self', '', undefined, {
      origin: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
  });

  // Last in the file: it uses up this address's device-login starts for a minute.
  it(`starts at most ${DEVICE_LOGIN_STARTS} device logins a minute per source address, then 429 with Retry-After`, async () => {
    const before = idp.hits('/device/auth');
    let refused: Awaited<ReturnType<typeof raw>> | undefined;
    let started = 0;
    for (let i = 0; i <= DEVICE_LOGIN_STARTS && refused === undefined; i++) {
      const r = await raw('POST', '/_modgate/login/device', '{}', 'application/json');
      if (r.status === 200) started++;
      else refused = r;
    }
    expect(refused?.status).toBe(429);
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused!.text)).toMatchObject({
      error: 'temporarily_unavailable',
      error_description: expect.stringMatching(
        new RegExp(
          `^rate limit exceeded for 127\\.0\\.0\\.1 \\(${DEVICE_LOGIN_STARTS} requests per 1m\\); try again in \\d+s$`,
        ),
      ),
    });
    // Earlier tests of this file started some; the refused one never reached the IdP.
    expect(started).toBeLessThanOrEqual(DEVICE_LOGIN_STARTS);
    expect(idp.hits('/device/auth') - before).toBe(started);
  });
});

/** One request with a raw body. */
function raw(
  method: string,
  path: string,
  body = '',
  contentType?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        ca: stack.pki.caPem,
        headers: {
          ...headers,
          ...(contentType === undefined ? {} : { 'content-type': contentType }),
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
