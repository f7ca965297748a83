/**
 * Policies, end to end: the real go command through modgate against real
 * slapd (groups from LDAP) and the Athens emulator, with a policy file that is
 * edited live.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeModuleVersion } from '../gateway/protocol/goproxy-folder.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, GO, type GoBinary, initModule, runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { maxPacedRequests, pacedStreams } from './support/paced-streams.ts';
import { type Stack, startStack } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password }; // team-a, developers
const bob = { login: USERS.bob.name, password: USERS.bob.password }; // team-b, developers

/** A version published just now, and one long ago, of a module under a 72h cooldown. */
const FRESH = 'example.com/fresh';

const POLICY = `# the test policy
default: deny
rules:
  - name: developers
    subjects: ["group:developers"]
    modules: ["example.com"]
    action: allow
  - name: team-a-acme
    subjects: ["group:team-a"]
    modules: ["github.com/Acme"]
    action: allow
  - name: team-b-acme-trial
    subjects: ["group:team-b"]
    modules: ["github.com/Acme"]
    action: allow
    expires: 2020-01-31
  - name: no-lib
    subjects: ["*"]
    modules: ["example.com/lib"]
    action: deny
    reason: example.com/lib is not approved, use example.com/hello
  - name: hello-broken
    subjects: ["*"]
    modules: ["example.com/hello@>=v1.2.0"]
    action: deny
    reason: v1.2.0 corrupts data, see SEC-1
  - name: cooldown
    subjects: ["*"]
    modules: ["${FRESH}"]
    action: deny
    min_age: 72h
    reason: too new to trust yet
`;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ directory: 'ldap', upstream: 'athens', policy: POLICY });
  const files = { 'fresh.go': 'package fresh\n' };
  await writeModuleVersion(stack.fixtures.root, {
    path: FRESH,
    version: 'v1.0.0',
    time: new Date('2024-01-01T00:00:00Z'),
    files,
  });
  await writeModuleVersion(stack.fixtures.root, { path: FRESH, version: 'v1.1.0', time: new Date(), files });
});
afterAll(async () => {
  await stack?.close();
});

const go = (args: string[], env: { env: Record<string, string> }, cwd?: string, binary: GoBinary = GO) =>
  runGo(args, { env: env.env, cwd: cwd ?? stack.dir, go: binary });

