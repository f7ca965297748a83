import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes read from a kept file at a time: fewer, larger chunks cost less per MB than the 64 KiB default. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Why a kept file was not served: its bytes no longer hash to its name. */
export class ChangedOnDisk extends Error {
  readonly path: string;

  constructor(path: string) {
    super(`kept file ${path} changed on disk`);
    this.path = path;
  }
}

/**
 * Passes a file's bytes through while hashing them (SHA-256), and holds the
 * last chunk back until the end: only when the whole file hashes to
 * `sha256` does the last chunk go out; otherwise the stream fails with
 * {@link ChangedOnDisk} and the reader never has the whole of a changed file
 * (with a `content-length` set, a client sees a cut download, never a
 * complete wrong one).
 */
export class CheckedRead extends Transform {
  readonly #hash = createHash('sha256');
  readonly #expected: string;
  readonly #path: string;
  #held: Buffer | undefined;

  constructor(path: string, sha256: string) {
    super();
    this.#path = path;
    this.#expected = sha256;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    if (this.#held !== undefined) this.push(this.#held);
    this.#held = chunk;
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.#hash.digest('hex') !== this.#expected) {
      done(new ChangedOnDisk(this.#path));
      return;
    }
    if (this.#held !== undefined) this.push(this.#held);
    done();
  }
}

/** The file behind `handle` read through a {@link CheckedRead}; the handle is closed when reading ends. */
export function readChecked(handle: FileHandle, path: string, sha256: string, size: number): CheckedRead {
  const checked = new CheckedRead(path, sha256);
  // `end` known: no read allocates more than what is left of the file.
  const source = handle.createReadStream({
    autoClose: true,
    highWaterMark: READ_CHUNK_BYTES,
    start: 0,
    end: Math.max(0, size - 1),
  });
  source.once('error', (err) => checked.destroy(err));
  checked.once('close', () => source.destroy());
  return source.pipe(checked);
}
