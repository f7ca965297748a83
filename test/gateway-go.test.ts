/**
 * The walking skeleton's acceptance, driven by the real go command over real
 * TLS against real slapd, with the Athens emulator behind the gateway.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, GO, type GoBinary, initModule, listModCache, runGo } from '../harness/go.ts';
import { httpsGet, type SeenResponse } from '../harness/https-client.ts';
import { fixtureModule } from './support/modules.ts';
import { type Stack, startStack, UPSTREAM_PASSWORD, UPSTREAM_USER } from './support/stack.ts';

const UPSTREAM_AUTH = `Basic ${Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString('base64')}`;
const alice = { login: USERS.alice.name, password: USERS.alice.password };

let stack: Stack;
/** Every response the tests saw, for the leak check at the end. */
const seen: SeenResponse[] = [];
/** Every go output, for the leak check at the end. */
const goOutputs: string[] = [];

beforeAll(async () => {
  stack = await startStack({ directory: 'ldap', upstream: 'athens' });
});
afterAll(async () => {
  await stack?.close();
});

async function go(args: string[], env: { env: Record<string, string> }, cwd?: string, binary: GoBinary = GO) {
  const result = await runGo(args, { env: env.env, cwd: cwd ?? stack.dir, go: binary });
  goOutputs.push(result.stdout, result.stderr);
  return result;
}

// Client compatibility: each go generation the machine has (go 1.26 and Debian's 1.19).
describe.each(CLIENT_GOS.map((g) => [g.version, g] as const))(
  '%s through modgate, LDAP user, Athens upstream',
  (v, binary) => {
    it('go mod download fetches every fixture module and the cache holds exactly the fixture files', async () => {
      const env = await stack.goEnv(`download-${v}`, alice);
      const wanted = stack.fixtures.modules.flatMap((m) => m.versions.map((v) => ({ m, v })));
      const result = await go(
        ['mod', 'download', '-json', ...wanted.map(({ m, v }) => `${m.path}@${v.version}`)],
        env,
        undefined,
        binary,
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const expected = new Set(wanted.flatMap(({ v }) => v.cacheFiles));
      expect(await listModCache(env.gomodcache)).toEqual([...expected].sort());
      // The hashes go computed are those of the fixture zips: the bytes arrived intact.
      const reported = JSON.parse(`[${result.stdout.replace(/}\s*{/g, '},{')}]`) as {
        Path: string;
        Version: string;
        Sum: string;
      }[];
      for (const r of reported) {
        const v = fixtureModule(stack.fixtures, r.Path).versions.find((x) => x.version === r.Version);
        expect(r.Sum).toBe(v?.sum);
      }
    });

    it('go list -m -versions lists the versions', async () => {
      const env = await stack.goEnv(`list-${v}`, alice);
      const work = join(env.home, 'work');
      await initModule(work, 'example.com/app');
      const result = await go(
        ['list', '-m', '-versions', 'example.com/hello', 'example.com/lib/v2'],
        env,
        work,
        binary,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n')).toEqual([
        'example.com/hello v1.0.0 v1.1.0 v1.2.0',
        'example.com/lib/v2 v2.0.0 v2.1.0',
      ]);
    });

    it('go get inside a module resolves @latest, writes go.mod and the program builds', async () => {
      const env = await stack.goEnv(`get-${v}`, alice);
      const work = join(env.home, 'work');
      await initModule(work, 'example.com/app');
      const get = await go(
        ['get', 'example.com/hello@latest', 'github.com/Acme/Tool@v1.0.0'],
        env,
        work,
        binary,
      );
      expect(get.code, get.stderr).toBe(0);
      const goMod = await readFile(join(work, 'go.mod'), 'utf8');
      expect(goMod).toContain('example.com/hello v1.2.0');
      expect(goMod).toContain('github.com/Acme/Tool v1.0.0');
    });

    it.each([
      ['no credentials', undefined, 'modgate: authentication required'],
      [
        'a wrong password',
        { login: 'alice', password: 'not-her-password' },
        'modgate: invalid username or password',
      ],
      [
        'a disabled user',
        { login: USERS.carol.name, password: USERS.carol.password },
        'modgate: user account is disabled',
      ],
      [
        'a filter-injection user name',
        { login: '*)(uid=*', password: USERS.alice.password },
        'modgate: invalid username or password',
      ],
    ])('go fails with modgate’s one-line reason for %s', async (_name, user, line) => {
      const env = await stack.goEnv(`refused-${_name.replaceAll(' ', '-')}-${v}`, user);
      const result = await go(['mod', 'download', 'example.com/hello@v1.0.0'], env, undefined, binary);
      expect(result.code).not.toBe(0);
      // go prints the first lines of the body, indented, under "server response:".
      expect(result.stderr.replace(/\s+/g, ' ')).toContain(`server response: ${line}`);
    });
  },
);

