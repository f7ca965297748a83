/**
 * GOAUTH='modgate credential' with the real go 1.26 and no netrc file at
 * all: `modgate login` (device flow at a real oidc-provider) keeps a
 * sign-in, go asks the helper for a short-lived token, a token that expired
 * mid-session is refreshed on go's re-run after the 401, a revoked sign-in
 * ends with one line naming `modgate login`, and a helper that prints a wrong
 * credential makes go fail (so the header is what authenticates).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAT_CLOCK_TOLERANCE_S } from '../auth/pat/personal-tokens.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { type GoEnv, runGo } from '../harness/go.ts';
import { GO, LEGACY_GO } from '../harness/go-binaries.ts';
import { httpsGet } from '../harness/https-client.ts';
import { approveAtIdp } from './support/oidc-provider.ts';
import { type SsoStack, startSsoStack } from './support/sso-stack.ts';
import { PRIVATE_CORP_POLICY } from './support/stack.ts';

/** Upper bound for one CLI run (ms): the provider asks for 5 s between polls. */
const CLI_TIMEOUT_MS = 40_000;
/** Access tokens live this long here, so a test can outlive one. */
const ACCESS_TTL_S = 3;

let sso: SsoStack;
let url: string;

beforeAll(async () => {
  sso = await startSsoStack({
    policy: PRIVATE_CORP_POLICY,
    sessionKey: 'session-key-for-the-goauth-test-0123456789',
    sso: { access_token_ttl: `${ACCESS_TTL_S}s` },
  });
  url = sso.url;
}, 60_000);

afterAll(async () => {
  await sso?.close();
});

