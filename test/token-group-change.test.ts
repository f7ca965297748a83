/**
 * Issue 6 acceptance: a group removed from a user in LDAP removes their
 * personal token's access within the auth cache TTL. The token carries no
 * groups; the owner's groups are looked up (and cached for `auth.cache_ttl`)
 * at use time, so a directory change reaches the policy once the entry expires.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatKeyRing } from '../auth/pat/keys.ts';
import { PersonalTokens } from '../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens } from '../auth/pat/revoked-tokens.ts';
import { GROUPS_DN, USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { secretFile } from './support/gateway.ts';
import { type Stack, startStack } from './support/stack.ts';

/** The credential cache TTL under test (ms); `auth.cache_ttl` below says the same. */
const CACHE_TTL_MS = 1_000;
/** Allowed lateness beyond the TTL (ms): one poll, one LDAP lookup, a loaded machine. */
const SLACK_MS = 1_500;
/** Pause between requests while waiting for the change to land (ms). */
const POLL_MS = 100;
const ISSUER = 'https://goproxy.test.example';
const INFO = '/example.com/hello/@v/v1.0.0.info';

const POLICY = `default: deny
rules:
  - name: team-a-hello
    subjects: ["group:team-a"]
    modules: ["example.com/hello"]
    action: allow
`;

const patKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config, { dir }) => ({
      ...config,
      auth: { cache_ttl: `${CACHE_TTL_MS}ms` },
      personal_tokens: {
        issuer: ISSUER,
        keys: [{ kid: 'k1', pem: await secretFile(dir, 'pat.pem', patKeyPem) }],
      },
    }),
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

describe('group change in LDAP', () => {
  it('removing alice from team-a refuses her personal token by policy within the cache TTL', async () => {
    const tokens = new PersonalTokens({
      issuer: ISSUER,
      keys: PatKeyRing.fromPem([{ kid: 'k1', pem: patKeyPem }]),
      revoked: new MemoryRevokedTokens(),
    });
    const { token } = await tokens.issue(USERS.alice.name, 3_600_000);
    let requests = 0;
    const get = () => {
      requests += 1;
      return httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, basic: ['alice', token] });
    };

    // Before: team-a may fetch the module (and the lookup is now cached).
    expect((await get()).status).toBe(200);

    await stack.slapd!.modify(
      [
        `dn: cn=team-a,${GROUPS_DN}`,
        'changetype: modify',
        'delete: member',
        `member: ${USERS.alice.dn}`,
        '',
      ].join('\n'),
    );
    const changedAt = Date.now();
    let answer = await get();
    while (answer.status === 200 && Date.now() - changedAt < CACHE_TTL_MS + SLACK_MS) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      answer = await get();
    }
    const tookMs = Date.now() - changedAt;
    expect(answer.status, answer.text).toBe(403);
    expect(answer.text).toMatch(/^modgate: .*no rule allows this module/);
    expect(tookMs).toBeLessThanOrEqual(CACHE_TTL_MS + SLACK_MS);

    const records = await stack.gateway.waitForAudit(requests);
    const last = records.filter((r) => (r.auth as { method?: string } | undefined)?.method === 'pat').at(-1);
    expect(last).toMatchObject({
      user: { name: 'alice', roles: ['developers'] },
      auth: { method: 'pat' },
      policy: expect.objectContaining({ decision: 'deny' }),
    });
  });
});