describe('credentials at the upstream boundary', () => {
  it('Athens saw modgate’s credential on every request and never the client’s', async () => {
    const requests = stack.athens?.requests ?? [];
    expect(requests.length).toBeGreaterThan(10);
    for (const r of requests) {
      expect(r.headers.authorization).toBe(UPSTREAM_AUTH);
      expect(r.headers.cookie).toBeUndefined();
    }
  });

  it('no response to the client carries the upstream credential, whatever the request kind', async () => {
    const ca = stack.pki.caPem;
    const basic: [string, string] = [alice.login, alice.password];
    const paths = [
      '/example.com/hello/@v/list',
      '/example.com/hello/@latest',
      '/example.com/hello/@v/v1.0.0.info',
      '/example.com/hello/@v/v1.0.0.mod',
      '/example.com/hello/@v/v1.0.0.zip',
      '/github.com/%21acme/tool/@v/list',
      '/example.com/nope/@v/list',
      '/sumdb/sum.golang.org/supported',
      '/sumdb/sum.golang.org/lookup/example.com/hello@v1.0.0',
    ];
    for (const path of paths) {
      const res = await httpsGet(stack.gateway.url, path, {
        ca,
        basic,
        seen,
        headers: { cookie: 'session=abc' },
      });
      expect(res.headers['www-authenticate']).toBeUndefined();
    }
    const head = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.0.0.zip', {
      ca,
      basic,
      seen,
      method: 'HEAD',
    });
    expect(head.status).toBe(200);
    const last = stack.athens?.requests.at(-2);
    expect(last?.headers.cookie).toBeUndefined();
    for (const res of seen) {
      const all = JSON.stringify(res.headers) + res.text;
      expect(all).not.toContain(UPSTREAM_PASSWORD);
      expect(all).not.toContain(UPSTREAM_AUTH.slice(6));
    }
  });
});

describe('directory cost', () => {
  it('a wrong password retried eight times costs one LDAP bind (negative cache)', async () => {
    const user = USERS.erin;
    const failedBinds = async () =>
      (await stack.slapd!.binds()).filter((b) => b.err !== 0 && b.dn.toLowerCase() === user.dn.toLowerCase())
        .length;
    const before = await failedBinds();
    for (let i = 0; i < 8; i++) {
      const res = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.1.0.info', {
        ca: stack.pki.caPem,
        basic: [user.name, 'not-her-password'],
        seen,
      });
      expect(res.status).toBe(401);
    }
    expect((await failedBinds()) - before).toBe(1);
  });

  it('fifty requests from one user cost one LDAP bind', async () => {
    const user = USERS.bob;
    const before = await stack.slapd!.countBinds(user.dn);
    const basic: [string, string] = [user.name, user.password];
    // Ten at a time, as go's parallel downloads would: concurrent misses must share one bind.
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 10 }, () =>
        httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.1.0.info', {
          ca: stack.pki.caPem,
          basic,
          seen,
        }),
      );
      for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
    }
    expect((await stack.slapd!.countBinds(user.dn)) - before).toBe(1);
  });
});

/** The fields of an audit line this file reads directly (the rest via toMatchObject). */
interface AuditLine {
  '@timestamp'?: unknown;
  event: { duration?: number };
}

describe('audit and secrets', () => {
  it('every request produced exactly one audit line with the ECS fields', async () => {
    const before = (await stack.gateway.auditRecords()).length;
    const ca = stack.pki.caPem;
    const basic: [string, string] = [alice.login, alice.password];
    const ok = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.0.0.zip', { ca, basic, seen });
    await httpsGet(stack.gateway.url, '/example.com/hello/@v/list', { ca, seen });
    await httpsGet(stack.gateway.url, '/bad/../@v/list', { ca, basic, seen });
    const records = (await stack.gateway.waitForAudit(before + 3)).slice(before);
    expect(records).toHaveLength(3);
    const [zip, unauth, bad] = records as unknown as [AuditLine, AuditLine, AuditLine];
    expect(zip).toMatchObject({
      event: { action: 'goproxy.zip', outcome: 'success' },
      user: { name: 'alice', roles: ['developers', 'team-a'] },
      auth: { method: 'basic' },
      source: { ip: '127.0.0.1' },
      http: { request: { method: 'GET' }, response: { status_code: 200, body: { bytes: ok.body.length } } },
      url: { path: '/example.com/hello/@v/v1.0.0.zip' },
      module: { path: 'example.com/hello', version: 'v1.0.0' },
      upstream: { name: 'athens' },
      trace: { id: ok.headers['x-request-id'] },
    });
    expect(typeof zip['@timestamp']).toBe('string');
    expect(zip.event.duration).toBeGreaterThan(0);
    expect(unauth).toMatchObject({
      event: { outcome: 'failure', reason: 'authentication required' },
      http: { response: { status_code: 401 } },
    });
    expect(bad).toMatchObject({
      event: { action: 'goproxy.unrecognized', outcome: 'failure' },
      http: { response: { status_code: 400 } },
    });
  });

  it('no password or token the tests used appears in any log, audit line, response or go output', async () => {
    const texts = [
      await stack.gateway.logText(),
      await readFile(stack.gateway.auditPath, 'utf8'),
      ...seen.map((r) => JSON.stringify(r.headers) + r.text),
      ...goOutputs,
    ];
    expect((await stack.gateway.logText()).length).toBeGreaterThan(0);
    for (const secret of stack.secrets) {
      for (const text of texts)
        expect(text.includes(secret), `secret leaked: ${secret.slice(0, 3)}…`).toBe(false);
    }
  });
});
