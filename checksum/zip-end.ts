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
  if (start !== offset) await checkShiftedDirectory(zip, what, { start, offset, records });
  return { offset, zip64 };
}

/**
 * The end record says the directory is `size` bytes long and ends at the
 * record, so starts at `start`, but its offset field says `offset`; Go then
 * takes the difference for data prepended to the zip. go 1.19 reads at
 * `start` first and falls back to `offset` when the header there has the
 * wrong signature; go 1.26 reads at `offset` when a header is there and the
 * difference is positive, at `start` otherwise. Either way a directory found
 * at `start` is not the one yauzl reads (refused), and a short read there,
 * or a negative difference (go 1.26 never falls back then), ends the
 * directory with no entries: refused unless the record counts none.
 */
async function checkShiftedDirectory(
  zip: ZipSource,
  what: string,
  at: { start: number; offset: number; records: number },
): Promise<void> {
  const fits = at.start + CENTRAL_HEADER_BYTES <= zip.fileSize;
  const header = fits && (await zip.bytes(at.start, 4)).readUInt32LE(0) === CENTRAL_SIGNATURE;
  if (header || (at.records !== 0 && (at.start < at.offset || !fits))) {
    throw badZip(what, 'has an end record whose directory size and offset disagree');
  }
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
