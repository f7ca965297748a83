/**
 * The source throttle (gateway/abuse/source-throttle.ts): failed logins for
 * many distinct user names from one address throttle it, the same name
 * failing again does not; run against the in-process store and against two
 * RedisStores sharing one real redis-server (two gateway processes).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceThrottle, type SourceThrottleOptions } from '../gateway/abuse/source-throttle.ts';
import { MemoryStore } from '../gateway/state/memory-store.ts';
import { RedisStore } from '../gateway/state/redis-store.ts';
import type { StateStore } from '../gateway/state/store.ts';
import { type RedisServer, sleep, startRedis } from '../harness/redis.ts';

const HMAC_KEY = `throttle-key-${randomUUID()}`;
/** Per-call bound: generous, so load does not turn shared answers into local ones (ms). */
const CALL_TIMEOUT_MS = 2_000;
const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Handles {
  /** Two handles on one shared state: two RedisStores on one Redis, or one MemoryStore twice. */
  a: StateStore;
  b: StateStore;
  server?: RedisServer;
}

function throttleSuite(name: string, setup: () => Promise<Handles>): void {
  describe(name, () => {
    let h: Handles;
    const run = randomUUID().slice(0, 8);
    const names: string[] = [];
    const user = (n: string): string => {
      const u = `${n}-${run}`;
      names.push(u);
      return u;
    };
    let ipCounter = 0;
    /** A fresh documentation-range address per call, so tests do not share counts. */
    const ip = (): string => `192.0.2.${++ipCounter}`;
    const throttles = (options: Partial<SourceThrottleOptions> = {}) => {
      const base = { hmacKey: HMAC_KEY, maxUsers: 3, windowMs: 10_000, durationMs: 10_000, ...options };
      return {
        A: new SourceThrottle({ ...base, store: h.a }),
        B: new SourceThrottle({ ...base, store: h.b }),
      };
    };

    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.a.close();
      if (h?.b !== h?.a) await h?.b.close();
      await h?.server?.dispose();
    });

    it('throttles an address once names failed from it reach maxUsers, through either process', async () => {
      const { A, B } = throttles();
      const office = ip();
      const [carol, dan, erin] = [user('carol'), user('dan'), user('erin')];
      expect(await A.recordFailure(carol, office)).toEqual({ names: 1, status: { throttled: false } });
      expect(await B.recordFailure(dan, office)).toEqual({ names: 2, status: { throttled: false } });
      // carol again is no new name.
      expect(await A.recordFailure(carol, office)).toEqual({
        names: undefined,
        status: { throttled: false },
      });
      expect(await B.recordFailure(erin, office)).toEqual({
        names: 3,
        status: {
          throttled: true,
          engaged: true,
          retryAfterS: 10,
          code: 'auth.throttled',
          reason: `invalid username or password; failed logins from ${office} are throttled for 10s`,
        },
      });
      // From now on every failure from there is throttled, a repeated name too; it engaged once.
      expect((await A.recordFailure(carol, office)).status).toMatchObject({
        throttled: true,
        engaged: false,
      });
      expect((await A.recordFailure(user('frank'), office)).status).toMatchObject({ engaged: false });
      expect((await B.recordFailure(carol, ip())).status).toEqual({ throttled: false });
    });

    it('counts one name once however often it fails, whatever its case', async () => {
      const { A, B } = throttles();
      const ci = ip();
      const job = user('ci-job');
      for (let i = 0; i < 10; i += 1) {
        const record = await (i % 2 === 0 ? A : B).recordFailure(i % 3 === 0 ? job.toUpperCase() : job, ci);
        expect(record).toEqual({ names: i === 0 ? 1 : undefined, status: { throttled: false } });
      }
    });

    it('counts concurrent failures from both processes exactly, and engages once', async () => {
      const { A, B } = throttles({ maxUsers: 20 });
      const where = ip();
      const records = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? A : B).recordFailure(user(`spray${i}`), where)),
      );
      expect(records.map((r) => r.names).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      const throttled = records.filter((r) => r.status.throttled);
      expect(throttled.map((r) => r.names).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(
        Array.from({ length: 21 }, (_, i) => i + 20),
      );
      const engaged = records.filter((r) => r.status.throttled && r.status.engaged);
      expect(engaged.map((r) => r.names)).toEqual([20]);
    });

    it('ends after durationMs, and counts afresh once the window has passed', async () => {
      const { A, B } = throttles({ windowMs: 300, durationMs: 300 });
      const where = ip();
      const [gil, hal, ida] = [user('gil'), user('hal'), user('ida')];
      for (const n of [gil, hal, ida]) await A.recordFailure(n, where);
      expect((await B.recordFailure(gil, where)).status.throttled).toBe(true);
      await sleep(450);
      expect(await B.recordFailure(gil, where)).toEqual({ names: 1, status: { throttled: false } });
    });

    it('never throttles an unknown address', async () => {
      const { A } = throttles({ maxUsers: 1 });
      expect(await A.recordFailure(user('jan'), '')).toEqual({
        names: undefined,
        status: { throttled: false },
      });
    });

    if (name.startsWith('Redis')) {
      it('leaves no user name in any Redis key or value, and a TTL on every key', async () => {
        const { A } = throttles({ maxUsers: 1 });
        await A.recordFailure(user('sekrit-user'), ip());
        const entries = await h.server!.scanAll();
        const keys = [...entries.keys()];
        for (const ns of ['throttle', 'throttle-names', 'throttle-seen']) {
          expect(keys.some((k) => k.startsWith(`modgate:v1:${ns}:`))).toBe(true);
        }
        const atRest = [...entries].flat().join('\n').toLowerCase();
        expect(names.length).toBeGreaterThan(10);
        for (const n of names) expect(atRest).not.toContain(n.toLowerCase());
        // -1 is a key without expiry; -2 one that expired since the scan (the short test windows).
        for (const key of keys) expect(Number(await h.server!.cli('PTTL', key))).not.toBe(-1);
      });
    }
  });
}

throttleSuite('MemoryStore (one process, two instances)', async () => {
  const store = new MemoryStore();
  return { a: store, b: store };
});

throttleSuite('Redis (two processes sharing one redis-server)', async () => {
  const server = await startRedis({ password: `redis-pw-${randomUUID()}` });
  const options = {
    topology: { kind: 'standalone' as const, url: server.url },
    password: server.password,
    commandTimeoutMs: CALL_TIMEOUT_MS,
    connectTimeoutMs: 2_000,
    logger: quietLogger,
  };
  const [a, b] = await Promise.all([RedisStore.open(options), RedisStore.open(options)]);
  return { a, b, server };
});
