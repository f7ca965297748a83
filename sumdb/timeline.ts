/**
 * Whether two signed tree heads of one database can belong to one log: the
 * smaller must be a prefix of the larger, proved by a consistency proof
 * (tlog.ProveTree/CheckTree) read from the larger tree's authenticated
 * tiles, as the go command's checkTrees does (x/mod sumdb/client.go). Two
 * heads that cannot are proof the database forked: ModgateError('sumdb.forked'),
 * the go command's "SECURITY ERROR".
 */
import { ModgateError } from '../core/errors.ts';
import { checkTree, proveTree } from './proofs.ts';
import { HASH_SIZE, type HashReader, type Tree, treeHash } from './tlog-hash.ts';

/** A verified signed tree head: its note as served and the tree it signs. */
export interface SignedTree {
  readonly note: string;
  readonly tree: Tree;
}

/** The error for two heads of `database` that cannot both be in one log; the notes go to the log. */
export function forked(
  database: string,
  accepted: SignedTree,
  served: SignedTree,
  extra: Record<string, unknown> = {},
): ModgateError {
  return new ModgateError(
    'sumdb.forked',
    `SECURITY ERROR: checksum database ${database} misbehaved: its signed tree of size ${served.tree.n} is inconsistent with the accepted tree of size ${accepted.tree.n}`,
    {
      detail: {
        database,
        acceptedSize: accepted.tree.n,
        servedSize: served.tree.n,
        acceptedNote: accepted.note,
        servedNote: served.note,
        ...extra,
      },
    },
  );
}

/**
 * Checks that `accepted` and `served` are on one timeline; `readerFor` gives
 * the authenticated hash reader of a tree (its tiles). Throws sumdb.forked
 * when they are not, sumdb.bad_response when the tiles do not prove either way.
 */
export async function checkTimeline(
  database: string,
  accepted: SignedTree,
  served: SignedTree,
  readerFor: (tree: Tree) => HashReader,
): Promise<void> {
  const [older, newer] = served.tree.n <= accepted.tree.n ? [served, accepted] : [accepted, served];
  if (older.tree.n === newer.tree.n) {
    if (!older.tree.hash.equals(newer.tree.hash)) throw forked(database, accepted, served);
    return;
  }
  if (older.tree.n === 0) {
    if (!older.tree.hash.equals(Buffer.alloc(HASH_SIZE))) throw forked(database, accepted, served);
    return;
  }
  const read = readerFor(newer.tree);
  const proof = await proveTree(newer.tree.n, older.tree.n, read);
  if (checkTree(proof, newer.tree.n, newer.tree.hash, older.tree.n, older.tree.hash)) return;
  // The proof's hashes come from tiles that hash up to the newer head, so the older head is the odd one out.
  const olderInNewer = await treeHash(older.tree.n, read);
  throw forked(database, accepted, served, {
    proof: {
      olderSizeHashInNewerTree: olderInNewer.toString('base64'),
      consistencyProof: proof.map((h) => h.toString('base64')),
    },
  });
}
