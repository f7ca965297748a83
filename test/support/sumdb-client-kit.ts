/**
 * What the SumdbClient tests share: a fresh harness/go-sumdb per test
 * holding the fixture modules' records, transports to it that count and
 * rewrite, and small readers of results.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { isModgateError, type ModgateError } from '../../core/errors.ts';
import { type GoSumdb, httpSumdbTransport, startGoSumdb } from '../../harness/go-sumdb.ts';
import { SumdbClient, type SumdbTransport, type TreeHeadStore } from '../../sumdb/client.ts';
import { type FixtureSet, writeFixtureModules } from './modules.ts';
import { fixtureRecords } from './sumdb-fixtures.ts';
import { memoryTreeHeads } from './tree-heads.ts';

/** A temp folder with the fixture modules in it, made before the calling file's tests and removed after; read it inside tests. */
export function fixtureFolder(): { readonly dir: string; readonly set: FixtureSet } {
  let dir: string | undefined;
  let set: FixtureSet | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-sumdb-client-'));
    set = await writeFixtureModules(join(dir, 'goproxy'));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir as string;
    },
    get set() {
      return set as FixtureSet;
    },
  };
}

/** Runs `fn` with a database of its own (fresh key and log) holding the fixtures' records, closed after it. */
export async function withDb<T>(fixtures: FixtureSet, fn: (db: GoSumdb) => Promise<T>): Promise<T> {
  const db = await startGoSumdb({ records: fixtureRecords(fixtures) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A transport to `db` that counts requests by path and can rewrite answers. */
export function transportTo(db: GoSumdb, rewrite?: (path: string, body: Buffer) => Buffer) {
  const http = httpSumdbTransport(db.url);
  const counts = new Map<string, number>();
  const transport: SumdbTransport = {
    async get(path) {
      counts.set(path, (counts.get(path) ?? 0) + 1);
      const body = await http.get(path);
      return rewrite === undefined ? body : rewrite(path, Buffer.from(body));
    },
  };
  return { transport, counts };
}

/** A transport to `db` whose lookups all answer `answer` (a stale answer recorded earlier). */
export function staleLookups(db: GoSumdb, answer: Buffer): SumdbTransport {
  const live = transportTo(db).transport;
  return { get: async (path) => (path.startsWith('lookup/') ? answer : live.get(path)) };
}

/** A client of `db` with its key. */
export function client(
  db: GoSumdb,
  transport: SumdbTransport = transportTo(db).transport,
  treeHeads: TreeHeadStore = memoryTreeHeads(),
): SumdbClient {
  return new SumdbClient({ name: db.name, verifierKey: db.key, transport, treeHeads });
}

/** The error a promise rejects with (a ModgateError), or a failure if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<ModgateError> {
  try {
    await p;
  } catch (err) {
    if (isModgateError(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/** The tree size a signed tree note states. */
export const sizeOf = (note: string | undefined): number => Number(note?.split('\n')[1]);
