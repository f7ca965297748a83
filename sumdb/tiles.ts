/**
 * Hash tiles and reading hashes through them, a port of
 * golang.org/x/mod/sumdb/tlog (v0.7.0, tile.go). A tile of height h holds
 * 2^h consecutive hashes of one level (a partial tile `.p/<w>` the first w);
 * the hashes above them inside the tile are recomputed, never sent.
 * https://research.swtch.com/tlog#serving_tiles
 *
 * {@link tileHashReader} is tlog.TileHashReader: before it answers, it
 * recomputes the tree hash from the tiles it fetched and checks every lower
 * tile against its parent, so a hash it returns is proved to be in the tree.
 */
import { ModgateError } from '../core/errors.ts';
import {
  HASH_SIZE,
  type Hash,
  type HashReader,
  nodeHash,
  shl,
  shr,
  splitStoredHashIndex,
  storedHashIndex,
  subTreeIndex,
  type Tree,
} from './tlog-hash.ts';

/** The tile height sum.golang.org serves and the go command reads. */
export const TILE_HEIGHT = 8;

/** Digits per path element of a tile number (x/mod's pathBase). */
const PATH_BASE = 1000;

/** The most tile levels a log of 2^53 records has at height 1; bounds the parent walk. */
const MAX_LEVELS = 64;

/** Tile coordinates: height, level (in tiles), number at that level, width in hashes. */
export interface Tile {
  readonly h: number;
  readonly l: number;
  readonly n: number;
  readonly w: number;
}

/** Reads tiles' data, `w × 32` bytes each, and keeps the ones a reader has authenticated. */
export interface TileSource {
  readTiles(tiles: readonly Tile[]): Promise<Buffer[]>;
  /** Called with tiles whose data proved to be part of a signed tree. */
  saveTiles(tiles: readonly Tile[], data: readonly Buffer[]): void;
}

/** The path of a tile below the database root (tlog's Tile.Path), e.g. `tile/8/0/x001/234.p/5`. */
export function tilePath(t: Tile): string {
  let n = t.n;
  let digits = String(n % PATH_BASE).padStart(3, '0');
  while (n >= PATH_BASE) {
    n = Math.floor(n / PATH_BASE);
    digits = `x${String(n % PATH_BASE).padStart(3, '0')}/${digits}`;
  }
  const partial = t.w === shl(1, t.h) ? '' : `.p/${t.w}`;
  return `tile/${t.h}/${t.l}/${digits}${partial}`;
}

/** The tile of height `h` storing hash `index`, and where in its data that hash's subtree lies (tlog's tileForIndex). */
export function tileForIndex(h: number, index: number): { tile: Tile; start: number; end: number } {
  const split = splitStoredHashIndex(index);
  const l = Math.floor(split.level / h);
  const level = split.level - l * h;
  const n = shr(shl(split.n, level), h);
  const within = split.n - shr(shl(n, h), level);
  const tile = { h, l, n, w: shl(within + 1, level) };
  return { tile, start: shl(within, level) * HASH_SIZE, end: shl(within + 1, level) * HASH_SIZE };
}

/** The subtree hash of the 2^k hashes in `data` (tlog's tileHash). */
export function tileHash(data: Buffer): Hash {
  if (data.length === HASH_SIZE) return data;
  const half = data.length / 2;
  return nodeHash(tileHash(data.subarray(0, half)), tileHash(data.subarray(half)));
}

/** The hash at `index` from tile `t`'s data, when `t` holds it (tlog.HashFromTile). */
export function hashFromTile(t: Tile, data: Buffer, index: number): Hash {
  if (t.h < 1 || t.h > 30 || t.l < 0 || t.l >= 64 || t.w < 1 || t.w > shl(1, t.h)) {
    throw new ModgateError('sumdb.bad_response', `invalid tile ${tilePath(t)}`);
  }
  if (data.length < t.w * HASH_SIZE) {
    throw new ModgateError('sumdb.bad_response', `data len ${data.length} too short for tile ${tilePath(t)}`);
  }
  const { tile, start, end } = tileForIndex(t.h, index);
  if (t.l !== tile.l || t.n !== tile.n || t.w < tile.w) {
    throw new ModgateError('sumdb.bad_response', `index ${index} is in ${tilePath(tile)} not ${tilePath(t)}`);
  }
  return tileHash(data.subarray(start, end));
}

