import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModgateError } from '../../core/errors.ts';

/** The outcome of {@link DurableRecords.compareAndSet}. */
export interface Swap {
  readonly swapped: boolean;
  /** What the key holds now: the new value when swapped, else the value that stood in the way. */
  readonly current: string | undefined;
}

/**
 * Records that must outlive restarts and be the same for every process:
 * first-seen pins of module hashes, the last checksum-database tree head
 * accepted. Unlike the StateStore (caches, counters), nothing expires and
 * nothing is answered from process-local memory: when the backend cannot be
 * asked, calls reject with `state.unavailable`, and the caller refuses
 * rather than guess.
 */
export interface DurableRecords {
  readonly kind: 'file' | 'redis';
  get(key: string): Promise<string | undefined>;
  /**
   * Sets `key` to `next` if it holds `expected` (undefined: if it holds
   * nothing), atomically across processes. The first of concurrent writers wins.
   */
  compareAndSet(key: string, expected: string | undefined, next: string): Promise<Swap>;
  /** Removes `key`; true when it held a value. */
  delete(key: string): Promise<boolean>;
  /** Keys that start with `prefix`, sorted, at most `limit`. */
  list(prefix: string, limit: number): Promise<string[]>;
  close(): Promise<void>;
}

/** How long a per-key lock may be held before another process takes it over (ms): a crashed holder. */
const STALE_LOCK_MS = 10_000;
/** Age after which a temporary file is a crashed writer's leftover (ms). */
const STALE_TEMP_MS = 60_000;
/** Attempts, 10 ms apart, to take a per-key lock before giving up with `state.unavailable`. */
const LOCK_ATTEMPTS = 200;

/**
 * DurableRecords in a folder of one host: a file per key (named by the key,
 * base64url), written to a temporary file, flushed to disk, then linked or
 * renamed into place. A swap from "absent" is a hard link, which fails if
 * the name exists; a swap from a value holds a lock file for the key while
 * it reads, compares and renames. Processes on this host share it; for
 * several hosts use Redis.
 */
export class FileRecords implements DurableRecords {
  readonly kind = 'file';
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  static async open(dir: string): Promise<FileRecords> {
    const spool = join(dir, 'tmp');
    await mkdir(spool, { recursive: true, mode: 0o700 });
    // Temporary files a crashed process left; another process's are younger than a minute.
    for (const name of await readdir(spool)) {
      const left = await stat(join(spool, name)).catch(() => undefined);
      if (left && Date.now() - left.mtimeMs > STALE_TEMP_MS) await discard(join(spool, name));
    }
    return new FileRecords(dir);
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.#path(key), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw unavailable(this.#dir, err);
    }
  }

  async compareAndSet(key: string, expected: string | undefined, next: string): Promise<Swap> {
    const temp = await this.#written(next);
    try {
      if (expected === undefined) {
        try {
          await link(temp, this.#path(key));
          return { swapped: true, current: next };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(this.#dir, err);
          const current = await this.get(key);
          // Removed in between: try once more through the lock.
          if (current !== undefined) return { swapped: false, current };
        }
      }
      return await this.#locked(key, async () => {
        const current = await this.get(key);
        if (current !== expected) return { swapped: false, current };
        await rename(temp, this.#path(key)).catch((err: unknown) =>
          Promise.reject(unavailable(this.#dir, err)),
        );
        return { swapped: true, current: next };
      });
    } finally {
      await discard(temp);
    }
  }

  async delete(key: string): Promise<boolean> {
    return this.#locked(key, async () => {
      const existed = (await this.get(key)) !== undefined;
      await rm(this.#path(key), { force: true });
      return existed;
    });
  }

  async list(prefix: string, limit: number): Promise<string[]> {
    const names = await readdir(this.#dir).catch((err: unknown) =>
      Promise.reject(unavailable(this.#dir, err)),
    );
    return names
      .filter((n) => n.endsWith('.rec'))
      .map((n) => Buffer.from(n.slice(0, -4), 'base64url').toString('utf8'))
      .filter((k) => k.startsWith(prefix))
      .sort()
      .slice(0, limit);
  }

  async close(): Promise<void> {}

  #path(key: string): string {
    return join(this.#dir, `${Buffer.from(key).toString('base64url')}.rec`);
  }

  /** A temporary file holding `value`, flushed to disk. */
  async #written(value: string): Promise<string> {
    const temp = join(this.#dir, 'tmp', randomBytes(12).toString('hex'));
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(value);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (err) {
      await discard(temp);
      throw unavailable(this.#dir, err);
    }
    return temp;
  }

  /** Runs `body` holding the key's lock file (created exclusively; taken over once stale). */
  async #locked<T>(key: string, body: () => Promise<T>): Promise<T> {
    const lock = `${this.#path(key)}.lock`;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      try {
        await (await open(lock, 'wx', 0o600)).close();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unavailable(this.#dir, err);
        const held = await stat(lock).catch(() => undefined);
        if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await rm(lock, { force: true });
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      try {
        return await body();
      } finally {
        await rm(lock, { force: true });
      }
    }
    throw new ModgateError('state.unavailable', `durable record ${key} stayed locked in ${this.#dir}`);
  }
}

/** Removes a temporary file; one that cannot be removed is left for the next open's clean-up. */
async function discard(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}

function unavailable(dir: string, err: unknown): ModgateError {
  return new ModgateError(
    'state.unavailable',
    `durable records in ${dir}: ${(err as Error)?.message ?? String(err)}`,
  );
}
