/**
 * Redis killed under load with two `modgate serve` processes sharing it:
 * what deployment.md promises for the outage. Passwords keep working at
 * both (cached or not: LDAP is asked); revocation checks fail closed — a
 * user revoked before the outage stays refused at both, even after an
 * uncached login made a process re-read the revocation list from its local
 * copy, and a personal token, whose revocation list must be asked on every
 * use, is 503 `token revocation list is unavailable` instead of being taken
 * as not revoked. With Redis back, both recover by themselves: tokens work
 * again, the revoked token and user stay refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatKeyRing } from '../auth/pat/keys.ts';
import { type IssuedPat, PersonalTokens } from '../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens } from '../auth/pat/revoked-tokens.ts';
import type { GatewayProcess } from '../bench/support/processes.ts';
import { stateKey } from '../gateway/state/store.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { maxPacedRequests, pacedStreams } from './support/paced-streams.ts';
import { type RedisDeployment, startRedisDeployment } from './support/redis-deployment.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
const PUBLIC_URL = 'https://goproxy.redis-killed.example';
const ADMIN_TOKEN = 'admin-token-redis-killed-0123456789';
/** How long Redis stays down while the load runs (ms). */
const OUTAGE_MS = 6_000;
/** Both processes answer from Redis again within this long of its restart (ms). */
const RECOVER_WITHIN_MS = 5_000;
const patKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;
const UNAVAILABLE = /^modgate: token revocation list is unavailable \(request [0-9a-f]{32}\)\n$/;
const REVOKED_ERIN = /^modgate: access for erin is revoked until \d{4}-/;

let deployment: RedisDeployment;
let gateways: GatewayProcess[];
const issuer = new PersonalTokens({
  issuer: PUBLIC_URL,
  keys: PatKeyRing.fromPem([{ kid: 'k1', pem: patKeyPem }]),
  revoked: new MemoryRevokedTokens(),
});

beforeAll(async () => {
  // Persistent, as deployment.md asks for: a killed Redis comes back with what it held (revocations included).
  deployment = await startRedisDeployment({ redisArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
  const pat = await deployment.secret('pat.pem', patKeyPem);
  const admin = await deployment.secret('admin-token', ADMIN_TOKEN);
  const adjust = (config: Record<string, unknown>) => ({
    ...config,
    personal_tokens: { issuer: PUBLIC_URL, keys: [{ kid: 'k1', pem: pat }] },
    admin: { token: admin },
  });
  gateways = await Promise.all([deployment.start('a', adjust), deployment.start('b', adjust)]);
}, 60_000);
afterAll(async () => {
  await deployment?.close();
});

type Credential = { name: string; password: string };
const get = (g: number, user: Credential) =>
  httpsGet(gateways[g]!.url, INFO, { ca: deployment.pki.caPem, basic: [user.name, user.password] }).catch(
    (err: Error) => ({ status: 0, text: err.message }),
  );
const patUser = (pat: IssuedPat): Credential => ({ name: pat.owner, password: pat.token });

describe('Redis killed under load, two gateway processes', () => {
  it('passwords served, revocations fail closed, both recover when Redis is back', async () => {
    const valid = await issuer.issue('bob', 3_600_000);
    const revokedPat = await issuer.issue('alice', 3_600_000);
    for (const g of [0, 1]) {
      expect((await get(g, USERS.alice)).status).toBe(200);
      expect((await get(g, patUser(valid))).status).toBe(200);
      expect((await get(g, patUser(revokedPat))).status).toBe(200);
    }
    // Before the outage: erin revoked at A (B hears it by message); a token revoked elsewhere, used by neither since.
    const revoked = await httpsGet(gateways[0]!.url, '/_modgate/admin/revoke?user=erin&for=1h', {
      ca: deployment.pki.caPem,
      method: 'POST',
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
    expect(revoked.status).toBe(200);
    // As `modgate logout` at a third process does (its revoke-self entry), written where every process reads it.
    await deployment.redis.cli('SET', stateKey('pat-revoked', revokedPat.jti), '1', 'PX', '3600000');
    // B hears of erin by message only: asking B now would make it read the list, and keep a copy of it.
    expect((await get(0, USERS.erin)).text).toMatch(REVOKED_ERIN);
    await sleep(300);

    await deployment.redis.kill();
    // An uncached login at each process: its directory check re-reads the revocation list.
    expect((await get(1, USERS.zoe)).status).toBe(200);
    expect((await get(0, USERS.dave)).status).toBe(200);
    for (const g of [0, 1]) expect((await get(g, USERS.erin)).text).toMatch(REVOKED_ERIN);

    const failures: string[] = [];
    const expectAnswer = (
      what: string,
      res: { status: number; text: string },
      ok: (t: string) => boolean,
    ) => {
      if (!ok(`${res.status} ${res.text}`)) failures.push(`${what}: ${res.status} ${res.text}`);
    };
    // Four loops at both processes, at most one request per 50 ms each: at most 480 requests.
    const pacing = { streams: 4, durationMs: OUTAGE_MS, intervalMs: 50 };
    const { requests } = await pacedStreams(pacing, async (stream) => {
      const g = Math.floor(Math.random() * 2);
      if (stream === 0) expectAnswer(`alice at ${g}`, await get(g, USERS.alice), (t) => t.startsWith('200 '));
      if (stream === 1) {
        expectAnswer(`erin at ${g}`, await get(g, USERS.erin), (t) => REVOKED_ERIN.test(t.slice(4)));
      }
      if (stream === 2) {
        expectAnswer(`valid token at ${g}`, await get(g, patUser(valid)), (t) =>
          UNAVAILABLE.test(t.slice(4)),
        );
      }
      if (stream === 3) {
        // Neither process can tell it is revoked, so neither may guess "not revoked".
        expectAnswer(`revoked token at ${g}`, await get(g, patUser(revokedPat)), (t) =>
          UNAVAILABLE.test(t.slice(4)),
        );
      }
      return undefined;
    });
    expect(requests).toBeLessThanOrEqual(maxPacedRequests(pacing));
    expect(failures).toEqual([]);

    await deployment.redis.restart();
    const restartedAt = Date.now();
    for (const g of [0, 1]) {
      let res = await get(g, patUser(valid));
      while (res.status !== 200 && Date.now() - restartedAt < RECOVER_WITHIN_MS) {
        await sleep(100);
        res = await get(g, patUser(valid));
      }
      expect(res.status, `process ${g} after Redis came back: ${res.text}`).toBe(200);
    }
    for (const g of [0, 1]) {
      expect((await get(g, patUser(revokedPat))).text).toBe('modgate: personal token has been revoked\n');
      expect((await get(g, USERS.erin)).text).toMatch(REVOKED_ERIN);
      expect((await get(g, USERS.alice)).status).toBe(200);
    }
  }, 60_000);
});
