/**
 * The transparency log's hashing and storage order, a port of
 * golang.org/x/mod/sumdb/tlog (v0.7.0, tlog.go and note.go): RFC 6962
 * record and interior-node hashes (§2.1), the index of each stored hash, the
 * tree hash of the first n records, and the signed tree text
 * `go.sum database tree\n<n>\n<base64 hash>\n`.
 * https://research.swtch.com/tlog
 *
 * Indexes are plain numbers (exact up to 2^53, far above any real log):
 * shifts are written as divisions because JavaScript's bit operators are
 * 32-bit.
 */
import { createHash } from 'node:crypto';
import { ModgateError } from '../core/errors.ts';
import { decodeStdBase64 } from './encoding.ts';

/** Bytes of one hash (SHA-256). */
export const HASH_SIZE = 32;

/** A hash of the log: 32 bytes. */
export type Hash = Buffer;

/** Reads stored hashes by index, in the order asked (tlog.HashReader). */
export type HashReader = (indexes: readonly number[]) => Promise<Hash[]>;

/** A tree head: the first `n` records and their tree hash. */
export interface Tree {
  readonly n: number;
  readonly hash: Hash;
}

/** Opens every signed tree text (tlog's treePrefix). */
const TREE_PREFIX = 'go.sum database tree\n';

/** The largest tree text x/mod parses (bytes). */
const MAX_TREE_TEXT = 1_000_000;

/** `x >> k` for non-negative integers beyond 32 bits. */
export function shr(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

/** `x << k` for non-negative integers beyond 32 bits. */
export function shl(x: number, k: number): number {
  return x * 2 ** k;
}

function trailingZeros(x: number): number {
  let count = 0;
  for (let v = x; v > 0 && v % 2 === 0; v /= 2) count++;
  return count;
}

/** The hash of a record's data: SHA-256(0x00 ‖ data) (RFC 6962 §2.1 leaf hash). */
export function recordHash(data: Uint8Array): Hash {
  return createHash('sha256')
    .update(Buffer.from([0]))
    .update(data)
    .digest();
}

/** The hash of an interior node: SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(left)
    .update(right)
    .digest();
}

/** Where the hash of the `n`th node at `level` is stored (tlog.StoredHashIndex). */
export function storedHashIndex(level: number, n: number): number {
  let m = n;
  for (let l = level; l > 0; l--) m = 2 * m + 1;
  let i = 0;
  for (; m > 0; m = shr(m, 1)) i += m;
  return i + level;
}

/** The level and node number stored at `index` (tlog.SplitStoredHashIndex). */
export function splitStoredHashIndex(index: number): { level: number; n: number } {
  let n = shr(index, 1);
  let indexN = storedHashIndex(0, n);
  for (;;) {
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return { level, n: shr(n, level) };
}

/** How many hashes a log of `n` records stores (tlog.StoredHashCount). */
export function storedHashCount(n: number): number {
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; i % 2 === 1; i = shr(i, 1)) count++;
  return count;
}

/** The hashes to store when appending record `n` whose hash is `h` (tlog.StoredHashesForRecordHash). */
export async function storedHashesForRecordHash(n: number, h: Hash, read: HashReader): Promise<Hash[]> {
  const m = trailingZeros(n + 1);
  const indexes: number[] = [];
  for (let i = m - 1; i >= 0; i--) indexes.push(storedHashIndex(i, shr(n, i) - 1));
  const old = await read(indexes);
  const hashes = [h];
  let top = h;
  for (let i = 0; i < m; i++) {
    top = nodeHash(old[m - 1 - i] as Hash, top);
    hashes.push(top);
  }
  return hashes;
}

/** The largest power of two below `n`, and its log (tlog's maxpow2; n ≥ 2). */
export function maxPow2(n: number): { k: number; level: number } {
  let level = 0;
  while (shl(1, level + 1) < n) level++;
  return { k: shl(1, level), level };
}

/** The indexes of the complete subtrees that make up records [lo, hi) (tlog's subTreeIndex). */
export function subTreeIndex(lo: number, hi: number, need: number[] = []): number[] {
  for (let at = lo; at < hi; ) {
    const { k, level } = maxPow2(hi - at + 1);
    need.push(storedHashIndex(level, shr(at, level)));
    at += k;
  }
  return need;
}

/** The hash of records [lo, hi) from the subtree hashes at the front of `hashes`, and the rest (tlog's subTreeHash). */
export function subTreeHash(lo: number, hi: number, hashes: readonly Hash[]): [Hash, readonly Hash[]] {
  let count = 0;
  for (let at = lo; at < hi; at += maxPow2(hi - at + 1).k) count++;
  if (hashes.length < count) throw new ModgateError('internal', 'tlog: bad index math in subTreeHash');
  let h = hashes[count - 1] as Hash;
  for (let i = count - 2; i >= 0; i--) h = nodeHash(hashes[i] as Hash, h);
  return [h, hashes.slice(count)];
}

/** The tree hash of the first `n` records (tlog.TreeHash); all zeros for n = 0. */
export async function treeHash(n: number, read: HashReader): Promise<Hash> {
  if (n === 0) return Buffer.alloc(HASH_SIZE);
  const indexes = subTreeIndex(0, n);
  const hashes = await read(indexes);
  if (hashes.length !== indexes.length) {
    throw new ModgateError(
      'sumdb.bad_response',
      `tlog: read ${hashes.length} hashes for ${indexes.length} indexes`,
    );
  }
  return subTreeHash(0, n, hashes)[0];
}

/** The text a tree head's note signs (tlog.FormatTree). */
export function formatTree(tree: Tree): string {
  return `${TREE_PREFIX}${tree.n}\n${tree.hash.toString('base64')}\n`;
}

/** Parses a tree head's note text (tlog.ParseTree); lines after the hash are ignored, as x/mod does. */
export function parseTree(text: string): Tree {
  const malformed = new ModgateError('sumdb.bad_response', 'malformed tree note');
  if (
    !text.startsWith(TREE_PREFIX) ||
    text.split('\n').length - 1 < 3 ||
    Buffer.byteLength(text) > MAX_TREE_TEXT
  ) {
    throw malformed;
  }
  const [, size = '', hash64 = ''] = text.split('\n', 3);
  const n = Number(size);
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(n)) throw malformed;
  const hash = decodeStdBase64(hash64);
  if (hash === undefined || hash.length !== HASH_SIZE) throw malformed;
  return { n, hash };
}
