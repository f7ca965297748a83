/**
 * Inclusion ("record") and consistency ("tree") proofs of the transparency
 * log, a port of golang.org/x/mod/sumdb/tlog (v0.7.0) ProveRecord,
 * CheckRecord, ProveTree and CheckTree (RFC 6962 §2.1.1 audit paths and
 * §2.1.2 consistency proofs, in x/mod's order of hashes).
 *
 * A proof is built from stored hashes read through a HashReader (for the
 * client, one that reads tiles authenticated against the tree head) and
 * checked against tree hashes alone.
 */
import { ModgateError } from '../core/errors.ts';
import { type Hash, type HashReader, maxPow2, nodeHash, subTreeHash, subTreeIndex } from './tlog-hash.ts';

/** Hashes that prove a record is in a tree. */
export type RecordProof = readonly Hash[];

/** Hashes that prove a tree is a prefix of a bigger one. */
export type TreeProof = readonly Hash[];

function invalidInputs(what: string): ModgateError {
  return new ModgateError('internal', `tlog: invalid inputs in ${what}`);
}

async function readAll(read: HashReader, indexes: readonly number[]): Promise<Hash[]> {
  if (indexes.length === 0) return [];
  const hashes = await read(indexes);
  if (hashes.length !== indexes.length) {
    throw new ModgateError(
      'sumdb.bad_response',
      `tlog: read ${hashes.length} hashes for ${indexes.length} indexes`,
    );
  }
  return hashes;
}

function leafProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (lo + 1 === hi) return need;
  const { k } = maxPow2(hi - lo);
  if (n < lo + k) {
    leafProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    leafProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function leafProof(lo: number, hi: number, n: number, hashes: readonly Hash[]): [Hash[], readonly Hash[]] {
  if (lo + 1 === hi) return [[], hashes];
  const { k } = maxPow2(hi - lo);
  let p: Hash[];
  let th: Hash;
  let rest = hashes;
  if (n < lo + k) {
    [p, rest] = leafProof(lo, lo + k, n, rest);
    [th, rest] = subTreeHash(lo + k, hi, rest);
  } else {
    [th, rest] = subTreeHash(lo, lo + k, rest);
    [p, rest] = leafProof(lo + k, hi, n, rest);
  }
  p.push(th);
  return [p, rest];
}

/** The proof that record `n` is in the tree of size `t` (tlog.ProveRecord). */
export async function proveRecord(t: number, n: number, read: HashReader): Promise<RecordProof> {
  if (t < 0 || n < 0 || n >= t) throw invalidInputs('ProveRecord');
  const hashes = await readAll(read, leafProofIndex(0, t, n, []));
  return leafProof(0, t, n, hashes)[0];
}

function runRecordProof(p: RecordProof, lo: number, hi: number, n: number, leaf: Hash): Hash | undefined {
  if (lo + 1 === hi) return p.length === 0 ? leaf : undefined;
  if (p.length === 0) return undefined;
  const { k } = maxPow2(hi - lo);
  const last = p[p.length - 1] as Hash;
  if (n < lo + k) {
    const th = runRecordProof(p.slice(0, -1), lo, lo + k, n, leaf);
    return th === undefined ? undefined : nodeHash(th, last);
  }
  const th = runRecordProof(p.slice(0, -1), lo + k, hi, n, leaf);
  return th === undefined ? undefined : nodeHash(last, th);
}

/** Whether `p` proves that record `n`, whose record hash is `h`, is in the tree of size `t` and hash `th` (tlog.CheckRecord). */
export function checkRecord(p: RecordProof, t: number, th: Hash, n: number, h: Hash): boolean {
  if (t < 0 || n < 0 || n >= t) throw invalidInputs('CheckRecord');
  const computed = runRecordProof(p, 0, t, n, h);
  if (computed === undefined) return false;
  return computed.equals(th);
}

function treeProofIndex(lo: number, hi: number, n: number, need: number[]): number[] {
  if (n === hi) return lo === 0 ? need : subTreeIndex(lo, hi, need);
  const { k } = maxPow2(hi - lo);
  if (n <= lo + k) {
    treeProofIndex(lo, lo + k, n, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    treeProofIndex(lo + k, hi, n, need);
  }
  return need;
}

function treeProof(lo: number, hi: number, n: number, hashes: readonly Hash[]): [Hash[], readonly Hash[]] {
  if (n === hi) {
    if (lo === 0) return [[], hashes];
    const [th, rest] = subTreeHash(lo, hi, hashes);
    return [[th], rest];
  }
  const { k } = maxPow2(hi - lo);
  let p: Hash[];
  let th: Hash;
  let rest = hashes;
  if (n <= lo + k) {
    [p, rest] = treeProof(lo, lo + k, n, rest);
    [th, rest] = subTreeHash(lo + k, hi, rest);
  } else {
    [th, rest] = subTreeHash(lo, lo + k, rest);
    [p, rest] = treeProof(lo + k, hi, n, rest);
  }
  p.push(th);
  return [p, rest];
}

/** The proof that the tree of size `n` is a prefix of the tree of size `t` (tlog.ProveTree; 1 ≤ n ≤ t). */
export async function proveTree(t: number, n: number, read: HashReader): Promise<TreeProof> {
  if (t < 1 || n < 1 || n > t) throw invalidInputs('ProveTree');
  const hashes = await readAll(read, treeProofIndex(0, t, n, []));
  return treeProof(0, t, n, hashes)[0];
}

function runTreeProof(p: TreeProof, lo: number, hi: number, n: number, old: Hash): [Hash, Hash] | undefined {
  if (n === hi) {
    if (lo === 0) return p.length === 0 ? [old, old] : undefined;
    return p.length === 1 ? [p[0] as Hash, p[0] as Hash] : undefined;
  }
  if (p.length === 0) return undefined;
  const { k } = maxPow2(hi - lo);
  const last = p[p.length - 1] as Hash;
  if (n <= lo + k) {
    const r = runTreeProof(p.slice(0, -1), lo, lo + k, n, old);
    return r === undefined ? undefined : [r[0], nodeHash(r[1], last)];
  }
  const r = runTreeProof(p.slice(0, -1), lo + k, hi, n, old);
  return r === undefined ? undefined : [nodeHash(last, r[0]), nodeHash(last, r[1])];
}

/**
 * Whether `p` proves that the tree of size `n` and hash `h` is a prefix of the
 * tree of size `t` and hash `th` (tlog.CheckTree; 1 ≤ n ≤ t).
 */
export function checkTree(p: TreeProof, t: number, th: Hash, n: number, h: Hash): boolean {
  if (t < 1 || n < 1 || n > t) throw invalidInputs('CheckTree');
  const r = runTreeProof(p, 0, t, n, h);
  if (r === undefined) return false;
  return r[0].equals(h) && r[1].equals(th);
}
