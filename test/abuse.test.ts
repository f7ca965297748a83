/**
 * Abuse protection (gateway/abuse/): failed-login lockout per username, the
 * per-identity rate limit and the per-upstream concurrency cap,
 * each run against the in-process store and against two RedisStores sharing
 * one real redis-server (two gateway processes); then what Redis holds, and
 * what happens when the store is in trouble.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { ConcurrencyLimiter } from '../gateway/abuse/concurrency.ts';
import { Lockout, type LockoutOptions } from '../gateway/abuse/lockout.ts';
import { RateLimiter } from '../gateway/abuse/rate-limit.ts';
import { formatDuration, retryAfterSeconds, shownName } from '../gateway/abuse/reason.ts';
import { MemoryStore } from '../gateway/state/memory-store.ts';
import type { RedisStoreOptions } from '../gateway/state/redis-options.ts';
import { RedisStore } from '../gateway/state/redis-store.ts';
import type { Lease, StateStore } from '../gateway/state/store.ts';
import { type RedisServer, sleep, startRedis, waitFor } from '../harness/redis.ts';

const HMAC_KEY = `abuse-key-${randomUUID()}`;
/** A password the tests "log in" with; it must never reach the store. */
const PASSWORD = `pw-${randomUUID()}`;
/** Per-call bound for the shared tests: generous, so load does not turn shared answers into local ones (ms). */
const SHARED_CALL_TIMEOUT_MS = 2_000;
/** Per-call bound for the Redis trouble tests (milliseconds). */
const TROUBLE_CALL_TIMEOUT_MS = 200;
/** Upper bound for a short lock to end once its time is up, timers and load included (milliseconds). */
const UNLOCK_BOUND_MS = 2_000;

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

function redisOptions(server: RedisServer, commandTimeoutMs: number): RedisStoreOptions {
  return {
    topology: { kind: 'standalone', url: server.url },
    password: server.password,
    commandTimeoutMs,
    connectTimeoutMs: 2_000,
    logger: quietLogger,
  };
}

interface Handles {
  /** Two handles on one shared state: two RedisStores on one Redis, or one MemoryStore twice. */
  a: StateStore;
  b: StateStore;
  server?: RedisServer;
}

/** Every name a test used as a username or identity, for the "nothing raw at rest" check. */
const namesUsed: string[] = [];

/**
 * The behaviour every store must give abuse protection. Instances built on
 * `a` and on `b` play two gateway processes.
 */
