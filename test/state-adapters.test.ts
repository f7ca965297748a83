/**
 * The gateway's uses of the shared store, against a real redis-server:
 * minted upstream tokens sealed at rest, and the credential cache's
 * cross-process lock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealedTokenCache, sharedAuthCache } from '../gateway/state/adapters.ts';
import { randomSealer } from '../gateway/state/crypto.ts';
import { RedisStore } from '../gateway/state/redis-store.ts';
import { type RedisServer, startRedis } from '../harness/redis.ts';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let redis: RedisServer;
let a: RedisStore;
let b: RedisStore;

beforeAll(async () => {
  redis = await startRedis();
  const open = () => RedisStore.open({ topology: { kind: 'standalone', url: redis.url }, logger: quiet });
  [a, b] = await Promise.all([open(), open()]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await redis?.dispose();
});

describe('sealed token cache', () => {
  it('shares a minted token between processes, and Redis never holds it in clear', async () => {
    const sealer = randomSealer();
    const token = 'eyJhbGciOiJSUzI1NiJ9.minted-upstream-token.signature';
    await sealedTokenCache(a, sealer).set('["art","alice","scope"]', token, 60_000);
    expect(await sealedTokenCache(b, sealer).get('["art","alice","scope"]')).toBe(token);
    const dump = [...(await redis.scanAll()).entries()].join('\n');
    expect(dump).toContain('upstream-token');
    expect(dump).not.toContain(token);
    expect(dump).not.toContain('minted-upstream-token');
    // Another process without the key cannot open it: a miss, never garbage.
    expect(await sealedTokenCache(b, randomSealer()).get('["art","alice","scope"]')).toBeUndefined();
  });
});

describe('shared credential cache lock', () => {
  it('is held by one process at a time and freed on release', async () => {
    const first = await sharedAuthCache(a).lock('k1', 5_000);
    expect(first).toBeDefined();
    expect(await sharedAuthCache(b).lock('k1', 5_000)).toBeUndefined();
    await first?.release();
    const second = await sharedAuthCache(b).lock('k1', 5_000);
    expect(second).toBeDefined();
    await second?.release();
  });
});
