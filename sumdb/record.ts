/**
 * The answer to `lookup/<module>@<version>`: the record id, the record text
 * (go.sum lines) and the signed tree head, as tlog.FormatRecord and the
 * sumdb server write them (`<id>\n<text>\n<signed note>`), and the go.sum
 * hashes the record holds for the module version asked.
 * https://go.dev/design/25530-sumdb#checksum-database
 */
import { ModgateError } from '../core/errors.ts';
import { decodeNoteText, decodeStdBase64 } from './encoding.ts';
import { HASH_SIZE } from './tlog-hash.ts';

/** A lookup answer, split (tlog.ParseRecord). */
export interface LookupAnswer {
  /** The record's index in the log. */
  readonly id: number;
  /** The record data the log hashed: go.sum lines, each ending in `\n`. */
  readonly text: Buffer;
  /** The signed tree head that follows. */
  readonly treeNote: Buffer;
}

/** The go.sum hashes of one module version. */
export interface GoSumHashes {
  /** Of the module zip: `h1:<base64>`. */
  readonly zip: string;
  /** Of the go.mod file: `h1:<base64>`. */
  readonly mod: string;
}

/** Characters of a record line quoted in an error. */
const MAX_QUOTED = 200;

function malformed(why: string): ModgateError {
  return new ModgateError('sumdb.bad_response', `malformed record: ${why}`);
}

/** Record text is UTF-8 lines, no two newlines in a row, no control characters, ending in a newline (tlog's isValidRecordText). */
function isValidRecordText(text: Buffer): boolean {
  const decoded = decodeNoteText(text);
  if (decoded === undefined) return false;
  return decoded.endsWith('\n') && !decoded.includes('\n\n');
}

/** Splits a lookup answer (tlog.ParseRecord). */
export function parseLookupAnswer(data: Buffer): LookupAnswer {
  const nl = data.indexOf(0x0a);
  const idText = nl < 0 ? '' : data.subarray(0, nl).toString('latin1');
  const id = Number(idText);
  if (!/^[0-9]+$/.test(idText) || !Number.isSafeInteger(id)) throw malformed('no record id');
  const rest = data.subarray(nl + 1);
  const end = rest.indexOf('\n\n');
  if (end < 0) throw malformed('no blank line after the record');
  const text = rest.subarray(0, end + 1);
  if (!isValidRecordText(text)) throw malformed('not go.sum lines');
  return { id, text, treeNote: rest.subarray(end + 2) };
}

/**
 * The h1 hashes `text` holds for `module@version`: every line must be
 * `<module> <version>[/go.mod] <hash>` of exactly that module version, with
 * one `h1:` hash of the zip and one of the go.mod (hashes of other
 * algorithms are ignored, as the go command ignores them).
 */
export function goSumHashes(text: Buffer, module: string, version: string): GoSumHashes {
  let zip: string | undefined;
  let mod: string | undefined;
  for (const line of text.toString('utf8').split('\n').slice(0, -1)) {
    const fields = line.split(' ');
    const [path, ver, hash] = fields;
    if (fields.length !== 3 || path !== module || (ver !== version && ver !== `${version}/go.mod`)) {
      throw new ModgateError(
        'sumdb.bad_response',
        `record is not for ${module}@${version}: ${JSON.stringify(line.slice(0, MAX_QUOTED))}`,
      );
    }
    if (!hash?.startsWith('h1:')) continue;
    if (decodeStdBase64(hash.slice(3))?.length !== HASH_SIZE)
      throw malformed(`bad hash ${JSON.stringify(hash)}`);
    const isMod = ver !== version;
    if ((isMod ? mod : zip) !== undefined) throw malformed(`two h1 hashes for ${ver}`);
    if (isMod) mod = hash;
    else zip = hash;
  }
  if (zip === undefined || mod === undefined) {
    throw new ModgateError(
      'sumdb.bad_response',
      `record for ${module}@${version} lacks the h1 hash of its ${zip === undefined ? 'zip' : 'go.mod'}`,
    );
  }
  return { zip, mod };
}