function abuseSuite(name: string, setup: () => Promise<Handles>): void {
  describe(name, () => {
    let h: Handles;
    const run = randomUUID().slice(0, 8);
    const user = (n: string): string => {
      const u = `${n}-${run}`;
      namesUsed.push(u);
      return u;
    };
    const lockouts = (options: Partial<LockoutOptions> = {}) => {
      const base = { hmacKey: HMAC_KEY, maxFailures: 3, windowMs: 10_000, lockMs: 10_000, ...options };
      return { A: new Lockout({ ...base, store: h.a }), B: new Lockout({ ...base, store: h.b }) };
    };

    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h?.a.close();
      if (h?.b !== h?.a) await h?.b.close();
      await h?.server?.dispose();
    });

    it('enforces through B a username lockout earned through A, and refuses no other name', async () => {
      const { A, B } = lockouts();
      const alice = user('alice');
      expect(await A.recordFailure(alice)).toEqual({
        failures: 1,
        status: { locked: false },
        engaged: false,
      });
      expect((await B.recordFailure(alice)).failures).toBe(2);
      expect(await B.check(alice)).toEqual({ locked: false });
      const third = await A.recordFailure(alice);
      expect(third).toMatchObject({ failures: 3, status: { locked: true, retryAfterS: 10 }, engaged: true });

      expect(await B.check(alice)).toEqual({
        locked: true,
        retryAfterS: 10,
        code: 'auth.locked_out',
        reason: `too many failed logins for ${alice}; try again in 10s`,
      });
      // The count ignores case: a lock on alice holds for ALICE.
      expect(await B.check(alice.toUpperCase())).toMatchObject({ locked: true });
      expect(await B.check(user('bob'))).toEqual({ locked: false });
    });

    it('resets the username count on success, but never a lock', async () => {
      const { A, B } = lockouts();
      const heidi = user('heidi');
      for (let i = 0; i < 2; i += 1) await A.recordFailure(heidi);
      await B.recordSuccess(heidi);
      expect((await A.recordFailure(heidi)).failures).toBe(1);

      const ivan = user('ivan');
      for (let i = 0; i < 3; i += 1) await A.recordFailure(ivan);
      await B.recordSuccess(ivan);
      expect(await A.check(ivan)).toMatchObject({ locked: true });
    });

    it('keeps the username count on success when resetOnSuccess is off', async () => {
      const { A, B } = lockouts({ resetOnSuccess: false });
      const kim = user('kim');
      for (let i = 0; i < 2; i += 1) await A.recordFailure(kim);
      await B.recordSuccess(kim);
      expect((await A.recordFailure(kim)).status).toMatchObject({ locked: true });
    });

    it('unlocks after lockMs, and locks again on a failure while the window still holds the threshold', async () => {
      const lockMs = 300;
      const { A, B } = lockouts({ lockMs, windowMs: 10_000 });
      const leo = user('leo');
      for (let i = 0; i < 3; i += 1) await A.recordFailure(leo);
      const lockedAt = Date.now();
      expect(await B.check(leo)).toMatchObject({ locked: true, retryAfterS: 1 });
      await waitFor(
        'the lock to end',
        async () => ((await B.check(leo)).locked ? undefined : true),
        UNLOCK_BOUND_MS,
      );
      expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(lockMs - 50);
      expect((await B.recordFailure(leo)).status).toMatchObject({ locked: true });
      expect(await A.check(leo)).toMatchObject({ locked: true });
    });

    it('starts counting afresh once the failure window has passed', async () => {
      const { A, B } = lockouts({ windowMs: 300 });
      const mia = user('mia');
      for (let i = 0; i < 2; i += 1) await A.recordFailure(mia);
      await sleep(450);
      expect((await B.recordFailure(mia)).failures).toBe(1);
      expect(await B.check(mia)).toEqual({ locked: false });
    });

    it('lifts a lock and its count on unlock', async () => {
      const { A, B } = lockouts();
      const ned = user('ned');
      for (let i = 0; i < 3; i += 1) await A.recordFailure(ned);
      expect((await B.check(ned)).locked).toBe(true);
      await B.unlock(ned);
      expect(await A.check(ned)).toEqual({ locked: false });
      expect((await A.recordFailure(ned)).failures).toBe(1);
    });

    it('counts concurrent failures from both processes exactly, and locks at the threshold', async () => {
      const { A, B } = lockouts({ maxFailures: 50 });
      const olga = user('olga');
      const records = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? A : B).recordFailure(olga)),
      );
      expect(records.map((r) => r.failures).sort((x, y) => (x ?? 0) - (y ?? 0))).toEqual(
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      expect(records.filter((r) => r.status.locked)).toHaveLength(11);
      // The lock engages once, at the failure that reached the threshold, whichever process counted it.
      expect(records.filter((r) => r.engaged).map((r) => r.failures)).toEqual([50]);
      expect((await A.check(olga)).locked).toBe(true);
    });

    it('rate-limits one identity across both processes, atomically, and not the others', async () => {
      const limiter = (store: StateStore) =>
        new RateLimiter({ store, hmacKey: HMAC_KEY, requestsPerWindow: 5, windowMs: 10_000 });
      const [A, B] = [limiter(h.a), limiter(h.b)];
      const pat = user('pat');
      const decisions = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? A : B).take(pat)),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
      expect(await B.take(pat)).toEqual({
        allowed: false,
        retryAfterS: 10,
        code: 'request.rate_limited',
        reason: `rate limit exceeded for ${pat} (5 requests per 10s); try again in 10s`,
      });
      expect(await A.take(user('quinn'))).toEqual({ allowed: true });
    });

    it('keeps the counts of limiters in different namespaces apart, for the same subject', async () => {
      const limiter = (store: StateStore, namespace?: string) =>
        new RateLimiter({ store, hmacKey: HMAC_KEY, requestsPerWindow: 1, windowMs: 10_000, namespace });
      const [perUser, deviceStarts] = [limiter(h.a), limiter(h.b, 'device-login-starts')];
      const subject = user('ruth');
      expect(await perUser.take(subject)).toEqual({ allowed: true });
      expect(await deviceStarts.take(subject)).toEqual({ allowed: true });
      expect((await perUser.take(subject)).allowed).toBe(false);
      expect((await limiter(h.a, 'device-login-starts').take(subject)).allowed).toBe(false);
    });

    it('lets an identity through again once its rate window has passed', async () => {
      const limiter = (store: StateStore) =>
        new RateLimiter({ store, hmacKey: HMAC_KEY, requestsPerWindow: 2, windowMs: 300 });
      const [A, B] = [limiter(h.a), limiter(h.b)];
      const rob = user('rob');
      expect((await A.take(rob)).allowed).toBe(true);
      expect((await B.take(rob)).allowed).toBe(true);
      expect(await A.take(rob)).toMatchObject({ allowed: false, retryAfterS: 1 });
      await sleep(450);
      expect(await B.take(rob)).toEqual({ allowed: true });
    });

    it('caps concurrent requests to an upstream across both processes, and frees a slot once', async () => {
      const upstream = `athens-${run}`;
      const limiter = (store: StateStore) => new ConcurrencyLimiter({ store, limit: 3, slotTtlMs: 10_000 });
      const [A, B] = [limiter(h.a), limiter(h.b)];
      const admissions = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? A : B).enter(upstream)),
      );
      const held = admissions.filter((a) => a.admitted);
      expect(held).toHaveLength(3);
      expect(A.held(upstream) + B.held(upstream)).toBe(3);
      expect(await A.enter(upstream)).toEqual({
        admitted: false,
        retryAfterS: 1,
        code: 'upstream.busy',
        limit: 3,
        reason: `upstream ${upstream} is at its concurrency limit (3); try again in 1s`,
      });
      // Another upstream has its own slots.
      const other = await B.enter(`proxy-golang-org-${run}`);
      expect(other.admitted).toBe(true);

      const [first] = held;
      if (!first?.admitted) throw new Error('unreachable');
      await first.release();
      await first.release();
      expect(A.held(upstream) + B.held(upstream)).toBe(2);
      const again = await B.enter(upstream);
      expect(again.admitted).toBe(true);
      // Releasing twice freed one slot, not two.
      expect((await A.enter(upstream)).admitted).toBe(false);

      for (const a of [...held, again, other]) if (a.admitted) await a.release();
      expect(A.held(upstream) + B.held(upstream)).toBe(0);
      const after = await Promise.all([A.enter(upstream), B.enter(upstream), A.enter(upstream)]);
      expect(after.every((a) => a.admitted)).toBe(true);
      for (const a of after) if (a.admitted) await a.release();
    });

    it('releases a slot when the work holding it throws, and refuses while it is held', async () => {
      const upstream = `athens-errors-${run}`;
      const limiter = (store: StateStore) => new ConcurrencyLimiter({ store, limits: { [upstream]: 1 } });
      const [A, B] = [limiter(h.a), limiter(h.b)];
      expect(A.limitOf(upstream)).toBe(1);
      expect(A.limitOf('elsewhere')).toBe(64);

      let during: unknown;
      await expect(
        A.run(upstream, async () => {
          during = await B.run(upstream, async () => 'never');
          throw new Error('upstream reset the connection');
        }),
      ).rejects.toThrow('upstream reset the connection');
      expect(during).toMatchObject({ admitted: false, code: 'upstream.busy', limit: 1 });
      expect(A.held(upstream)).toBe(0);
      expect(await B.run(upstream, async () => 'ok')).toEqual({ admitted: true, value: 'ok' });
      expect(await A.run(upstream, async () => 42)).toEqual({ admitted: true, value: 42 });
    });

    it('frees the slot of a process that died holding it, after slotTtlMs', async () => {
      const upstream = `athens-crash-${run}`;
      const A = new ConcurrencyLimiter({ store: h.a, limit: 1, slotTtlMs: 200 });
      const B = new ConcurrencyLimiter({ store: h.b, limit: 1, slotTtlMs: 200 });
      expect((await A.enter(upstream)).admitted).toBe(true);
      expect((await B.enter(upstream)).admitted).toBe(false);
      await sleep(350);
      expect((await B.enter(upstream)).admitted).toBe(true);
    });

    it('answered every call above from shared state', async () => {
      for (const store of [h.a, h.b]) {
        const health = await store.health();
        expect(health.shared).toBe(true);
        expect(Object.values(health.fallbacks).every((n) => n === 0)).toBe(true);
      }
    });

    if (name.startsWith('Redis')) {
      it('leaves no username or password in any Redis key or value, and a TTL on every key', async () => {
        // A login as the gateway would do it: the password never reaches abuse protection.
        const { A } = lockouts();
        const secretive = user('sekrit-user');
        await A.check(secretive);
        await A.recordFailure(secretive);
        await A.recordSuccess(secretive);
        await new RateLimiter({ store: h.a, hmacKey: HMAC_KEY }).take(secretive);

        const entries = await h.server!.scanAll();
        const keys = [...entries.keys()];
        for (const ns of ['lockout', 'lockout-count', 'rate-limit', 'upstream-slots']) {
          expect(keys.some((k) => k.startsWith(`modgate:v1:${ns}:`))).toBe(true);
        }
        const atRest = [...entries].flat().join('\n').toLowerCase();
        const used = namesUsed.filter((n) => n.endsWith(run));
        expect(used.length).toBeGreaterThan(10);
        for (const n of [...used, PASSWORD]) expect(atRest).not.toContain(n.toLowerCase());
        // -1 is a key without expiry; -2 one that expired since the scan (the short test windows).
        for (const key of keys) expect(Number(await h.server!.cli('PTTL', key))).not.toBe(-1);
      });
    }
  });
}

