/**
 * The suite every `StateStore` must pass (as directory-suite.ts does for
 * directories): values with TTLs under namespaced keys, atomic window counts
 * and semaphore slots across two handles, pub/sub delivery within 1 s, and
 * sealed values that survive the store but not tampering.
 *
 * "Two handles" share one state: two RedisStores on one Redis, or the same
 * MemoryStore twice (in-process state is shared only within a process).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../../core/errors.ts';
import { ValueSealer } from '../../gateway/state/crypto.ts';
import {
  type Lease,
  STATE_PREFIX,
  type StateStore,
  stateChannel,
  stateKey,
} from '../../gateway/state/store.ts';
import { sleep, waitFor } from '../../harness/redis.ts';

/** What a suite set-up returns. */
export interface StateStoreSuiteContext {
  /** Two handles on the same shared state (may be the same object). */
  a: StateStore;
  b: StateStore;
  /** Every value at rest outside the process, when there is such a place (Redis). */
  valuesAtRest?: () => Promise<string[]>;
  teardown?: () => Promise<void>;
}

/** Longest time a publish may take to reach another handle's subscriber (milliseconds). */
const DELIVERY_BOUND_MS = 1_000;

/** Runs `f` and returns the code of the ModgateError it throws. */
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (isModgateError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a ModgateError');
}

