/**
 * A version-range deny that leaves no version allowed: `@v/list`
 * and `@latest` are refused with 403 and modgate's one-line reason, never
 * answered with an empty list (go would then say "no matching versions", or
 * with `,direct` fetch around the policy). The real go command prints the
 * reason. A range that leaves some versions keeps the filtered answer.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, initModule, runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password };

const POLICY = `default: allow
rules:
  - name: lib-v2-withdrawn
    subjects: ["*"]
    modules: ["example.com/lib/v2@>=v2.0.0"]
    action: deny
    reason: every v2 release is withdrawn, see SEC-2
  - name: old-incompatible
    subjects: ["*"]
    modules: ["example.com/old@>=v3.0.0"]
    action: deny
    reason: v3 is unmaintained
  - name: hello-before-1.2
    subjects: ["*"]
    modules: ["example.com/hello@<v1.2.0"]
    action: deny
    reason: upgrade to v1.2.0
`;

/** The one line go prints for a module whose every version is denied: the newest one is named. */
const LIB_REFUSAL =
  'modgate: example.com/lib/v2@v2.1.0 denied by rule "lib-v2-withdrawn": every v2 release is withdrawn, see SEC-2\n';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ directory: 'file', upstream: 'athens', policy: POLICY });
});
afterAll(async () => {
  await stack?.close();
});

function get(path: string) {
  return httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [alice.login, alice.password] });
}

describe('a deny that removes every version', () => {
  it.each([
    ['@v/list', '/example.com/lib/v2/@v/list', LIB_REFUSAL],
    ['@latest', '/example.com/lib/v2/@latest', LIB_REFUSAL],
    [
      '@v/list of a +incompatible-only module',
      '/example.com/old/@v/list',
      'modgate: example.com/old@v3.0.0+incompatible denied by rule "old-incompatible": v3 is unmaintained\n',
    ],
    [
      '@latest of a +incompatible-only module',
      '/example.com/old/@latest',
      'modgate: example.com/old@v3.0.0+incompatible denied by rule "old-incompatible": v3 is unmaintained\n',
    ],
  ])('%s is 403 with the one-line reason', async (_, path, refusal) => {
    const res = await get(path);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe(refusal);
  });

  it('is audited as a denial by that rule', async () => {
    const before = (await stack.gateway.auditRecords()).length;
    await get('/example.com/lib/v2/@v/list');
    const [record] = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(record).toMatchObject({
      http: { response: { status_code: 403 } },
      policy: { decision: 'deny', rule: 'lib-v2-withdrawn' },
    });
  });

  it.each(CLIENT_GOS.map((g) => [g.version, g] as const))(
    '%s: go get @latest and go list -versions print the reason, also with ,direct',
    async (v, binary) => {
      const folded = (text: string) => text.replace(/\s+/g, ' ');
      for (const suffix of ['', ',direct']) {
        const env = await stack.goEnv(`all-denied${suffix.replace(',', '-')}-${v}`, alice);
        env.env.GOPROXY = `${stack.gateway.url}${suffix}`;
        const work = join(env.home, 'work');
        await initModule(work, 'example.com/app');
        for (const args of [
          ['get', 'example.com/lib/v2@latest'],
          ['list', '-m', '-versions', 'example.com/lib/v2'],
        ]) {
          const result = await runGo(args, { env: env.env, cwd: work, go: binary });
          expect(result.code, args.join(' ')).not.toBe(0);
          expect(folded(result.stderr)).toContain(`403 Forbidden server response: ${LIB_REFUSAL.trim()}`);
        }
      }
    },
  );
});

describe('a deny that leaves some versions', () => {
  it('lists only the allowed versions and resolves @latest to the newest of them', async () => {
    const list = await get('/example.com/hello/@v/list');
    expect(list.status).toBe(200);
    expect(list.text).toBe('v1.2.0\n');
    const latest = await get('/example.com/hello/@latest');
    expect(latest.status).toBe(200);
    expect(JSON.parse(latest.text)).toMatchObject({ Version: 'v1.2.0' });
  });
});