abuseSuite('MemoryStore (one process, two instances)', async () => {
  const store = new MemoryStore();
  return { a: store, b: store };
});

abuseSuite('Redis (two processes sharing one redis-server)', async () => {
  const server = await startRedis({ password: `redis-pw-${randomUUID()}` });
  const [a, b] = await Promise.all([
    RedisStore.open(redisOptions(server, SHARED_CALL_TIMEOUT_MS)),
    RedisStore.open(redisOptions(server, SHARED_CALL_TIMEOUT_MS)),
  ]);
  return { a, b, server };
});

describe('abuse protection when the store is in trouble', () => {
  it('still enforces a lock a process set or saw after Redis is killed, and never throws', async () => {
    const server = await startRedis();
    const [a, b] = await Promise.all([
      RedisStore.open(redisOptions(server, TROUBLE_CALL_TIMEOUT_MS)),
      RedisStore.open(redisOptions(server, TROUBLE_CALL_TIMEOUT_MS)),
    ]);
    try {
      const options = { hmacKey: HMAC_KEY, maxFailures: 2, lockMs: 60_000 };
      const [A, B] = [new Lockout({ ...options, store: a }), new Lockout({ ...options, store: b })];
      await A.recordFailure('uma');
      await A.recordFailure('uma');
      expect((await B.check('uma')).locked).toBe(true);

      await server.kill();
      for (const lockout of [A, B]) expect(await lockout.check('uma')).toMatchObject({ locked: true });
      expect(await A.recordFailure('victor')).toMatchObject({ status: { locked: false } });
      expect(await A.check('victor')).toEqual({ locked: false });
      expect((await a.health()).shared).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await server.dispose();
    }
  });

  it('keeps a lock it knows and never rejects when the store itself throws', async () => {
    const memory = new MemoryStore();
    let broken = false;
    const store = new Proxy(memory, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (broken && prop !== 'close') throw new Error('store bug');
          const result = await value.apply(target, args);
          if (prop !== 'acquire' || result === undefined) return result;
          // A lease whose release fails once the store is broken.
          const lease = result as Lease;
          return {
            id: lease.id,
            release: () => (broken ? Promise.reject(new Error('store bug')) : lease.release()),
          };
        };
      },
    }) as StateStore;
    const warnings: string[] = [];
    const logger = { warn: (_: object, msg: string) => void warnings.push(msg) };
    const lockout = new Lockout({ store, hmacKey: HMAC_KEY, maxFailures: 1, logger });
    const limiter = new RateLimiter({ store, hmacKey: HMAC_KEY, requestsPerWindow: 1, logger });
    const cap = new ConcurrencyLimiter({ store, limit: 1, logger });

    await lockout.recordFailure('wendy');
    expect(await limiter.take('wendy')).toEqual({ allowed: true });
    const slot = await cap.enter('athens');
    broken = true;

    expect(await lockout.check('wendy')).toMatchObject({ locked: true });
    expect(await lockout.check('xavier')).toEqual({ locked: false });
    expect(await lockout.recordFailure('xavier')).toEqual({
      failures: undefined,
      status: { locked: false },
      engaged: false,
    });
    await lockout.recordSuccess('xavier');
    expect(await limiter.take('wendy')).toEqual({ allowed: true });
    const unlimited = await cap.enter('athens');
    expect(unlimited.admitted).toBe(true);
    if (unlimited.admitted) await unlimited.release();
    if (slot.admitted) await slot.release();
    expect(cap.held('athens')).toBe(0);
    expect(warnings).toContain('lockout: state store failed; using what this process knows');
    expect(warnings).toContain('rate limit: state store failed; request let through');
    expect(warnings).toContain('concurrency: state store failed to release');
  });
});

