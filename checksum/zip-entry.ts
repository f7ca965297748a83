/**
 * Reads one zip entry's content the way Go's archive/zip File.Open does
 * (go 1.19 and 1.26, reader.go), streaming it through SHA-256:
 *
 * - the local header must be there (its name and sizes are not compared,
 *   as Go does not compare them); the data is read from where it ends;
 * - method 0 (stored) or 8 (deflate), nothing else; the encryption flags are
 *   ignored, as Go ignores them (encrypted data then fails the CRC);
 * - exactly the declared uncompressed size comes out, counted as it is read
 *   (more is refused at once, so a decompression bomb stops at the limit);
 * - the CRC-32 matches: the central directory's, and the data descriptor's
 *   when flag 0x8 says there is one; with neither a descriptor nor a non-zero
 *   CRC, Go checks nothing and neither does this;
 * - a directory (name ending in `/`) has no content: go 1.26 refuses a
 *   non-zero declared size without reading, go 1.19 reads it as a file; both
 *   rules apply here.
 */
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { releaseChunk } from '../core/release-chunk.ts';
import { badZip, type Entry, entryName, type ZipSource } from './zip-file.ts';

const METHOD_STORE = 0;
const METHOD_DEFLATE = 8;

/** General purpose flag: CRC and sizes follow the data in a data descriptor. */
const FLAG_DATA_DESCRIPTOR = 0x8;

const DESCRIPTOR_SIGNATURE = 0x08074b50;

/** A data descriptor with its optional signature, CRC and 32-bit sizes (bytes); Go reads no more. */
const DESCRIPTOR_BYTES = 16;

/** The hex SHA-256 of `entry`'s content; throws ModgateError `upstream.bad_response` naming `what`. */
export async function hashEntry(zip: ZipSource, entry: Entry, isDir: boolean, what: string): Promise<string> {
  const name = entryName(entry);
  if (isDir && entry.uncompressedSize !== 0) throw badZip(what, `has content in directory entry ${name}`);
  if (entry.compressionMethod !== METHOD_STORE && entry.compressionMethod !== METHOD_DEFLATE) {
    throw badZip(what, `uses unsupported compression method ${entry.compressionMethod} for ${name}`);
  }
  const start = await zip.dataStart(entry);
  const raw = await zip.range(start, entry.compressedSize);
  // Stored data is the file's own read buffers, released once hashed; inflated output is zlib's.
  const counted = new CountingHash(entry.uncompressedSize, entry.compressionMethod === METHOD_STORE);
  try {
    if (entry.compressionMethod === METHOD_DEFLATE) await pipeline(raw, createInflateRaw(), counted);
    else await pipeline(raw, counted);
  } catch (err) {
    throw badZip(what, `has corrupt data for ${name}`, err);
  }
  if (counted.length !== entry.uncompressedSize) {
    throw badZip(
      what,
      `has ${counted.length} bytes for ${name}, not the ${entry.uncompressedSize} it declares`,
    );
  }
  if ((entry.generalPurposeBitFlag & FLAG_DATA_DESCRIPTOR) !== 0) {
    const descriptor = await zip.bytes(
      start + entry.compressedSize,
      Math.min(DESCRIPTOR_BYTES, zip.fileSize - start - entry.compressedSize),
    );
    const crcAt = descriptor.length >= 4 && descriptor.readUInt32LE(0) === DESCRIPTOR_SIGNATURE ? 4 : 0;
    if (descriptor.length < crcAt + 12) throw badZip(what, `has a truncated data descriptor for ${name}`);
    if (descriptor.readUInt32LE(crcAt) !== entry.crc32 || counted.crc !== entry.crc32) {
      throw badZip(what, `fails the CRC-32 check for ${name}`);
    }
  } else if (entry.crc32 !== 0 && counted.crc !== entry.crc32) {
    throw badZip(what, `fails the CRC-32 check for ${name}`);
  }
  return counted.sha256;
}

/** A sink that hashes what flows in and refuses more than `limit` bytes. */
class CountingHash extends Writable {
  readonly #limit: number;
  readonly #sha = createHash('sha256');
  length = 0;
  crc = 0;
  sha256 = '';

  readonly #release: boolean;

  constructor(limit: number, release: boolean) {
    super();
    this.#limit = limit;
    this.#release = release;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.length += chunk.length;
    if (this.length > this.#limit) {
      done(new Error(`more than the ${this.#limit} bytes declared`));
      return;
    }
    this.#sha.update(chunk);
    this.crc = crc32(chunk, this.crc);
    if (this.#release) releaseChunk(chunk);
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.sha256 = this.#sha.digest('hex');
    done();
  }
}
