/**
 * The edge to yauzl: a zip file on disk opened once, its central directory
 * read entry by entry, byte ranges read as streams. Nothing here trusts the
 * zip: yauzl's errors (and anything it throws) become one ModgateError
 * `upstream.bad_response` naming the module version, at this edge.
 *
 * yauzl runs with its own interpretation switched off (raw names, raw entry
 * data, no size assertions) so that zip-hash.ts decides what the go command
 * would decide (archive/zip's rules, not yauzl's).
 */
import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ModgateError } from '../core/errors.ts';

export type { Entry };

/** Largest chunk a range stream reads at once. */
const RANGE_CHUNK_BYTES = 1024 * 1024;

/** One open zip: entries in central directory order, raw byte ranges, and close. */
export class ZipSource {
  readonly #zip: ZipFile;
  /** The same file opened again for the data: read in large chunks, without yauzl's stream layers. */
  readonly #data: FileHandle;
  readonly #what: string;
  readonly #closed: Promise<void>;
  #next: ((result: Entry | null | Error) => void) | undefined;

  private constructor(zip: ZipFile, data: FileHandle, what: string) {
    this.#zip = zip;
    this.#data = data;
    this.#what = what;
    this.#closed = new Promise((resolve) => zip.once('close', () => resolve()));
    zip.on('entry', (entry: Entry) => this.#settle(entry));
    zip.on('end', () => this.#settle(null));
    zip.on('error', (err: Error) => this.#settle(err));
  }

  /** Opens `path`; `what` (`<module>@<version>`) names the zip in every error. */
  static async open(path: string, what: string): Promise<ZipSource> {
    const data = await open(path, 'r').catch((err: unknown) => {
      throw badZip(what, 'is not a readable zip', err);
    });
    return new Promise<ZipSource>((resolve, reject) => {
      const options = {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false,
        validateEntrySizes: false,
        strictFileNames: false,
      } as const;
      try {
        yauzl.open(path, options, (err, zip) => {
          if (err !== null || zip === undefined) reject(badZip(what, 'is not a readable zip', err));
          else resolve(new ZipSource(zip, data, what));
        });
      } catch (err) {
        reject(badZip(what, 'is not a readable zip', err));
      }
    }).catch(async (err: unknown) => {
      await data.close();
      throw err;
    });
  }

  /** Size of the zip file (bytes). */
  get fileSize(): number {
    return this.#zip.fileSize;
  }

  /** Number of entries the end of central directory record declares. */
  get entryCount(): number {
    return this.#zip.entryCount;
  }

  /** The next central directory entry, or null after the last one the end record counts. */
  nextEntry(): Promise<Entry | null> {
    return new Promise((resolve, reject) => {
      this.#next = (result) =>
        result instanceof Error
          ? reject(badZip(this.#what, 'has a bad central directory', result))
          : resolve(result);
      try {
        this.#zip.readEntry();
      } catch (err) {
        this.#settle(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Where `entry`'s data starts, after its local file header (which must be there, and its data inside the file). */
  dataStart(entry: Entry): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        this.#zip.readLocalFileHeader(entry, { minimal: true }, (err, header) => {
          if (err !== null)
            reject(badZip(this.#what, `has a bad local header for entry ${entryName(entry)}`, err));
          else resolve(header.fileDataStart);
        });
      } catch (err) {
        reject(badZip(this.#what, `has a bad local header for entry ${entryName(entry)}`, err));
      }
    });
  }

  /**
   * The raw bytes [start, start + length) of the file, as a stream (destroy
   * it to stop early), in chunks of up to 1 MiB: with yauzl's own range
   * streams (64 KiB chunks through three stream layers) hashing a zip cost
   * 2.4 ms of CPU per MB, most of it stream overhead.
   */
  async range(start: number, length: number): Promise<Readable> {
    if (start < 0 || length < 0 || start + length > this.#zip.fileSize) {
      throw badZip(
        this.#what,
        'could not be read',
        new RangeError(`range ${start}+${length} outside the file`),
      );
    }
    if (length === 0) return Readable.from([]);
    // By descriptor: a stream on the FileHandle itself leaves a listener on it per range.
    return createReadStream('', {
      fd: this.#data.fd,
      start,
      end: start + length - 1,
      highWaterMark: RANGE_CHUNK_BYTES,
      autoClose: false,
    });
  }

  /** The raw bytes [start, start + length) of the file, read whole (for a few small records only). */
  async bytes(start: number, length: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of await this.range(start, length)) chunks.push(chunk as Buffer);
    } catch (err) {
      throw badZip(this.#what, 'could not be read', err);
    }
    return Buffer.concat(chunks);
  }

  /** Closes the file once every stream from {@link range} has ended or been destroyed. */
  async close(): Promise<void> {
    this.#zip.close();
    await this.#closed;
    await this.#data.close();
  }

  #settle(result: Entry | null | Error): void {
    const next = this.#next;
    this.#next = undefined;
    next?.(result);
  }
}

/** An entry's name for messages: its raw bytes as UTF-8 where they are, quoted. */
export function entryName(entry: Entry): string {
  return JSON.stringify(Buffer.from(entry.fileName as unknown as Uint8Array).toString('utf8'));
}

/** The one error every broken zip becomes; `cause` keeps the library's or the stream's error for the log. */
export function badZip(what: string, problem: string, cause?: unknown): ModgateError {
  if (cause instanceof ModgateError) return cause;
  const reason = cause instanceof Error ? `: ${cause.message.split('\n')[0]}` : '';
  return new ModgateError('upstream.bad_response', `zip for ${what} ${problem}${reason}`, { cause });
}
