/**
 * Module records (gateway/integrity/module-records.ts): first-seen times and
 * pinned go.sum hashes over the durable records. The first hash wins, also
 * among concurrent writers of two "processes" sharing one folder; a damaged
 * record is refused, never read as "nothing pinned".
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { ModuleRecords } from '../gateway/integrity/module-records.ts';
import { FileRecords } from '../gateway/state/durable.ts';

let dir: string;
const T0 = new Date('2026-01-02T03:04:05.000Z');
const T1 = new Date('2026-02-03T04:05:06.000Z');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-module-records-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function open(): Promise<ModuleRecords> {
  return new ModuleRecords(await FileRecords.open(dir));
}

describe('module records', () => {
  it('keeps the first-seen time and the first hash of each file kind', async () => {
    const records = await open();
    expect(await records.get('example.org/a', 'v1.0.0')).toBeUndefined();
    const first = await records.remember('example.org/a', 'v1.0.0', 'mod', 'h1:mod-one', T0);
    expect(first).toEqual({ record: { firstSeen: T0.toISOString(), mod: 'h1:mod-one' }, added: true });
    const again = await records.remember('example.org/a', 'v1.0.0', 'mod', 'h1:mod-two', T1);
    expect(again).toEqual({ record: { firstSeen: T0.toISOString(), mod: 'h1:mod-one' }, added: false });
    const zip = await records.remember('example.org/a', 'v1.0.0', 'zip', 'h1:zip-one', T1);
    expect(zip.record).toEqual({ firstSeen: T0.toISOString(), mod: 'h1:mod-one', zip: 'h1:zip-one' });
    expect(await records.seen('example.org/a', 'v1.0.0', T1)).toEqual(zip.record);
    expect((await records.seen('example.org/b', 'v2.0.0', T1)).firstSeen).toBe(T1.toISOString());
  });

  it('lets exactly one of concurrent writers in two processes pin its hash', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const writes = Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? a : b).remember('example.org/race', 'v1.0.0', 'zip', `h1:writer-${i}`, T0),
    );
    const results = await Promise.all(writes);
    expect(results.filter((r) => r.added)).toHaveLength(1);
    const winner = results.find((r) => r.added)?.record.zip;
    expect(new Set(results.map((r) => r.record.zip))).toEqual(new Set([winner]));
    expect((await (await open()).get('example.org/race', 'v1.0.0'))?.zip).toBe(winner);
  });

  it('lists and forgets by module', async () => {
    const records = await open();
    await records.remember('example.org/list/x', 'v1.0.0', 'mod', 'h1:x', T0);
    await records.remember('example.org/list/x', 'v1.1.0', 'mod', 'h1:y', T0);
    expect(await records.list('example.org/list/', 10)).toEqual([
      'example.org/list/x@v1.0.0',
      'example.org/list/x@v1.1.0',
    ]);
    expect(await records.forget('example.org/list/x', 'v1.0.0')).toBe(true);
    expect(await records.forget('example.org/list/x', 'v1.0.0')).toBe(false);
    expect(await records.list('example.org/list/', 10)).toEqual(['example.org/list/x@v1.1.0']);
  });

  it('refuses a damaged record instead of reading it as unpinned', async () => {
    const records = await open();
    await records.remember('example.org/damaged', 'v1.0.0', 'zip', 'h1:z', T0);
    const files = (await readdir(dir)).filter((f) => f !== 'tmp');
    const name = files.find((f) => Buffer.from(f, 'base64url').toString().includes('example.org/damaged'));
    expect(name).toBeDefined();
    await writeFile(join(dir, name!), '{"zip": 42}');
    const err = await records.get('example.org/damaged', 'v1.0.0').catch((e: unknown) => e);
    expect(isModgateError(err, 'state.unavailable')).toBe(true);
  });
});