/** `t`'s `k`th parent among the tiles of a tree of `size` records, undefined when there is none (tlog's tileParent). */
export function tileParent(t: Tile, k: number, size: number): Tile | undefined {
  const l = t.l + k;
  const n = shr(t.n, k * t.h);
  const first = shl(n, t.h);
  const max = shr(size, l * t.h);
  let w = shl(1, t.h);
  if (first + w >= max) {
    if (first >= max) return undefined;
    w = max - first;
  }
  return { h: t.h, l, n, w };
}

function inconsistent(): ModgateError {
  return new ModgateError('sumdb.bad_response', 'downloaded inconsistent tile');
}

/**
 * A HashReader for `tree` that reads tiles from `source` and answers only
 * after the tiles prove to hold `tree`'s hash (tlog.TileHashReader).
 */
export function tileHashReader(tree: Tree, height: number, source: TileSource): HashReader {
  return async (indexes) => {
    const order = new Map<string, number>();
    const tiles: Tile[] = [];
    const add = (t: Tile): number => {
      order.set(tilePath(t), tiles.length);
      tiles.push(t);
      return tiles.length - 1;
    };
    // The tiles that recompute the tree hash; once it matches, they are authenticated.
    const stx = subTreeIndex(0, tree.n);
    const stxOrder = stx.map((x) => {
      const t = tileParent(tileForIndex(height, x).tile, 0, tree.n) as Tile;
      return order.get(tilePath(t)) ?? add(t);
    });
    const stxTiles = tiles.length;
    // The tiles holding the indexes, with the parents that authenticate them, parents first.
    const indexOrder = indexes.map((x) => {
      if (x >= storedHashIndex(0, tree.n))
        throw new ModgateError('sumdb.bad_response', 'indexes not in tree');
      const tile = tileForIndex(height, x).tile;
      let k = 0;
      for (; k < MAX_LEVELS; k++) {
        const p = tileParent(tile, k, tree.n);
        if (p !== undefined && order.has(tilePath(p))) break;
      }
      if (k === MAX_LEVELS) throw new ModgateError('internal', `bad math in tileHashReader: ${tree.n} ${x}`);
      if (k === 0) return order.get(tilePath(tileParent(tile, 0, tree.n) as Tile)) as number;
      let at = -1;
      for (k--; k >= 0; k--) {
        const p = tileParent(tile, k, tree.n) as Tile;
        if (p.w !== shl(1, p.h))
          throw new ModgateError('internal', `bad math in tileHashReader: ${tree.n} ${x}`);
        at = add(p);
      }
      return at;
    });

    const data = await source.readTiles(tiles);
    if (data.length !== tiles.length)
      throw new ModgateError('internal', 'tile source returned the wrong count');
    tiles.forEach((t, i) => {
      if (data[i]?.length !== t.w * HASH_SIZE) {
        throw new ModgateError(
          'sumdb.bad_response',
          `tile ${tilePath(t)} has ${data[i]?.length} bytes, not ${t.w * HASH_SIZE}`,
        );
      }
    });
    const tileData = (i: number): Buffer => data[i] as Buffer;

    // The tree hash first, then each lower tile against its parent.
    const last = stx.length - 1;
    let th = hashFromTile(
      tiles[stxOrder[last] as number] as Tile,
      tileData(stxOrder[last] as number),
      stx[last] as number,
    );
    for (let i = last - 1; i >= 0; i--) {
      const j = stxOrder[i] as number;
      th = nodeHash(hashFromTile(tiles[j] as Tile, tileData(j), stx[i] as number), th);
    }
    if (!th.equals(tree.hash)) throw inconsistent();
    // Every tile after the tree-hash ones, as newer x/mod does (go 1.26's vendored copy): x/mod 0.7.0
    // started at len(stx) and left index tiles unchecked when subtree hashes shared a tile.
    for (let i = stxTiles; i < tiles.length; i++) {
      const t = tiles[i] as Tile;
      const p = tileParent(t, 1, tree.n);
      const j = p === undefined ? undefined : order.get(tilePath(p));
      if (p === undefined || j === undefined)
        throw new ModgateError('internal', `lost parent of ${tilePath(t)}`);
      const expected = hashFromTile(p, tileData(j), storedHashIndex(p.l * p.h, t.n));
      if (!expected.equals(tileHash(tileData(i)))) throw inconsistent();
    }
    source.saveTiles(tiles, data);
    return indexes.map((x, i) => {
      const j = indexOrder[i] as number;
      return hashFromTile(tiles[j] as Tile, tileData(j), x);
    });
  };
}