/** Registers the shared state-store tests under `describe(name)`; `setup` runs once. */
export function runStateStoreSuite(name: string, setup: () => Promise<StateStoreSuiteContext>): void {
  describe(name, () => {
    let ctx: StateStoreSuiteContext;
    // Unique ids per run, so a reused backend never mixes runs.
    const run = randomUUID().slice(0, 8);
    const key = (ns: string, id: string) => stateKey(ns, `${run}-${id}`);

    beforeAll(async () => {
      ctx = await setup();
    });
    afterAll(async () => {
      await ctx?.a.close();
      if (ctx?.b !== ctx?.a) await ctx?.b.close();
      await ctx?.teardown?.();
    });

    it('builds every key as modgate:v1:<namespace>:<id>, hashing very long ids', () => {
      expect(stateKey('auth-verified', 'abc')).toBe(`${STATE_PREFIX}:auth-verified:abc`);
      expect(STATE_PREFIX).toBe('modgate:v1');
      expect(stateKey('lockout-ip', '::1')).toBe('modgate:v1:lockout-ip:::1');
      expect(stateKey('lockout-user', 'x'.repeat(500))).toMatch(
        /^modgate:v1:lockout-user:sha256-[0-9a-f]{64}$/,
      );
      expect(stateChannel('revocations')).toBe('modgate:v1:revocations');
      expect(codeOf(() => stateKey('Bad NS', 'x'))).toBe('internal');
      expect(codeOf(() => stateKey('a:b', 'x'))).toBe('internal');
      expect(codeOf(() => stateKey('ok', ''))).toBe('internal');
    });

    it('stores a value visible to the other handle, and deletes it for both', async () => {
      const k = key('test-values', 'shared');
      expect(await ctx.b.get(k)).toBeUndefined();
      await ctx.a.set(k, 'v1 ünïcode ✓', 10_000);
      expect(await ctx.b.get(k)).toBe('v1 ünïcode ✓');
      await ctx.b.delete(k);
      expect(await ctx.a.get(k)).toBeUndefined();
      await ctx.a.delete(k);
    });

    it('keeps the same id in two namespaces apart', async () => {
      await ctx.a.set(key('test-one', 'id'), 'one', 10_000);
      await ctx.a.set(key('test-two', 'id'), 'two', 10_000);
      expect(await ctx.b.get(key('test-one', 'id'))).toBe('one');
      expect(await ctx.b.get(key('test-two', 'id'))).toBe('two');
    });

    it('expires a value after its TTL, and a later set replaces value and TTL', async () => {
      const short = key('test-ttl', 'short');
      const renewed = key('test-ttl', 'renewed');
      await ctx.a.set(short, 'x', 150);
      await ctx.a.set(renewed, 'old', 150);
      await ctx.a.set(renewed, 'new', 10_000);
      expect(await ctx.b.get(short)).toBe('x');
      await sleep(400);
      expect(await ctx.b.get(short)).toBeUndefined();
      expect(await ctx.a.get(short)).toBeUndefined();
      expect(await ctx.b.get(renewed)).toBe('new');
    });

    it('refuses a TTL, window or limit that is not a positive integer', async () => {
      const k = key('test-args', 'x');
      for (const call of [
        () => ctx.a.set(k, 'v', 0),
        () => ctx.a.set(k, 'v', 1.5),
        () => ctx.a.incrementWindow(k, -1),
        () => ctx.a.acquire(k, 0, 1_000),
        () => ctx.a.acquire(k, 1, 0),
      ]) {
        await expect(call()).rejects.toMatchObject({ code: 'internal' });
      }
    });

    it('counts a window atomically under concurrency from both handles', async () => {
      const k = key('test-window', 'concurrent');
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? ctx.a : ctx.b).incrementWindow(k, 60_000)),
      );
      expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      for (const r of results) {
        expect(r.resetInMs).toBeGreaterThan(0);
        expect(r.resetInMs).toBeLessThanOrEqual(60_000);
      }
    });

    it('restarts a window count once the window has passed', async () => {
      const k = key('test-window', 'expiry');
      expect((await ctx.a.incrementWindow(k, 200)).count).toBe(1);
      expect((await ctx.b.incrementWindow(k, 200)).count).toBe(2);
      await sleep(350);
      const after = await ctx.b.incrementWindow(k, 200);
      expect(after.count).toBe(1);
      expect(after.resetInMs).toBeLessThanOrEqual(200);
    });

    it('grants at most `limit` semaphore slots across both handles, and a released slot again', async () => {
      const k = key('test-semaphore', 'cap');
      const granted = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? ctx.a : ctx.b).acquire(k, 3, 10_000)),
      );
      const leases = granted.filter((l): l is Lease => l !== undefined);
      expect(leases).toHaveLength(3);
      expect(new Set(leases.map((l) => l.id)).size).toBe(3);
      expect(await ctx.a.acquire(k, 3, 10_000)).toBeUndefined();
      await leases[0]!.release();
      await leases[0]!.release();
      const again = await ctx.b.acquire(k, 3, 10_000);
      expect(again).toBeDefined();
      expect(await ctx.a.acquire(k, 3, 10_000)).toBeUndefined();
      await Promise.all([again!.release(), ...leases.slice(1).map((l) => l.release())]);
      expect(await ctx.a.acquire(k, 3, 10_000)).toBeDefined();
    });

    it('frees a slot that was never released once its TTL has passed (a crashed holder)', async () => {
      const k = key('test-semaphore', 'crash');
      expect(await ctx.a.acquire(k, 1, 200)).toBeDefined();
      expect(await ctx.b.acquire(k, 1, 200)).toBeUndefined();
      await sleep(350);
      expect(await ctx.b.acquire(k, 1, 200)).toBeDefined();
    });

    it('delivers a publish to subscribers of both handles within 1 s, and not after unsubscribing', async () => {
      const channel = stateChannel(`test-${run}`);
      const other = stateChannel(`test-other-${run}`);
      const atA: string[] = [];
      const atB: string[] = [];
      const subA = await ctx.a.subscribe(channel, (m) => atA.push(m));
      const subB = await ctx.b.subscribe(channel, (m) => atB.push(m));
      const subOther = await ctx.b.subscribe(other, (m) => atB.push(`other:${m}`));
      const sent = Date.now();
      await ctx.a.publish(channel, 'revoke user:alice\nwith a second line');
      expect(atA).toEqual(['revoke user:alice\nwith a second line']);
      await waitFor('delivery at b', async () => (atB.length > 0 ? true : undefined), DELIVERY_BOUND_MS);
      expect(Date.now() - sent).toBeLessThan(DELIVERY_BOUND_MS);
      expect(atB).toEqual(['revoke user:alice\nwith a second line']);

      await subB.close();
      await subB.close();
      await ctx.a.publish(channel, 'second');
      await sleep(200);
      expect(atA).toEqual(['revoke user:alice\nwith a second line', 'second']);
      expect(atB).toHaveLength(1);
      await Promise.all([subA.close(), subOther.close()]);
    });

    it('keeps a sealed value opaque at rest, opens it through the other handle, and detects tampering', async () => {
      const sealer = new ValueSealer([{ id: 'k1', key: randomBytes(32) }]);
      const k = key('upstream-token', 'alice');
      const secret = `artifactory-token-${randomUUID()}`;
      await ctx.a.set(k, sealer.seal(k, secret), 10_000);
      const stored = await ctx.b.get(k);
      expect(stored).toBeDefined();
      expect(stored).not.toContain(secret);
      expect(stored!.startsWith('k1.')).toBe(true);
      expect(sealer.open(k, stored!)).toBe(secret);

      const flipped = `${stored!.slice(0, -3)}${stored!.at(-3) === 'A' ? 'B' : 'A'}${stored!.slice(-2)}`;
      expect(sealer.open(k, flipped)).toBeUndefined();
      expect(sealer.open(key('upstream-token', 'mallory'), stored!)).toBeUndefined();
      expect(sealer.open(k, `k2${stored!.slice(2)}`)).toBeUndefined();
      expect(sealer.open(k, 'garbage')).toBeUndefined();

      if (ctx.valuesAtRest !== undefined) {
        const atRest = await ctx.valuesAtRest();
        expect(atRest).toContain(stored);
        expect(atRest.some((v) => v.includes(secret))).toBe(false);
      }
    });

    it('reports itself healthy and shared, having answered every call above from shared state', async () => {
      for (const store of [ctx.a, ctx.b]) {
        const health = await store.health();
        expect(health.shared).toBe(true);
        expect(health.detail).toBeUndefined();
        expect(Object.values(health.fallbacks).every((n) => n === 0)).toBe(true);
      }
    });
  });
}
