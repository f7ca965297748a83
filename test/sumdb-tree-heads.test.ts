/**
 * SumdbClient's tree heads over time, against harness/go-sumdb: a tree that
 * grows between lookups is accepted by a consistency proof from the smaller
 * head to the bigger, a stale (smaller) head is accepted by one the other
 * way, and the bigger head is what stays in the shared store, also when two
 * clients race on it; concurrent lookups share tile fetches.
 */
import { describe, expect, it } from 'vitest';
import {
  client,
  fixtureFolder,
  sizeOf,
  staleLookups,
  transportTo,
  withDb,
} from './support/sumdb-client-kit.ts';
import { fixtureRecords } from './support/sumdb-fixtures.ts';
import { memoryTreeHeads } from './support/tree-heads.ts';

const folder = fixtureFolder();

describe('SumdbClient tree heads', () => {
  it('grows the tree between lookups and keeps the bigger head, also when later served a smaller one', async () => {
    await withDb(folder.set, async (db) => {
      const store = memoryTreeHeads();
      const c = client(db, undefined, store);
      const n0 = fixtureRecords(folder.set).length;
      const recorded: Buffer[] = [];
      const { transport } = transportTo(db, (path, body) => {
        if (path.startsWith('lookup/')) recorded.push(body);
        return body;
      });
      await client(db, transport, memoryTreeHeads()).lookup('example.com/hello', 'v1.0.0'); // an answer of size n0
      await c.lookup('example.com/hello', 'v1.0.0');
      expect(sizeOf(store.value)).toBe(n0);
      await db.fill(700);
      await db.add(
        'example.com/new',
        'v1.0.0',
        'example.com/new v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nexample.com/new v1.0.0/go.mod h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n',
      );
      await c.lookup('example.com/new', 'v1.0.0');
      expect(sizeOf(store.value)).toBe(701);
      const bigger = store.value;
      // A stale answer (an old head): consistent with the accepted one, so accepted, and the bigger head stays.
      expect(
        await client(db, staleLookups(db, recorded[0] as Buffer), store).lookup(
          'example.com/hello',
          'v1.0.0',
        ),
      ).toMatchObject({
        zip: expect.stringMatching(/^h1:/),
      });
      expect(store.value).toBe(bigger);
    });
  });

  it('ends a store race between two clients with the bigger head stored, whichever loses', async () => {
    await withDb(folder.set, async (db) => {
      const store = memoryTreeHeads();
      const a = client(db, undefined, store);
      const b = client(db, undefined, store);
      await a.lookup('example.com/hello', 'v1.0.0');
      await b.lookup('example.com/hello', 'v1.0.0');
      // a loses: while a swaps to 300, b swaps to 600.
      await db.fill(300);
      store.beforeNextSwap(async () => {
        await db.fill(600);
        await b.lookup('example.com/hello', 'v1.1.0');
      });
      await a.lookup('example.com/hello', 'v1.1.0');
      expect([sizeOf(store.value), store.conflicts]).toEqual([600, 1]);
      // a wins over a smaller head: while a swaps to 900, another process swaps to a stale answer of 750; a then writes 900 over it.
      await db.fill(750);
      const stale750 = await transportTo(db).transport.get('lookup/example.com/hello@v1.2.0');
      await db.fill(900);
      store.beforeNextSwap(async () => {
        await client(db, staleLookups(db, stale750), store).lookup('example.com/hello', 'v1.2.0');
        expect(sizeOf(store.value)).toBe(750);
      });
      await a.lookup('example.com/hello', 'v1.2.0');
      expect(store.conflicts).toBe(2);
      expect(sizeOf(store.value)).toBe(900);
    });
  });

  it('shares tile fetches between concurrent lookups and fetches each tile once', async () => {
    await withDb(folder.set, async (db) => {
      await db.fill(1000);
      const { transport, counts } = transportTo(db);
      const c = client(db, transport);
      const records = fixtureRecords(folder.set);
      const answers = await Promise.all(records.map((r) => c.lookup(r.path, r.version)));
      expect(answers).toHaveLength(records.length);
      const tiles = [...counts].filter(([path]) => path.startsWith('tile/'));
      expect(tiles.length).toBeGreaterThan(1);
      expect(tiles.filter(([, n]) => n > 1)).toEqual([]);
    });
  });
});