/** go prints a refusal body indented under "server response:"; fold the whitespace to compare. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

function get(path: string, user = alice) {
  return httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [user.login, user.password] });
}

/** Replaces the policy file the way an editor does: write a temporary file, rename it over. */
async function writePolicy(text: string): Promise<void> {
  const tmp = `${stack.policyPath}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, stack.policyPath);
}

/** Polls until `check` passes (bounded), returning how long it took (ms). */
async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await delay(50);
  }
  throw new Error(`condition not met within ${ms} ms`);
}

describe('denials reach the go command', () => {
  it('a denied module fails go mod download with the rule and reason, even with ,direct', async () => {
    const line =
      'modgate: example.com/lib/v2@v2.0.0 denied by rule "no-lib": example.com/lib is not approved, use example.com/hello';
    for (const suffix of ['', ',direct']) {
      const env = await stack.goEnv(`denied${suffix.replace(',', '-')}`, alice);
      env.env.GOPROXY = `${stack.gateway.url}${suffix}`;
      const result = await go(['mod', 'download', 'example.com/lib/v2@v2.0.0'], env);
      expect(result.code).not.toBe(0);
      expect(folded(result.stderr)).toContain(`403 Forbidden server response: ${line}`);
    }
    // A path-only deny refuses list and latest too, before asking the upstream.
    stack.athens!.clear();
    for (const tail of ['@v/list', '@latest']) {
      const res = await get(`/example.com/lib/v2/${tail}`);
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/^modgate: example\.com\/lib\/v2 denied by rule "no-lib": /);
    }
    expect(stack.athens!.requests).toEqual([]);
  });

  it.each(CLIENT_GOS.map((g) => [g.version, g] as const))(
    '%s: a denied version range is hidden: go get @latest picks the newest allowed version, go list omits the denied',
    async (v, binary) => {
      const env = await stack.goEnv(`range-${v}`, alice);
      const work = join(env.home, 'work');
      await initModule(work, 'example.com/app');
      const list = await go(['list', '-m', '-versions', 'example.com/hello'], env, work, binary);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout.trim()).toBe('example.com/hello v1.0.0 v1.1.0');
      const got = await go(['get', 'example.com/hello@latest'], env, work, binary);
      expect(got.code, got.stderr).toBe(0);
      expect(await readFile(join(work, 'go.mod'), 'utf8')).toContain('example.com/hello v1.1.0');
      const pinned = await go(['mod', 'download', 'example.com/hello@v1.2.0'], env, work, binary);
      expect(folded(pinned.stderr)).toContain(
        'modgate: example.com/hello@v1.2.0 denied by rule "hello-broken": v1.2.0 corrupts data, see SEC-1',
      );
    },
  );

  it('users in different LDAP groups get different answers; an expired group rule no longer allows', async () => {
    const path = '/github.com/!acme/!tool/@v/v1.0.0.info';
    expect((await get(path, alice)).status).toBe(200);
    const refused = await get(path, bob);
    expect(refused.status).toBe(403);
    expect(refused.text).toBe(
      'modgate: github.com/Acme/Tool@v1.0.0 denied by the default policy: no rule allows this module version\n',
    );
    // The list is refused too (nothing could be allowed), not answered empty.
    expect((await get('/github.com/!acme/!tool/@v/list', bob)).status).toBe(403);
    expect((await get('/github.com/!acme/!tool/@v/list', alice)).text).toBe('v1.0.0\n');
  });

  it('min_age holds back versions published within the cooldown, in list, latest and downloads', async () => {
    expect((await get(`/${FRESH}/@v/list`)).text).toBe('v1.0.0\n');
    expect(JSON.parse((await get(`/${FRESH}/@latest`)).text)).toMatchObject({ Version: 'v1.0.0' });
    const young = await get(`/${FRESH}/@v/v1.1.0.zip`);
    expect(young.status).toBe(403);
    expect(young.text).toBe(`modgate: ${FRESH}@v1.1.0 denied by rule "cooldown": too new to trust yet\n`);
    expect((await get(`/${FRESH}/@v/v1.0.0.zip`)).status).toBe(200);
  });

  it('every decision is audited with the rule, the decision and the policy version', async () => {
    const version = ((await getStatus()).policy as { version: string }).version;
    const before = (await stack.gateway.auditRecords()).length;
    await get('/example.com/hello/@v/v1.2.0.mod');
    await get('/example.com/hello/@v/v1.1.0.mod');
    await get('/example.com/hello/@v/list');
    const [denied, allowed, list] = (await stack.gateway.waitForAudit(before + 3)).slice(before);
    expect(denied).toMatchObject({ policy: { decision: 'deny', rule: 'hello-broken', version } });
    expect(allowed).toMatchObject({ policy: { decision: 'allow', rule: 'developers', version } });
    expect(list).toMatchObject({ policy: { decision: 'allow', version, filtered_versions: 1 } });
    expect(version).toMatch(/^[0-9a-f]{12}$/);
  });
});

async function getStatus(): Promise<Record<string, unknown>> {
  const res = await httpsGet(stack.gateway.url, '/_modgate/status', { ca: stack.pki.caPem });
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as Record<string, unknown>;
}

describe('live reload', () => {
  it('dry-run serves everything and audits the would-be denials', async () => {
    await writePolicy(`mode: dry-run\n${POLICY}`);
    await within(
      2_000,
      async () => (await get('/github.com/!acme/!tool/@v/v1.0.0.info', bob)).status === 200,
    );
    const before = (await stack.gateway.auditRecords()).length;
    const env = await stack.goEnv('dry-run', bob);
    const result = await go(['mod', 'download', 'example.com/lib/v2@v2.0.0'], env);
    expect(result.code, result.stderr).toBe(0);
    const records = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(records).toContainEqual(
      expect.objectContaining({
        module: { path: 'example.com/lib/v2', version: 'v2.0.0' },
        policy: expect.objectContaining({ decision: 'allow', dry_run: { decision: 'deny', rule: 'no-lib' } }),
      }),
    );
    await writePolicy(POLICY);
    await within(
      2_000,
      async () => (await get('/github.com/!acme/!tool/@v/v1.0.0.info', bob)).status === 403,
    );
  });

  it('edits during a 20 s stream of requests fail none of them; a broken edit changes nothing and is reported', async () => {
    // Paced: at most 4 × 20 s ÷ 25 ms = 3,200 requests, well under the default rate limit on any machine.
    const pacing = { streams: 4, durationMs: 20_000, intervalMs: 25 };
    const streams = pacedStreams(pacing, async () => {
      const res = await get('/example.com/hello/@v/v1.0.0.info').catch((err: Error) => ({
        status: 0,
        text: err.message,
      }));
      return res.status === 200 ? undefined : `${res.status} ${res.text}`;
    });
    const probe = '/example.com/hello/@v/v1.1.0.info';
    expect((await get(probe)).status).toBe(200);

    // A good edit, written in place (no rename): applies within 2 s.
    await delay(2_000);
    await writeFile(
      stack.policyPath,
      POLICY.replace('"example.com/hello@>=v1.2.0"', '"example.com/hello@>=v1.1.0"'),
    );
    const applied = await within(2_000, async () => (await get(probe)).status === 403);
    expect(applied).toBeLessThan(2_000);
    const goodVersion = ((await getStatus()).policy as { version: string }).version;

    // A broken edit: the last good policy stays, the error is on the status page with its line.
    await delay(2_000);
    await writePolicy(`${POLICY}  - name: broken\n    action: maybe\n`);
    const status = await within(
      2_000,
      async () => ((await getStatus()).policy as { last_error: unknown }).last_error !== null,
    ).then(getStatus);
    const policy = status.policy as { version: string; last_error: { problems: string[] } };
    expect(policy.version).toBe(goodVersion);
    expect(policy.last_error.problems.join('\n')).toMatch(/policy\.yaml:\d+: rules\[6\]/);
    expect((await get(probe)).status).toBe(403);
    expect(await stack.gateway.logText()).toContain('policy edit rejected');

    // Repaired: back to the original policy, and the error is cleared.
    await delay(2_000);
    await writePolicy(POLICY);
    await within(2_000, async () => (await get(probe)).status === 200);
    expect(((await getStatus()).policy as { last_error: unknown }).last_error).toBeNull();

    const { requests, failures } = await streams;
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    expect(requests).toBeLessThanOrEqual(maxPacedRequests(pacing));
  }, 60_000);
});