/** Runs `modgate <args>` with `env`; `approve` answers the device flow's link as that user. */
async function cli(args: string[], env: Record<string, string>, approve?: string, stdin = '') {
  const child: ChildProcess = spawn(process.execPath, ['bin/modgate.ts', ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(stdin);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  const exit = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  if (approve !== undefined) {
    for (let waited = 0; !/open (\S+)\n/.test(out) && waited < CLI_TIMEOUT_MS; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await approveAtIdp(/open (\S+)\n/.exec(out)![1]!, approve);
  }
  const code = await exit;
  clearTimeout(timer);
  return { code, out, err };
}

/** A go environment with no netrc file, whose HOME holds the sign-in `modgate login` keeps. */
async function signedIn(name: string): Promise<{ env: GoEnv; goauth: string; store: string }> {
  const env = await sso.stack.goEnv(name);
  await expect(stat(env.netrc)).rejects.toMatchObject({ code: 'ENOENT' });
  const login = await cli(
    ['login', url, '--no-browser', '--ca', sso.stack.pki.caCertPath, '--name', name],
    { PATH: env.env.PATH!, HOME: env.home },
    USERS.alice.name,
  );
  expect(login.code, `${login.out}\n${login.err}`).toBe(0);
  expect(login.out).toContain(`for GOAUTH (${GO.version} reads GOAUTH)`);
  const goauth = /export GOAUTH='([^']+)'/.exec(login.out)?.[1];
  expect(goauth).toMatch(/ credential$/);
  const store = join(env.home, '.config', 'modgate', 'credentials.json');
  expect(login.out).toContain(`Kept it in ${store} (mode 0600)`);
  expect((await stat(store)).mode & 0o777).toBe(0o600);
  env.env.GOAUTH = goauth!;
  return { env, goauth: goauth!, store };
}

const download = (env: GoEnv, module: string, go = GO) =>
  runGo(['mod', 'download', '-x', module], { env: env.env, cwd: sso.stack.dir, go });

describe("GOAUTH='modgate credential' (go 1.24 and later)", () => {
  it('go mod download authenticates with no netrc file; the sign-in is a refresh token, never a password', async () => {
    const { env, store } = await signedIn('goauth-first');
    const ok = await download(env, 'example.com/hello@v1.0.0');
    expect(ok.code, ok.stderr).toBe(0);
    // The documented form, GOAUTH='modgate credential' with modgate (and a Node 24 `node`) on PATH.
    const bin = join(env.home, 'bin');
    await mkdir(bin);
    await symlink(new URL('../bin/modgate.ts', import.meta.url).pathname, join(bin, 'modgate'));
    await symlink(process.execPath, join(bin, 'node'));
    const onPath = { ...env.env, PATH: `${bin}:${env.env.PATH}`, GOAUTH: 'modgate credential' };
    const viaPath = await runGo(['mod', 'download', 'example.com/hello@v1.1.0'], {
      env: onPath,
      cwd: sso.stack.dir,
    });
    expect(viaPath.code, viaPath.stderr).toBe(0);
    const kept = Object.values(
      JSON.parse(await readFile(store, 'utf8')) as Record<string, Record<string, string>>,
    );
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ url, user: 'alice' });
    expect(kept[0]!.refreshToken).toMatch(/^mgp_/);
    // The refresh token fetches nothing itself: only the access tokens it buys do.
    const refreshOnly = await httpsGet(url, '/example.com/hello/@v/list', {
      ca: sso.stack.pki.caPem,
      authorization: `Bearer ${kept[0]!.refreshToken}`,
    });
    expect(refreshOnly.status).toBe(401);
    expect(refreshOnly.text).toContain('this token only refreshes');
    // Refreshing takes the refresh token as its own proof, so another site's page may not make a browser do it.
    const crossOrigin = await httpsGet(url, '/_modgate/tokens/refresh', {
      ca: sso.stack.pki.caPem,
      method: 'POST',
      authorization: `Bearer ${kept[0]!.refreshToken}`,
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
    });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.text).toContain('cross-origin requests may not refresh tokens');
    const records = await sso.stack.gateway.auditRecords();
    expect(records).toContainEqual(
      expect.objectContaining({
        event: expect.objectContaining({ action: 'modgate.token.refresh', outcome: 'success' }),
      }),
    );
  }, 90_000);

  it("a token that expires mid-session is refreshed on go's re-run after the 401", async () => {
    const { env, store } = await signedIn('goauth-expiry');
    // Past its expiry and modgate's clock tolerance, so modgate refuses it.
    await new Promise((r) => setTimeout(r, (ACCESS_TTL_S + PAT_CLOCK_TOLERANCE_S + 1) * 1000));
    // The helper believes the expired token is good for a year: only modgate's 401 can tell it otherwise.
    const text = JSON.parse(await readFile(store, 'utf8')) as Record<string, Record<string, string>>;
    const [key] = Object.keys(text);
    const stale = text[key!]!.token!;
    text[key!]!.expiresAt = new Date(Date.now() + 365 * 86_400_000).toISOString();
    await writeFile(store, JSON.stringify(text));
    await chmod(store, 0o600);
    const ok = await download(env, 'example.com/hello@v1.1.0');
    expect(ok.code, ok.stderr).toBe(0);
    const after = JSON.parse(await readFile(store, 'utf8')) as Record<string, Record<string, string>>;
    expect(after[key!]!.token).not.toBe(stale);
  }, 90_000);

  it('a revoked sign-in: the helper says to run modgate login, exits 1, and go gets 401', async () => {
    const { env, goauth, store } = await signedIn('goauth-revoked');
    const copy = await readFile(store, 'utf8');
    const logout = await cli(['logout', url, '--ca', sso.stack.pki.caCertPath], {
      PATH: env.env.PATH!,
      HOME: env.home,
    });
    expect(logout.code, logout.err).toBe(0);
    expect(logout.out).toContain('Revoked the token at modgate.');
    expect(logout.out).toContain('Forgot the sign-in for GOAUTH');
    await writeFile(store, copy, { mode: 0o600 });
    // As go re-runs it after a 401: the URL as argument, the response on stdin.
    expect(goauth.split(' ')[0]).toBe(process.execPath);
    const helper = await cli(
      ['credential', `${url}/example.com/hello/@v/list`],
      env.env,
      undefined,
      'HTTP/1.1 401 Unauthorized\nContent-Type: text/plain\n\n',
    );
    expect(helper.code).toBe(1);
    expect(helper.out).toBe('');
    expect(helper.err).toMatch(
      new RegExp(
        `^modgate credential: your sign-in to ${url.replaceAll('.', '\\.')} as alice has ended \\(.*revoked.*\\); run: modgate login ${url.replaceAll('.', '\\.')}\\n$`,
      ),
    );
    const refused = await download(env, 'example.com/hello@v1.1.0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('401 Unauthorized');
    expect(refused.stderr).toContain('your sign-in to');
  }, 90_000);

  it('a helper that prints a wrong credential makes go fail with 401: the header is what authenticates', async () => {
    const env = await sso.stack.goEnv('goauth-wrong');
    const script = join(env.home, 'wrong-credential.sh');
    await writeFile(
      script,
      `#!/bin/sh\nprintf '%s\\n\\n%s\\n\\n' '${url}' 'Authorization: Bearer mgp_eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln'\n`,
      {
        mode: 0o755,
      },
    );
    env.env.GOAUTH = script;
    const refused = await download(env, 'example.com/hello@v1.0.0');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('401 Unauthorized');
    expect(refused.stderr).toMatch(/server response: modgate: personal token/);
  }, 60_000);

  it.runIf(LEGACY_GO !== undefined)(
    'go 1.19 ignores GOAUTH: without a netrc entry it gets 401',
    async () => {
      const { env } = await signedIn('goauth-legacy');
      const refused = await download(env, 'example.com/hello@v1.0.0', LEGACY_GO!);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('modgate: authentication required');
    },
    90_000,
  );

  it('modgate doctor runs the GOAUTH helper as go would and probes modgate with its token', async () => {
    const { env } = await signedIn('goauth-doctor');
    const doctor = await cli(['doctor', '--url', url], env.env);
    expect(doctor.out).toMatch(
      /^ok +GOAUTH: .* credential gives a credential for https:\/\/127\.0\.0\.1:\d+$/m,
    );
    expect(doctor.out).toMatch(/^ok +go: go1\.2\d/m);
    expect(doctor.out).toMatch(/^ok +probe .*: authenticated as the GOAUTH token;/m);
    expect(doctor.code).toBe(0);
    // A sign-in that is gone: doctor says what to run.
    const gone = await sso.stack.goEnv('goauth-doctor-none');
    gone.env.GOAUTH = env.env.GOAUTH!;
    const none = await cli(['doctor', '--url', url], gone.env);
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/^FAIL GOAUTH: .*failed: modgate credential: not signed in to any modgate/m);
    expect(none.out).toContain('modgate login <https://modgate-url>');
  }, 90_000);

  it.runIf(LEGACY_GO !== undefined)(
    'modgate login for go 1.19 writes the netrc file instead',
    async () => {
      const env = await sso.stack.goEnv('goauth-login-legacy');
      const login = await cli(
        ['login', url, '--no-browser', '--ca', sso.stack.pki.caCertPath],
        { PATH: env.env.PATH!, HOME: env.home, MODGATE_GO: LEGACY_GO!.path },
        USERS.alice.name,
      );
      expect(login.code, login.err).toBe(0);
      expect(login.out).toContain(
        `Wrote "machine 127.0.0.1" and "machine 127.0.0.1:${new URL(url).port}" to ${env.netrc}`,
      );
      expect(login.out).not.toContain('GOAUTH');
      const ok = await download(env, 'example.com/hello@v1.0.0', LEGACY_GO!);
      expect(ok.code, ok.stderr).toBe(0);
    },
    90_000,
  );
});
