/**
 * go.sum's `h1:` hashes: golang.org/x/mod/sumdb/dirhash Hash1 (v0.7.0,
 * hash.go). The SHA-256 of every file is written as a line
 * `<hex sha256>  <name>\n`, the lines sorted by name (byte order, Go's
 * sort.Strings), and the SHA-256 of that summary is the hash, base64 with
 * padding after `h1:`.
 *
 * A module zip's hash names each file with its full zip name
 * (`<module>@<version>/<file>`, see zip-hash.ts); a `.mod` file's hash is the
 * Hash1 of one file named `go.mod` (the `/go.mod h1:` line of go.sum).
 */
import { createHash, type Hash } from 'node:crypto';
import { ModgateError } from '../core/errors.ts';

/** One hashed file: its name in the summary and the hex SHA-256 of its content. */
export interface HashedFile {
  name: string;
  /** Lower-case hex SHA-256 of the content, as Go's `%x` prints it. */
  sha256: string;
}

/** Prefix of the only hash algorithm go.sum knows (dirhash.DefaultHash). */
export const H1_PREFIX = 'h1:';

/**
 * dirhash.Hash1 over files already hashed. A name containing a newline would
 * forge a summary line; the go command refuses it, and so does this
 * (ModgateError `upstream.bad_response`).
 */
export function hash1(files: readonly HashedFile[]): string {
  const sorted = [...files].sort((a, b) => compareBytes(a.name, b.name));
  const summary = createHash('sha256');
  for (const file of sorted) {
    if (file.name.includes('\n')) {
      throw new ModgateError('upstream.bad_response', `file name ${JSON.stringify(file.name)} has a newline`);
    }
    summary.update(`${file.sha256}  ${file.name}\n`);
  }
  return H1_PREFIX + summary.digest('base64');
}

/** The go.sum hash of a `.mod` file (`<module> <version>/go.mod h1:…`). */
export function modHash(goMod: Buffer | string): string {
  return new ModHasher().update(goMod).digest();
}

/**
 * {@link modHash} for a `.mod` file that arrives in chunks: `update` with each
 * chunk as it streams, `digest` once at the end.
 */
export class ModHasher {
  readonly #content: Hash = createHash('sha256');
  #done = false;

  /** Adds the next chunk of the `.mod` file; throws TypeError after {@link digest}. */
  update(chunk: Buffer | string): this {
    if (this.#done) throw new TypeError('ModHasher.update after digest');
    this.#content.update(chunk);
    return this;
  }

  /** The `h1:` hash of everything added; callable once. */
  digest(): string {
    if (this.#done) throw new TypeError('ModHasher.digest called twice');
    this.#done = true;
    return hash1([{ name: 'go.mod', sha256: this.#content.digest('hex') }]);
  }
}

/**
 * Go's string order: by UTF-8 bytes. JavaScript's `<` compares UTF-16 code
 * units, which differs once a name has characters above U+FFFF next to ones
 * in U+E000–U+FFFF.
 */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
