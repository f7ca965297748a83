/**
 * What Go's archive/zip (Reader.init, readDirectoryEnd in go 1.19 and 1.26)
 * refuses about a zip's central directory and yauzl does not look at:
 *
 * - the end record's directory size and offset put the directory before the
 *   record and inside the file (Go computes a base offset from them, and
 *   reads the directory there first when it is not 0);
 * - the directory holds exactly the number of entries the record says (Go
 *   reads headers until one fails and compares the count; yauzl stops at the
 *   count and never sees an extra one).
 *
 * Zip64 end records are left to yauzl: Go modules are far below 4 GiB and
 * 65535 files, and neither Go's module zip writer nor the proxies write them.
 */
import type { ZipSource } from './zip-file.ts';
import { badZip } from './zip-file.ts';

/** Length of the end of central directory record without its comment (bytes). */
const END_RECORD_BYTES = 22;

/** How far from the end Go searches for the end record (bytes; archive/zip readDirectoryEnd). */
const END_SEARCH_BYTES = 65 * 1024;

/** Length of a central directory file header without its variable fields (bytes). */
export const CENTRAL_HEADER_BYTES = 46;

const END_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;

/** Where the central directory is, as the end record says; `zip64` when it defers to a zip64 record. */
export interface DirectoryEnd {
  offset: number;
  zip64: boolean;
}

/** Reads the end record as Go finds it and checks where it puts the central directory. */
export async function checkDirectoryEnd(zip: ZipSource, what: string): Promise<DirectoryEnd> {
  const length = Math.min(zip.fileSize, END_SEARCH_BYTES);
  const tail = await zip.bytes(zip.fileSize - length, length);
  let at = -1;
  // The last signature whose comment fits in the file (archive/zip findSignatureInBlock).
  for (let i = tail.length - END_RECORD_BYTES; i >= 0; i--) {
    if (
      tail.readUInt32LE(i) === END_SIGNATURE &&
      i + END_RECORD_BYTES + tail.readUInt16LE(i + 20) <= tail.length
    ) {
      at = i;
      break;
    }
  }
  if (at < 0) throw badZip(what, 'has no end of central directory record');
  const records = tail.readUInt16LE(at + 10);
  const size = tail.readUInt32LE(at + 12);
  const offset = tail.readUInt32LE(at + 16);
  // archive/zip takes the zip64 path when any of these is set (its size test is against 0xffff).
  const zip64 = records === 0xffff || size === 0xffff || offset === 0xffffffff;
  if (zip64) return { offset, zip64 };
  const endOffset = zip.fileSize - length + at;
  const start = endOffset - size;
  if (start < 0 || start >= zip.fileSize) throw badZip(what, 'has a central directory outside the file');
  if (start !== offset) {
    // Go reads the directory at `start` first and falls back to `offset` only when a
    // whole header there has the wrong signature; a short read there ends the
    // directory with no entries, fatal unless the record counts none.
    if (start + CENTRAL_HEADER_BYTES > zip.fileSize) {
      if (records === 0) return { offset, zip64 };
      throw badZip(what, 'has an end record whose directory size and offset disagree');
    }
    const there = await zip.bytes(start, 4);
    // A header there would make Go read a shifted directory; refuse rather than guess.
    if (there.readUInt32LE(0) === CENTRAL_SIGNATURE) {
      throw badZip(what, 'has an end record whose directory size and offset disagree');
    }
  }
  return { offset, zip64 };
}

/**
 * After the last entry the end record counts, at `cursor`: refuses one more
 * complete central directory header, which Go would read and count.
 */
export async function checkNoExtraEntry(zip: ZipSource, what: string, cursor: number): Promise<void> {
  if (cursor + CENTRAL_HEADER_BYTES > zip.fileSize) return;
  const header = await zip.bytes(cursor, CENTRAL_HEADER_BYTES);
  if (header.readUInt32LE(0) !== CENTRAL_SIGNATURE) return;
  const variable = header.readUInt16LE(28) + header.readUInt16LE(30) + header.readUInt16LE(32);
  if (cursor + CENTRAL_HEADER_BYTES + variable <= zip.fileSize) {
    throw badZip(what, `has more central directory entries than the ${zip.entryCount} its end record counts`);
  }
}
