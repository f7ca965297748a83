/**
 * The audit record of a failed login names the user the credential claimed:
 * the real go command with a wrong netrc password, and https requests whose
 * Basic user names are long or carry invisible characters, against a gateway
 * with a users file and a local folder upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ directory: 'file', upstream: 'dir' });
}, 30_000);
afterAll(async () => {
  await stack?.close();
});

/** The audit records written while `act` ran. */
async function auditedDuring(count: number, act: () => Promise<void>): Promise<Record<string, unknown>[]> {
  const before = (await stack.gateway.auditRecords()).length;
  await act();
  return (await stack.gateway.waitForAudit(before + count)).slice(before);
}

describe('audit of failed logins', () => {
  it('go with a wrong netrc password: the refusal is audited with the claimed user.name, no roles, no method', async () => {
    const env = await stack.goEnv('wrong-password', {
      login: USERS.alice.name,
      password: 'not-her-password',
    });
    const records = await auditedDuring(1, async () => {
      const result = await runGo(['mod', 'download', '-json', 'example.com/hello@v1.0.0'], {
        env: env.env,
        cwd: stack.dir,
      });
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('modgate: invalid username or password');
    });
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record).toMatchObject({
        event: { outcome: 'failure', reason: 'invalid username or password' },
        user: { name: USERS.alice.name },
        http: { response: { status_code: 401 } },
      });
      expect(record.user).toEqual({ name: USERS.alice.name });
      expect(record.auth).toBeUndefined();
    }
  });

  it('a claimed name is cut at 64 characters and loses control, format and separator characters', async () => {
    const cases: [claimed: string, audited: string][] = [
      ['mallory', 'mallory'],
      ['x'.repeat(100), `${'x'.repeat(64)}…`],
      ['é'.repeat(70), `${'é'.repeat(64)}…`],
      ['eve\u202eadmin\u0085\u200b\u2028\u2029\ufeff!', 'eveadmin!'],
    ];
    for (const [claimed, audited] of cases) {
      const [record] = await auditedDuring(1, async () => {
        const res = await httpsGet(stack.gateway.url, INFO, {
          ca: stack.pki.caPem,
          basic: [claimed, 'nope'],
        });
        expect(res.status).toBe(401);
      });
      expect(record?.user).toEqual({ name: audited });
    }
  });

  it('a credential without a claimed name (missing, Bearer) has no user.name; a good login names the user it proved', async () => {
    const records = await auditedDuring(3, async () => {
      await httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem });
      await httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, authorization: 'Bearer opaque-abc' });
      const ok = await httpsGet(stack.gateway.url, INFO, {
        ca: stack.pki.caPem,
        basic: [USERS.bob.name, USERS.bob.password],
      });
      expect(ok.status).toBe(200);
    });
    expect(records.map((r) => r.user)).toEqual([
      undefined,
      undefined,
      { name: USERS.bob.name, roles: expect.any(Array) },
    ]);
  });
});
