/**
 * Durable records (gateway/state/durable.ts, durable-redis.ts), the store of
 * first-seen pins and accepted tree heads: one contract for the folder and
 * the Redis implementation — compare-and-set with exactly one winner among
 * concurrent writers of two "processes", listing by prefix, records that
 * outlive the process (and a Redis restart with AOF), and refusal instead of
 * a guess when the backend cannot be asked.
 */
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { type DurableRecords, FileRecords } from '../gateway/state/durable.ts';
import { RedisRecords } from '../gateway/state/durable-redis.ts';
import { type RedisServer, startRedis } from '../harness/redis.ts';

const silent = pino({ level: 'silent' });

interface Backend {
  /** Opens another client of the same records, as a second process would. */
  open(): Promise<DurableRecords>;
}

function contract(name: string, backend: () => Backend) {
  describe(`${name}: the durable-records contract`, () => {
    it('sets from absent once; a second writer learns the first value', async () => {
      const a = await backend().open();
      const key = `pin/${name}/example.org/m@v1.0.0`;
      expect(await a.get(key)).toBeUndefined();
      expect(await a.compareAndSet(key, undefined, 'h1:first')).toEqual({
        swapped: true,
        current: 'h1:first',
      });
      expect(await a.compareAndSet(key, undefined, 'h1:second')).toEqual({
        swapped: false,
        current: 'h1:first',
      });
      expect(await a.get(key)).toBe('h1:first');
      await a.close();
    });

    it('swaps only from the expected value', async () => {
      const a = await backend().open();
      const key = `head/${name}/sum.example`;
      await a.compareAndSet(key, undefined, 'tree 1');
      expect(await a.compareAndSet(key, 'tree 0', 'tree 2')).toEqual({ swapped: false, current: 'tree 1' });
      expect(await a.compareAndSet(key, 'tree 1', 'tree 2')).toEqual({ swapped: true, current: 'tree 2' });
      expect(await a.compareAndSet(`${key}-absent`, 'tree 1', 'x')).toEqual({
        swapped: false,
        current: undefined,
      });
      await a.close();
    });

    it('has exactly one winner among concurrent writers of two processes', async () => {
      const [a, b] = [await backend().open(), await backend().open()];
      const key = `pin/${name}/race`;
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).compareAndSet(key, undefined, `v${i}`)),
      );
      const winners = results.filter((r) => r.swapped);
      expect(winners).toHaveLength(1);
      for (const r of results) expect(r.current).toBe(winners[0]!.current);
      // Concurrent swaps from the same value: again one winner.
      const swaps = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).compareAndSet(key, winners[0]!.current, `w${i}`),
        ),
      );
      expect(swaps.filter((r) => r.swapped)).toHaveLength(1);
      await Promise.all([a.close(), b.close()]);
    });

    it('lists by prefix, sorted and bounded, and deletes', async () => {
      const a = await backend().open();
      const base = `list/${name}/`;
      for (const m of ['c@v1', 'a@v1', 'b@v2', 'b@v1']) await a.compareAndSet(base + m, undefined, m);
      await a.compareAndSet(`other/${name}/a@v1`, undefined, 'x');
      expect(await a.list(base, 10)).toEqual(['a@v1', 'b@v1', 'b@v2', 'c@v1'].map((m) => base + m));
      expect(await a.list(`${base}b`, 10)).toEqual([`${base}b@v1`, `${base}b@v2`]);
      expect(await a.list(base, 2)).toHaveLength(2);
      expect(await a.delete(`${base}a@v1`)).toBe(true);
      expect(await a.delete(`${base}a@v1`)).toBe(false);
      expect(await a.list(base, 10)).not.toContain(`${base}a@v1`);
      await a.close();
    });

    it('keeps records for the next process', async () => {
      const a = await backend().open();
      await a.compareAndSet(`keep/${name}`, undefined, 'kept');
      await a.close();
      const b = await backend().open();
      expect(await b.get(`keep/${name}`)).toBe('kept');
      await b.close();
    });
  });
}

let dir: string;
let redis: RedisServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-durable-'));
  redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
}, 30_000);
afterAll(async () => {
  await redis?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const openRedis = () =>
  RedisRecords.open({
    topology: { kind: 'standalone', url: redis.url },
    logger: silent,
    commandTimeoutMs: 500,
  });

contract('folder', () => ({ open: () => FileRecords.open(join(dir, 'records')) }));
contract('redis', () => ({ open: openRedis }));

describe('durability and refusal', () => {
  it('Redis with AOF keeps records across a restart', async () => {
    const a = await openRedis();
    await a.compareAndSet('restart/pin', undefined, 'h1:kept');
    await a.close();
    await redis.restart();
    const b = await openRedis();
    expect(await b.get('restart/pin')).toBe('h1:kept');
    await b.close();
  });

  it('refuses with state.unavailable while Redis does not answer, and works again after', async () => {
    const a = await openRedis();
    redis.pause();
    try {
      const err = await a.compareAndSet('paused/pin', undefined, 'x').catch((e: unknown) => e);
      expect(isModgateError(err, 'state.unavailable')).toBe(true);
      const read = await a.get('restart/pin').catch((e: unknown) => e);
      expect(isModgateError(read, 'state.unavailable')).toBe(true);
    } finally {
      redis.resume();
    }
    await expect
      .poll(() => a.get('restart/pin').catch(() => 'unavailable'), { timeout: 5_000 })
      .toBe('h1:kept');
    await a.close();
  });

  it("opening removes a crashed writer's temporary files, not a live writer's", async () => {
    const folder = join(dir, 'leftovers');
    await FileRecords.open(folder);
    const [old, fresh] = [join(folder, 'tmp', 'old'), join(folder, 'tmp', 'fresh')];
    await writeFile(old, 'half a value');
    await writeFile(fresh, 'being written');
    const hourAgo = new Date(Date.now() - 3_600_000);
    await utimes(old, hourAgo, hourAgo);
    await FileRecords.open(folder);
    expect((await readdir(join(folder, 'tmp'))).sort()).toEqual(['fresh']);
  });

  it('a folder it cannot write into refuses with state.unavailable', async () => {
    // Permissions do not stop root (CI runs as root), so the spool folder is replaced by a file.
    const records = await FileRecords.open(join(dir, 'broken'));
    await rm(join(dir, 'broken', 'tmp'), { recursive: true });
    await writeFile(join(dir, 'broken', 'tmp'), 'not a folder');
    const err = await records.compareAndSet('k', undefined, 'v').catch((e: unknown) => e);
    expect(isModgateError(err, 'state.unavailable')).toBe(true);
    expect(await records.get('k')).toBeUndefined();
  });
});
