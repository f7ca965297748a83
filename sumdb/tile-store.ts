/**
 * Where the client's tiles come from: a bounded in-memory cache of tiles
 * already authenticated against a signed tree head, else the database, with
 * concurrent readers of one tile sharing a single fetch. Fetched data is
 * cached only when a tile hash reader has authenticated it (the go
 * command's SaveTiles: https://research.swtch.com/tlog#authenticating_tiles).
 * A partial tile the database no longer serves is read as the prefix of the
 * full tile, as x/mod's client does.
 *
 * {@link TileStore.fresh} reads past the cache: tiles authenticated against
 * one signed head that do not hash up to another are either bad fresh tiles
 * or evidence of a fork, and only tiles all fetched for the new head tell
 * which (x/mod's client, with tiles on disk, reports the fork as an
 * inconsistent tile instead).
 */
import { BoundedMap } from '../core/bounded-map.ts';
import { isModgateError, ModgateError } from '../core/errors.ts';
import { type Tile, type TileSource, tilePath } from './tiles.ts';
import { HASH_SIZE, shl } from './tlog-hash.ts';

/** Reads a path below the database root (the client's SumdbTransport). */
export type FetchPath = (path: string) => Promise<Buffer>;

/** Authenticated tiles kept by default (entries; a full tile of height 8 is 8 KiB, so at most 32 MiB). */
export const DEFAULT_TILE_CACHE_ENTRIES = 4096;

export class TileStore implements TileSource {
  readonly #fetch: FetchPath;
  readonly #verified: BoundedMap<string, Buffer>;
  readonly #inFlight = new Map<string, Promise<Buffer>>();

  constructor(fetch: FetchPath, maxEntries = DEFAULT_TILE_CACHE_ENTRIES) {
    this.#fetch = fetch;
    this.#verified = new BoundedMap(maxEntries);
  }

  readTiles(tiles: readonly Tile[]): Promise<Buffer[]> {
    return Promise.all(tiles.map((t) => this.#read(t)));
  }

  /** The same store, reading every tile from the database. */
  readonly fresh: TileSource = {
    readTiles: (tiles) => Promise.all(tiles.map((t) => this.#fetchTile(t))),
    saveTiles: (tiles, data) => this.saveTiles(tiles, data),
  };

  saveTiles(tiles: readonly Tile[], data: readonly Buffer[]): void {
    tiles.forEach((t, i) => {
      const path = tilePath(t);
      if (!this.#verified.has(path)) this.#verified.set(path, data[i] as Buffer);
    });
  }

  /** How many authenticated tiles the cache holds (for tests). */
  get cachedTiles(): number {
    return this.#verified.size;
  }

  async #read(t: Tile): Promise<Buffer> {
    const full: Tile = { ...t, w: shl(1, t.h) };
    const cached = this.#verified.use(tilePath(t)) ?? this.#verified.use(tilePath(full));
    if (cached !== undefined) return cached.subarray(0, t.w * HASH_SIZE);
    return this.#fetchTile(t);
  }

  async #fetchTile(t: Tile): Promise<Buffer> {
    const full: Tile = { ...t, w: shl(1, t.h) };
    if (t.w === full.w) return this.#shared(tilePath(t));
    try {
      return await this.#shared(tilePath(t));
    } catch (err) {
      // The partial tile may be gone because the full one now exists.
      try {
        return (await this.#shared(tilePath(full))).subarray(0, t.w * HASH_SIZE);
      } catch {
        throw err;
      }
    }
  }

  /** One fetch per path at a time; its result is not kept (it is not authenticated yet). */
  #shared(path: string): Promise<Buffer> {
    let pending = this.#inFlight.get(path);
    if (pending === undefined) {
      pending = this.#fetch(path)
        .catch((err: unknown) => {
          throw isModgateError(err)
            ? err
            : new ModgateError('sumdb.unavailable', `checksum database: cannot fetch ${path}`, {
                cause: err,
              });
        })
        .finally(() => this.#inFlight.delete(path));
      this.#inFlight.set(path, pending);
    }
    return pending;
  }
}
