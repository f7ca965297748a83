import { createHash, randomBytes } from 'node:crypto';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ModgateError } from '../../core/errors.ts';
import { releaseChunk } from '../../core/release-chunk.ts';
import { type CheckedRead, readChecked } from './checked-read.ts';

/** A body spooled to a file of the cache's, not kept yet. */
export interface Spooled {
  readonly path: string;
  readonly size: number;
  /** SHA-256 of the bytes, hex. */
  readonly sha256: string;
}

/** A kept file, open: read it (checked against its hash) or close it. */
export interface KeptFile {
  readonly size: number;
  readonly sha256: string;
  /** Its bytes, the last chunk held back until they hash right; closes the file when done. */
  read(): CheckedRead;
  close(): Promise<void>;
}

/** Spool files older than this are a crashed process's leftovers, removed at open (ms). */
const STALE_SPOOL_MS = 3_600_000;
/** Share of `maxBytes` eviction brings the cache down to (so it does not run at every keep). */
const EVICT_TO = 0.9;
/** Bytes kept by this process since the last scan that make it scan again (other processes keep too). */
const RESCAN_SHARE = 1 / 16;

/**
 * Verified `.mod` and `.zip` files on local disk, bounded in size.
 *
 * Content-addressed: `blobs/<sha256>` holds the bytes, `index/<sha256 of the
 * key>` is a symbolic link to the blob (made in `tmp/` and renamed into
 * place, so a reader sees the old link, the new one, or none). Bodies are
 * spooled to `tmp/` while they arrive, never held in memory. Every read is
 * checked against the blob's name (see CheckedRead); a blob that changed is
 * dropped. Least recently used goes first: finding a file touches its blob's
 * modification time, and eviction removes the oldest blobs until the cache
 * is under 90 % of `maxBytes`. Several processes may share one folder: every
 * step is a rename or an unlink, an open file stays readable after another
 * process evicted it, and each process rescans the folder's real size once
 * it has itself kept 1/16 of `maxBytes` since its last scan.
 */
export class VerifiedCache {
  readonly #dir: string;
  readonly #maxBytes: number;
  #sinceScan = 0;
  #scanning: Promise<void> | undefined;

  private constructor(dir: string, maxBytes: number) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
  }

  /** Opens (creating) the cache in `dir`, evicting down to `maxBytes` if it holds more. */
  static async open(dir: string, maxBytes: number): Promise<VerifiedCache> {
    await Promise.all(['blobs', 'index', 'tmp'].map((d) => mkdir(join(dir, d), { recursive: true })));
    const tmp = join(dir, 'tmp');
    for (const name of await readdir(tmp)) {
      const info = await stat(join(tmp, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_SPOOL_MS) await rm(join(tmp, name), { force: true });
    }
    const cache = new VerifiedCache(dir, maxBytes);
    await cache.evict();
    return cache;
  }

  /**
   * Writes `body` to a file of the cache, hashing it on the way. More than
   * `limit` bytes fail with `upstream.bad_response`; the file is removed on failure.
   */
  async spool(body: Readable, limit: number): Promise<Spooled> {
    const path = join(this.#dir, 'tmp', `${randomBytes(12).toString('hex')}.spool`);
    const hash = createHash('sha256');
    let size = 0;
    // Opened before the body flows, so the file exists (and is removed) however early the body fails.
    const handle = await open(path, 'wx', 0o600);
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw new ModgateError('upstream.bad_response', `body over ${limit} bytes`);
        hash.update(chunk);
        await writeAll(handle, chunk);
        // Written and hashed: its memory goes back now, not at the next GC (bench/integrity: RSS).
        releaseChunk(chunk);
      }
      await handle.close();
    } catch (err) {
      await handle.close().catch(() => undefined);
      await rm(path, { force: true });
      throw err;
    }
    return { path, size, sha256: hash.digest('hex') };
  }

  /** Removes a spooled file that is not to be kept. */
  async discard(spooled: Spooled): Promise<void> {
    await rm(spooled.path, { force: true });
  }

  /** Keeps a spooled file under `key` (e.g. `example.org/m@v1.0.0.zip`), replacing what the key named. */
  async keep(key: string, spooled: Spooled): Promise<void> {
    const blob = this.#blobPath(spooled.sha256);
    await rename(spooled.path, blob);
    const link = join(this.#dir, 'tmp', `${randomBytes(12).toString('hex')}.link`);
    await symlink(join('..', 'blobs', spooled.sha256), link);
    await rename(link, this.#indexPath(key));
    this.#sinceScan += spooled.size;
    if (this.#sinceScan >= this.#maxBytes * RESCAN_SHARE) await this.evict();
  }

  /** The file kept under `key`, opened, or undefined (never kept, evicted, or unreadable). */
  async find(key: string): Promise<KeptFile | undefined> {
    const sha256 = await readlink(this.#indexPath(key)).then(blobName, () => undefined);
    if (sha256 === undefined) return undefined;
    const path = this.#blobPath(sha256);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return undefined;
    }
    const { size } = await handle.stat();
    const now = new Date();
    await handle.utimes(now, now).catch(() => undefined);
    return {
      size,
      sha256,
      read: () => {
        const checked = readChecked(handle, path, sha256, size);
        checked.once('error', () => void this.#drop(key, sha256));
        return checked;
      },
      close: () => handle.close(),
    };
  }

  /** Forgets `key` (the blob goes at the next eviction, or now if nothing else names it then). */
  async forget(key: string): Promise<void> {
    await unlink(this.#indexPath(key)).catch(() => undefined);
  }

  /** Scans the folder and removes the least recently used blobs (and links to them) while over the limit. */
  evict(): Promise<void> {
    this.#scanning ??= this.#evict().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  async #evict(): Promise<void> {
    this.#sinceScan = 0;
    const blobsDir = join(this.#dir, 'blobs');
    const blobs = [];
    for (const name of await readdir(blobsDir)) {
      const info = await stat(join(blobsDir, name)).catch(() => undefined);
      if (info?.isFile()) blobs.push({ name, size: info.size, used: info.mtimeMs });
    }
    let total = blobs.reduce((n, b) => n + b.size, 0);
    if (total <= this.#maxBytes) return;
    blobs.sort((a, b) => a.used - b.used);
    const removed = new Set<string>();
    for (const b of blobs) {
      if (total <= this.#maxBytes * EVICT_TO) break;
      await rm(join(blobsDir, b.name), { force: true });
      removed.add(b.name);
      total -= b.size;
    }
    const indexDir = join(this.#dir, 'index');
    for (const name of await readdir(indexDir)) {
      const target = await readlink(join(indexDir, name)).then(blobName, () => undefined);
      if (target === undefined || removed.has(target)) await rm(join(indexDir, name), { force: true });
    }
  }

  /** A blob that failed its check: neither it nor its link is used again. */
  async #drop(key: string, sha256: string): Promise<void> {
    await Promise.all([rm(this.#blobPath(sha256), { force: true }), this.forget(key)]);
  }

  #blobPath(sha256: string): string {
    return join(this.#dir, 'blobs', sha256);
  }

  #indexPath(key: string): string {
    return join(this.#dir, 'index', createHash('sha256').update(key).digest('hex'));
  }
}

/** Writes all of `chunk` at the handle's position (a write may take less than it was given). */
async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

/** The blob a link points to (`../blobs/<sha256>`), if it has that form. */
function blobName(target: string): string | undefined {
  const name = target.slice(target.lastIndexOf('/') + 1);
  return /^[0-9a-f]{64}$/.test(name) ? name : undefined;
}
