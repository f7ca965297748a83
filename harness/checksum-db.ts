/**
 * A checksum database for tests (https://go.dev/design/25530-sumdb), small
 * but real: records in a transparency log (RFC 6962 hashing, as
 * golang.org/x/mod/sumdb/tlog), tree heads signed in the note format
 * (x/mod/sumdb/note) with an Ed25519 key made per run, and the endpoints the
 * go command reads: `latest`, `lookup/<module>@<version>` and the level-0
 * hash tiles `tile/8/0/000[.p/<width>]`. The go command verifies all of it
 * against the verifier key in `GOSUMDB`.
 *
 * It exists because go requires a checksum database for golang.org/toolchain
 * even with `GOSUMDB=off` (cmd/go/internal/modfetch/sumdb.go `useSumDB`),
 * unless GOPROXY is a lone `file://` URL. One level-0 tile holds 256 records,
 * which is all a test needs.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { escapePath, escapeVersion } from '../core/gomod/module.ts';

/** Records one tile of height 8 holds; the database takes no more. */
const MAX_RECORDS = 256;

/** What the database answers for one request below `/sumdb/<name>/`. */
export interface ChecksumDbAnswer {
  readonly status: number;
  readonly body: Buffer;
}

/** A checksum database a GOPROXY can proxy under `/sumdb/<name>/`. */
export interface ChecksumDb {
  /** Its name, e.g. `sum.modgate.test`. */
  readonly name: string;
  /** The verifier key: the value of `GOSUMDB` that makes go trust it. */
  readonly key: string;
  /** Appends a record: the go.sum lines of one module version (`<path> <version> h1:…\n…`). */
  add(module: string, version: string, goSum: string): void;
  /** Answers `rest`, the request path below `/sumdb/<name>/` (`supported`, `latest`, `lookup/…`, `tile/…`). */
  answer(rest: string): ChecksumDbAnswer;
}

/** Makes an empty database with a fresh key. */
export function makeChecksumDb(name = 'sum.modgate.test'): ChecksumDb {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const keyBytes = Buffer.concat([Buffer.from([1]), raw]); // 1: note's algorithm id for Ed25519
  const keyHash = sha256(Buffer.from(`${name}\n`), keyBytes).subarray(0, 4);
  const key = `${name}+${keyHash.toString('hex')}+${keyBytes.toString('base64')}`;
  const records: { id: string; text: string; hash: Buffer }[] = [];

  /** The signed tree head of the whole log (tlog.FormatTree, note.Sign). */
  const signedTree = (): string => {
    const text = `go.sum database tree\n${records.length}\n${treeHash(records.map((r) => r.hash)).toString('base64')}\n`;
    const signature = Buffer.concat([keyHash, sign(null, Buffer.from(text), privateKey)]);
    return `${text}\n— ${name} ${signature.toString('base64')}\n`;
  };

  const ok = (body: string | Buffer): ChecksumDbAnswer => ({ status: 200, body: Buffer.from(body) });
  const missing: ChecksumDbAnswer = { status: 404, body: Buffer.from('not found\n') };

  return {
    name,
    key,
    add(module, version, goSum) {
      if (records.length === MAX_RECORDS)
        throw new RangeError(`the test checksum database holds ${MAX_RECORDS} records`);
      records.push({
        id: `${escapePath(module)}@${escapeVersion(version)}`,
        text: goSum,
        hash: sha256(Buffer.from([0]), Buffer.from(goSum)),
      });
    },
    answer(rest) {
      if (rest === 'supported') return ok('');
      if (rest === 'latest') return ok(signedTree());
      if (rest.startsWith('lookup/')) {
        const id = records.findIndex((r) => r.id === rest.slice('lookup/'.length));
        return id < 0 ? missing : ok(`${id}\n${records[id]!.text}\n${signedTree()}`);
      }
      const tile = /^tile\/8\/0\/000(?:\.p\/(\d+))?$/.exec(rest);
      const width = tile === null ? 0 : Number(tile[1] ?? MAX_RECORDS);
      if (width < 1 || width > records.length) return missing;
      return ok(Buffer.concat(records.slice(0, width).map((r) => r.hash)));
    },
  };
}

/** The RFC 6962 tree hash of the leaf hashes (tlog.TreeHash); 32 zero bytes for an empty tree. */
function treeHash(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return Buffer.alloc(32);
  if (leaves.length === 1) return leaves[0]!;
  let split = 1;
  while (split * 2 < leaves.length) split *= 2;
  return sha256(Buffer.from([1]), treeHash(leaves.slice(0, split)), treeHash(leaves.slice(split)));
}

function sha256(...parts: Buffer[]): Buffer {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return hash.digest();
}
