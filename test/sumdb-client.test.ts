/**
 * SumdbClient (sumdb/client.ts) against harness/go-sumdb, the checksum
 * database built from x/mod's own server, holding the fixture modules'
 * records: it returns what go.sum holds, and refuses what the go command
 * refuses (a fork, a lie, a bad signature, a wrong key, tiles that do not
 * hash up). Tree heads over time: sumdb-tree-heads.test.ts.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChecksumDatabase } from '../gateway/integrity/integrity.ts';
import { GO, initModule, makeGoEnv, runGo } from '../harness/go.ts';
import { startGoSumdb } from '../harness/go-sumdb.ts';
import { SumdbClient } from '../sumdb/client.ts';
import { keyHashOf } from '../sumdb/note.ts';
import { recordHash } from '../sumdb/tlog-hash.ts';
import {
  client,
  fixtureFolder,
  rejection,
  sizeOf,
  staleLookups,
  transportTo,
  withDb,
} from './support/sumdb-client-kit.ts';
import { fixtureRecords } from './support/sumdb-fixtures.ts';
import { memoryTreeHeads } from './support/tree-heads.ts';

const folder = fixtureFolder();

describe("SumdbClient against x/mod's checksum database", () => {
  it('returns the h1 hashes of every fixture version, the ones go.sum holds', async () => {
    await withDb(folder.set, async (db) => {
      const c = client(db);
      for (const m of folder.set.modules) {
        for (const v of m.versions) {
          expect(await c.lookup(m.path, v.version)).toEqual({ zip: v.sum, mod: v.goModSum });
        }
      }
      // And what the go command itself wrote into go.sum from the same database.
      const goEnv = await makeGoEnv(join(folder.dir, 'go'), { goproxy: folder.set.goproxy });
      goEnv.env.GOSUMDB = db.gosumdb;
      const work = join(folder.dir, 'go', 'work');
      await initModule(work, 'example.com/consumer');
      const r = await runGo(['get', 'github.com/Acme/Tool@v1.0.0'], { env: goEnv.env, cwd: work, go: GO });
      expect(r.code).toBe(0);
      const got = await c.lookup('github.com/Acme/Tool', 'v1.0.0');
      expect(await readFile(join(work, 'go.sum'), 'utf8')).toBe(
        `github.com/Acme/Tool v1.0.0 ${got.zip}\ngithub.com/Acme/Tool v1.0.0/go.mod ${got.mod}\n`,
      );
    });
  });

  it('answers upstream.not_found for a module version the database does not hold', async () => {
    await withDb(folder.set, async (db) => {
      expect((await rejection(client(db).lookup('example.com/hello', 'v9.9.9'))).code).toBe(
        'upstream.not_found',
      );
    });
  });

  it('refuses an authentic record of another version than the one asked', async () => {
    await withDb(folder.set, async (db) => {
      const { transport } = transportTo(db);
      const other = await transport.get('lookup/example.com/hello@v1.0.0');
      const swapped = staleLookups(db, other);
      const err = await rejection(client(db, swapped).lookup('example.com/hello', 'v1.1.0'));
      expect([err.code, err.message]).toEqual([
        'sumdb.bad_response',
        `checksum database ${db.name}: example.com/hello@v1.1.0: record is not for example.com/hello@v1.1.0: "example.com/hello v1.0.0 ${folder.set.modules[0]?.versions[0]?.sum}"`,
      ]);
    });
  });

  it('answers sumdb.unavailable when the database cannot be asked, and is the ChecksumDatabase gateway/integrity asks', async () => {
    const db = await startGoSumdb();
    const c: ChecksumDatabase = client(db);
    await db.close();
    expect(c.name).toBe(db.name);
    expect((await rejection(c.lookup('example.com/hello', 'v1.0.0'))).code).toBe('sumdb.unavailable');
  });

  it('refuses a forked log after accepting a head of the first, also in a new client on the same store', async () => {
    await withDb(folder.set, async (db) => {
      const store = memoryTreeHeads();
      await client(db, undefined, store).lookup('example.com/hello', 'v1.0.0');
      const accepted = store.value;
      expect(sizeOf(accepted)).toBe(fixtureRecords(folder.set).length);
      await db.setMode('fork');
      for (const c of [client(db, undefined, store), client(db, undefined, store)]) {
        const err = await rejection(c.lookup('example.com/hello', 'v1.1.0'));
        expect(err.code).toBe('sumdb.forked');
        const n = fixtureRecords(folder.set).length;
        expect(err.message).toBe(
          `SECURITY ERROR: checksum database ${db.name} misbehaved: its signed tree of size ${n + 1} is inconsistent with the accepted tree of size ${n}`,
        );
        expect(err.detail).toMatchObject({
          database: db.name,
          acceptedNote: accepted,
          acceptedSize: n,
          servedSize: n + 1,
        });
        expect(sizeOf(err.detail?.servedNote as string)).toBe(n + 1);
      }
      expect(store.value).toBe(accepted);
    });
  });

  it.each([
    ['lie', 'example.com/lib/v2', 'v2.0.0', 'cannot authenticate record data in server response'],
    ['badtiles', 'example.com/old', 'v3.0.0+incompatible', 'downloaded inconsistent tile'],
  ] as const)('refuses the database in mode %s', async (mode, path, version, reason) => {
    await withDb(folder.set, async (db) => {
      await db.setMode(mode);
      const err = await rejection(client(db).lookup(path, version));
      expect([err.code, err.message]).toEqual([
        'sumdb.bad_response',
        `checksum database ${db.name}: ${path}@${version}: ${reason}`,
      ]);
    });
  });

  it('refuses a tree head whose signature does not verify', async () => {
    await withDb(folder.set, async (db) => {
      const { transport } = transportTo(db, (path, body) => {
        if (!path.startsWith('lookup/')) return body;
        const text = body.toString();
        const at = text.lastIndexOf(' ') + 10; // inside the signature, past the key hash
        return Buffer.from(text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1));
      });
      const err = await rejection(client(db, transport).lookup('example.com/hello', 'v1.0.0'));
      expect(err.code).toBe('sumdb.bad_response');
      expect(err.message).toMatch(
        /: reading tree note: invalid signature for key sum\.modgate\.test\+[0-9a-f]{8}$/,
      );
    });
  });

  it('refuses the database when it signs with another key of the same name; refuses a key of another name at construction', async () => {
    await withDb(folder.set, async (db) => {
      const raw = Buffer.from(
        generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x as string,
        'base64url',
      );
      const key = Buffer.concat([Buffer.from([1]), raw]);
      const other = `${db.name}+${keyHashOf(db.name, key).toString(16).padStart(8, '0')}+${key.toString('base64')}`;
      const c = new SumdbClient({
        name: db.name,
        verifierKey: other,
        transport: transportTo(db).transport,
        treeHeads: memoryTreeHeads(),
      });
      const err = await rejection(c.lookup('example.com/hello', 'v1.0.0'));
      expect(err.code).toBe('sumdb.bad_response');
      expect(err.message).toMatch(/reading tree note: note has no verifiable signatures$/);
      expect(
        () =>
          new SumdbClient({
            name: 'sum.golang.org',
            verifierKey: db.key,
            transport: transportTo(db).transport,
            treeHeads: memoryTreeHeads(),
          }),
      ).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    });
  });

  it('refuses a forged level-0 tile that a lie hashes into (x/mod 0.7.0 took it when subtree hashes share a tile)', async () => {
    await withDb(folder.set, async (db) => {
      await db.fill(300);
      const id = 2; // a fixture record, in the full tile 8/0/000 of a tree of 300 records
      let lie: Buffer | undefined;
      const { transport } = transportTo(db, (path, body) => {
        if (path.startsWith('lookup/')) {
          const text = body.toString();
          const forged = text.replace(/ h1:[^\n]*/, ' h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
          lie = Buffer.from(forged.slice(forged.indexOf('\n') + 1, forged.indexOf('\n\n') + 1));
          return Buffer.from(forged);
        }
        if (path === 'tile/8/0/000' && lie !== undefined) recordHash(lie).copy(body, id * 32);
        return body;
      });
      const target = fixtureRecords(folder.set)[id];
      const err = await rejection(client(db, transport).lookup(target?.path ?? '', target?.version ?? ''));
      expect([err.code, err.message.endsWith(': downloaded inconsistent tile')]).toEqual([
        'sumdb.bad_response',
        true,
      ]);
    });
  });
});