describe('abuse protection options and reasons', () => {
  it('refuses an HMAC key shorter than 16 bytes with config.invalid', () => {
    const store = new MemoryStore();
    for (const make of [
      () => new Lockout({ store, hmacKey: 'short' }),
      () => new RateLimiter({ store, hmacKey: new Uint8Array(8) }),
    ]) {
      try {
        make();
        expect.unreachable();
      } catch (err) {
        expect(isModgateError(err, 'config.invalid')).toBe(true);
        expect((err as Error).message).toBe('the abuse-protection key must be at least 16 bytes');
      }
    }
  });

  it('does not share counts between processes keyed differently (every process needs the same key)', async () => {
    const store = new MemoryStore();
    const one = new Lockout({ store, hmacKey: HMAC_KEY, maxFailures: 1 });
    const other = new Lockout({ store, hmacKey: `${HMAC_KEY}-other`, maxFailures: 1 });
    await one.recordFailure('yara');
    expect((await one.check('yara')).locked).toBe(true);
    expect((await other.check('yara')).locked).toBe(false);
  });

  it('uses the documented defaults', async () => {
    const store = new MemoryStore();
    const lockout = new Lockout({ store, hmacKey: HMAC_KEY });
    for (let i = 0; i < 9; i += 1) await lockout.recordFailure('zed');
    expect((await lockout.recordFailure('zed')).status).toMatchObject({
      locked: true,
      retryAfterS: 900,
    });
    const limiter = new RateLimiter({ store, hmacKey: HMAC_KEY });
    for (let i = 0; i < 600; i += 1) expect((await limiter.take('zed')).allowed).toBe(true);
    expect(await limiter.take('zed')).toMatchObject({
      reason: 'rate limit exceeded for zed (600 requests per 1m); try again in 60s',
    });
    expect(new ConcurrencyLimiter({ store }).limitOf('athens')).toBe(64);
  });

  it('shows a client-supplied name on one line, cut at 64 characters', async () => {
    expect(shownName('al\nice\u0000\u0085')).toBe('al ice  ');
    expect(shownName('é'.repeat(70))).toBe(`${'é'.repeat(64)}…`);
    const lockout = new Lockout({ store: new MemoryStore(), hmacKey: HMAC_KEY, maxFailures: 1 });
    const record = await lockout.recordFailure('mallory\r\nX-Injected: 1');
    expect(record.status).toMatchObject({
      reason: 'too many failed logins for mallory  X-Injected: 1; try again in 900s',
    });
  });

  it.each([
    [300, '300ms'],
    [1_000, '1s'],
    [1_500, '1.5s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [300_000, '5m'],
    [3_600_000, '1h'],
    [8_100_000, '2h15m'],
    [3_600_500, '1h0.5s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect([0, 1, 999, 1_000, 1_001, 840_000].map(retryAfterSeconds)).toEqual([1, 1, 1, 1, 2, 840]);
  });
});
