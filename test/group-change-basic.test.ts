/**
 * A group change in LDAP takes effect within `auth.cache_ttl` for Basic
 * (LDAP password) credentials, at the HTTP level, across two real
 * gateway processes sharing the credential cache in Redis: a request that
 * starts `cache_ttl` after the change sees the new groups at either process,
 * whichever process cached the old ones and whenever the other read them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../bench/support/processes.ts';
import { GROUPS_DN, USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { sleep } from '../harness/redis.ts';
import { type RedisDeployment, startRedisDeployment } from './support/redis-deployment.ts';

/** `auth.cache_ttl` of both processes (ms). */
const CACHE_TTL_MS = 2_000;
/** Margin after `cache_ttl` before the exact check (ms): a scheduling tick, not a tolerance on the TTL. */
const TICK_MS = 50;
const INFO = '/example.com/hello/@v/v1.0.0.info';
const POLICY = `default: deny
rules:
  - name: team-a
    subjects: ["group:team-a"]
    modules: ["example.com"]
    action: allow
`;

let deployment: RedisDeployment;
let a: GatewayProcess;
let b: GatewayProcess;

beforeAll(async () => {
  deployment = await startRedisDeployment({ policy: POLICY, cacheTtl: `${CACHE_TTL_MS / 1000}s` });
  [a, b] = await Promise.all([deployment.start('a'), deployment.start('b')]);
}, 60_000);
afterAll(async () => {
  await deployment?.close();
});

const erin = USERS.erin; // in no group at first

function status(g: GatewayProcess): Promise<number> {
  return httpsGet(g.url, INFO, { ca: deployment.pki.caPem, basic: [erin.name, erin.password] }).then(
    (r) => r.status,
  );
}

/** Adds erin to team-a, or removes her; resolves once slapd has applied it. */
function changeTeamA(op: 'add' | 'delete'): Promise<void> {
  return deployment.slapd.modify(
    `dn: cn=team-a,${GROUPS_DN}\nchangetype: modify\n${op}: member\nmember: ${erin.dn}\n`,
  );
}

/**
 * The change at the HTTP level: A caches erin's groups just before the change,
 * B reads A's shared entry after it (but within the entry's TTL), and both
 * must answer with the new groups for a request started `cache_ttl` after it.
 */
async function expectChangeWithinTtl(op: 'add' | 'delete', before: number, after: number): Promise<void> {
  // Let entries of an earlier step expire, so A's request below makes a fresh one.
  await sleep(CACHE_TTL_MS + TICK_MS);
  const cachedAt = Date.now();
  expect(await status(a)).toBe(before);
  await changeTeamA(op);
  const changed = Date.now();
  // Still within the TTL of A's entry (made after `cachedAt`): B may answer from it.
  await sleep(Math.max(0, cachedAt + CACHE_TTL_MS * 0.6 - Date.now()));
  const midway = await status(b);
  if (Date.now() - cachedAt < CACHE_TTL_MS * 0.9) expect(midway).toBe(before);
  // A request started `cache_ttl` after the change can only meet entries made after it.
  await sleep(Math.max(0, changed + CACHE_TTL_MS + TICK_MS - Date.now()));
  expect([await status(a), await status(b)]).toEqual([after, after]);
}

describe('an LDAP group change for a Basic credential, two processes sharing Redis', () => {
  it('being added to a group grants access within cache_ttl at both processes', async () => {
    await expectChangeWithinTtl('add', 403, 200);
  });

  it('being removed from a group revokes access within cache_ttl at both processes', async () => {
    await expectChangeWithinTtl('delete', 200, 403);
  });
});
