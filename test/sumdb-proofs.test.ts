/**
 * Inclusion and consistency proofs (sumdb/proofs.ts) read through tile hash
 * readers (sumdb/tiles.ts) from the tiles of a log that x/mod's own server
 * keeps (harness/go-sumdb, filled to 2000 records): for random tree sizes and
 * record indexes they verify against the heads the harness signs, and
 * flipping any byte of any tile they read makes verification fail.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { type GoSumdb, httpSumdbTransport, startGoSumdb } from '../harness/go-sumdb.ts';
import { type NoteVerifier, openNote, parseVerifierKey } from '../sumdb/note.ts';
import { checkRecord, checkTree, proveRecord, proveTree } from '../sumdb/proofs.ts';
import { TILE_HEIGHT, type Tile, type TileSource, tileHashReader, tilePath } from '../sumdb/tiles.ts';
import {
  parseTree,
  recordHash,
  splitStoredHashIndex,
  storedHashIndex,
  type Tree,
} from '../sumdb/tlog-hash.ts';

/** Records in the harness log; tree sizes are drawn from 1..MAX_SIZE. */
const MAX_SIZE = 2000;
/** fast-check runs per property (each reads a few tiles over loopback). */
const RUNS = 100;

let db: GoSumdb;
let verifier: NoteVerifier;
let get: (path: string) => Promise<Buffer>;

beforeAll(async () => {
  db = await startGoSumdb();
  await db.fill(MAX_SIZE);
  verifier = parseVerifierKey(db.key);
  const transport = httpSumdbTransport(db.url);
  get = (path) => transport.get(path);
});

afterAll(async () => {
  await db?.close();
});

async function head(n: number): Promise<Tree> {
  return parseTree(openNote(await db.signedHead(n), [verifier]).text);
}

/** The filler record main.go writes at index `i`. */
function fillerRecord(i: number): Buffer {
  const path = `example.com/fill/m${i}`;
  const h = createHash('sha256').update(path).digest('base64');
  return Buffer.from(`${path} v1.0.0 h1:${h}\n${path} v1.0.0/go.mod h1:${h}\n`);
}

/** A tile source straight from the harness that notes the tiles read and can flip one byte of one of them. */
function harnessTiles(flip?: { tile: number; byte: number }): TileSource & { read: Tile[] } {
  const read: Tile[] = [];
  return {
    read,
    async readTiles(tiles) {
      return Promise.all(
        tiles.map(async (t) => {
          const at = read.push(t) - 1;
          const data = Buffer.from(await get(tilePath(t)));
          if (flip !== undefined && flip.tile === at) {
            const b = flip.byte % data.length;
            data[b] = (data[b] as number) ^ 0x01;
          }
          return data;
        }),
      );
    },
    saveTiles() {},
  };
}

/** Whether a proof run refused: the reader threw sumdb.bad_response or the check said no. */
async function refuses(run: () => Promise<boolean>): Promise<boolean> {
  try {
    return !(await run());
  } catch (err) {
    if (isModgateError(err, 'sumdb.bad_response')) return true;
    throw err;
  }
}

describe('stored hash indexes', () => {
  it('splitStoredHashIndex inverts storedHashIndex', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 2 ** 30 }), (level, n) => {
        expect(splitStoredHashIndex(storedHashIndex(level, n))).toEqual({ level, n });
      }),
      { numRuns: 500 },
    );
  });
});

describe("proofs from the tiles of x/mod's server", () => {
  const sizeAndIndex = fc
    .integer({ min: 1, max: MAX_SIZE })
    .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));

  it('an inclusion proof of record i in the tree of size n verifies; a flipped tile byte fails it', async () => {
    await fc.assert(
      fc.asyncProperty(sizeAndIndex, fc.nat(), fc.nat(), async ([n, i], tilePick, byte) => {
        const tree = await head(n);
        const prove = async (source: TileSource) => {
          const proof = await proveRecord(n, i, tileHashReader(tree, TILE_HEIGHT, source));
          return checkRecord(proof, n, tree.hash, i, recordHash(fillerRecord(i)));
        };
        const clean = harnessTiles();
        expect(await prove(clean)).toBe(true);
        expect(
          checkRecord(
            await proveRecord(n, i, tileHashReader(tree, TILE_HEIGHT, harnessTiles())),
            n,
            tree.hash,
            i,
            recordHash(Buffer.from('forged\n')),
          ),
        ).toBe(false);
        if (clean.read.length === 0) return; // a tree of one record: its hash is the record's
        const flip = { tile: tilePick % clean.read.length, byte };
        expect(await refuses(() => prove(harnessTiles(flip)))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('a consistency proof from size m to size n verifies; a flipped tile byte or another old head fails it', async () => {
    const sizes = fc
      .integer({ min: 1, max: MAX_SIZE })
      .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));
    await fc.assert(
      fc.asyncProperty(sizes, fc.nat(), fc.nat(), async ([m, n], tilePick, byte) => {
        const [older, newer] = await Promise.all([head(m), head(n)]);
        const prove = async (source: TileSource, old = older) => {
          const proof = await proveTree(n, m, tileHashReader(newer, TILE_HEIGHT, source));
          return checkTree(proof, n, newer.hash, m, old.hash);
        };
        const clean = harnessTiles();
        expect(await prove(clean)).toBe(true);
        if (m > 1) expect(await prove(harnessTiles(), await head(m - 1))).toBe(false);
        if (clean.read.length === 0) return; // m = n: nothing to read
        const flip = { tile: tilePick % clean.read.length, byte };
        expect(await refuses(() => prove(harnessTiles(flip)))).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
