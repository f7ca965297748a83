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

/**
 * Where a proof's descent through [0, t) goes: towards record n (an
 * inclusion proof) or towards the end of the tree of size n (a consistency
 * proof). Each step splits [lo, hi) at the largest power of two and keeps
 * the other part's subtree hash as a proof element (x/mod's leafProof and
 * treeProof, which share this walk).
 */
interface Target {
  /** Whether [lo, hi) ends the descent. */
  done(lo: number, hi: number): boolean;
  /** Whether the target lies left of `mid`. */
  left(mid: number): boolean;
  /** Whether the descent's last part is itself a proof element. */
  endsWithHash(lo: number): boolean;
}

const recordTarget = (n: number): Target => ({
  done: (lo, hi) => lo + 1 === hi,
  left: (mid) => n < mid,
  endsWithHash: () => false,
});

const treeTarget = (n: number): Target => ({
  done: (_lo, hi) => n === hi,
  left: (mid) => n <= mid,
  endsWithHash: (lo) => lo !== 0,
});

/** The stored hash indexes a proof needs (x/mod's leafProofIndex, treeProofIndex). */
function proofIndex(target: Target, lo: number, hi: number, need: number[]): number[] {
  if (target.done(lo, hi)) return target.endsWithHash(lo) ? subTreeIndex(lo, hi, need) : need;
  const { k } = maxPow2(hi - lo);
  if (target.left(lo + k)) {
    proofIndex(target, lo, lo + k, need);
    subTreeIndex(lo + k, hi, need);
  } else {
    subTreeIndex(lo, lo + k, need);
    proofIndex(target, lo + k, hi, need);
  }
  return need;
}

/** The proof from the hashes proofIndex asked for, and the hashes left (x/mod's leafProof, treeProof). */
function proof(target: Target, lo: number, hi: number, hashes: readonly Hash[]): [Hash[], readonly Hash[]] {
  if (target.done(lo, hi)) {
    if (!target.endsWithHash(lo)) return [[], hashes];
    const [th, rest] = subTreeHash(lo, hi, hashes);
    return [[th], rest];
  }
  const { k } = maxPow2(hi - lo);
  let p: Hash[];
  let th: Hash;
  let rest = hashes;
  if (target.left(lo + k)) {
    [p, rest] = proof(target, lo, lo + k, rest);
    [th, rest] = subTreeHash(lo + k, hi, rest);
  } else {
    [th, rest] = subTreeHash(lo, lo + k, rest);
    [p, rest] = proof(target, lo + k, hi, rest);
  }
  p.push(th);
  return [p, rest];
}

/** The proof that record `n` is in the tree of size `t` (tlog.ProveRecord). */
export async function proveRecord(t: number, n: number, read: HashReader): Promise<RecordProof> {
  if (t < 0 || n < 0 || n >= t) throw invalidInputs('ProveRecord');
  const hashes = await readAll(read, proofIndex(recordTarget(n), 0, t, []));
  return proof(recordTarget(n), 0, t, hashes)[0];
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

/** The proof that the tree of size `n` is a prefix of the tree of size `t` (tlog.ProveTree; 1 ≤ n ≤ t). */
export async function proveTree(t: number, n: number, read: HashReader): Promise<TreeProof> {
  if (t < 1 || n < 1 || n > t) throw invalidInputs('ProveTree');
  const hashes = await readAll(read, proofIndex(treeTarget(n), 0, t, []));
  return proof(treeTarget(n), 0, t, hashes)[0];
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
