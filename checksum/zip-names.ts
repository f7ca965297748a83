/**
 * The rules a module zip's file names and declared sizes must follow before
 * the go command accepts it: golang.org/x/mod/zip checkZip (v0.7.0, zip.go),
 * which `go mod download` runs through zip.Unzip, plus the prefix check of
 * cmd/go/internal/modfetch/fetch.go downloadZip.
 *
 * - every name starts with `<module>@<version>/`; the bare prefix is skipped;
 * - a name ending in `/` is a directory; the rest must pass module.CheckFilePath
 *   (which also refuses what path.Clean would change: empty, `.` and `..` elements);
 * - no two names equal under Unicode simple case folding, no name both a file
 *   and a directory (every parent directory counts);
 * - `go.mod` only at the root and spelled so;
 * - declared sizes: the total, go.mod and LICENSE within their limits.
 */
import { ModgateError } from '../core/errors.ts';
import { checkFilePath } from '../core/gomod/module.ts';

/** Largest module zip file and total uncompressed content (bytes; x/mod/zip MaxZipFile, 500 MiB). */
export const MAX_ZIP_FILE_BYTES = 500 << 20;

/** Largest go.mod in a module zip (bytes; x/mod/zip MaxGoMod, 16 MiB). */
export const MAX_GO_MOD_BYTES = 16 << 20;

/** Largest LICENSE at a module zip's root (bytes; x/mod/zip MaxLICENSE, 16 MiB). */
export const MAX_LICENSE_BYTES = 16 << 20;

/** Size limits of a module zip; each defaults to the go command's (the constants above). */
export interface ZipLimits {
  /** Largest zip file, and largest total of its files' uncompressed sizes (bytes). */
  maxZipFile?: number;
  /** Largest go.mod (bytes). */
  maxGoMod?: number;
  /** Largest LICENSE (bytes). */
  maxLicense?: number;
}

/** {@link ZipLimits} with every default filled in. */
export type ResolvedZipLimits = Required<ZipLimits>;

/** Fills in the go command's limits where `limits` leaves them out. */
export function resolveZipLimits(limits: ZipLimits = {}): ResolvedZipLimits {
  return {
    maxZipFile: limits.maxZipFile ?? MAX_ZIP_FILE_BYTES,
    maxGoMod: limits.maxGoMod ?? MAX_GO_MOD_BYTES,
    maxLicense: limits.maxLicense ?? MAX_LICENSE_BYTES,
  };
}

/**
 * Checks the entries of one module zip, one at a time, in the zip's order.
 * Each failed check throws ModgateError `upstream.bad_response` naming
 * `<module>@<version>` and the entry.
 */
export class ZipNameChecker {
  readonly #prefix: string;
  readonly #limits: ResolvedZipLimits;
  /** Folded path → the path as first seen and whether it is a directory (x/mod collisionChecker). */
  readonly #seen = new Map<string, { path: string; isDir: boolean }>();
  #total = 0;

  constructor(module: string, version: string, limits: ResolvedZipLimits) {
    this.#prefix = `${module}@${version}/`;
    this.#limits = limits;
  }

  /** Checks one entry's name and declared uncompressed size (bytes). */
  check(zipName: string, declaredSize: number): void {
    if (!zipName.startsWith(this.#prefix)) this.#fail(`has unexpected file ${JSON.stringify(zipName)}`);
    let name = zipName.slice(this.#prefix.length);
    if (name === '') return;
    const isDir = name.endsWith('/');
    if (isDir) name = name.slice(0, -1);
    try {
      checkFilePath(name);
    } catch (err) {
      this.#fail(`has an invalid file name: ${(err as Error).message}`);
    }
    this.#collide(name, isDir);
    if (isDir) return;
    const base = name.slice(name.lastIndexOf('/') + 1);
    if (base.toLowerCase() === 'go.mod' && name !== 'go.mod') {
      this.#fail(base === name ? `has ${name}, not go.mod` : `has ${name} outside the module root`);
    }
    if (this.#limits.maxZipFile - this.#total < declaredSize) {
      this.#fail(`holds more than ${this.#limits.maxZipFile} bytes uncompressed`);
    }
    this.#total += declaredSize;
    if (name === 'go.mod' && declaredSize > this.#limits.maxGoMod) {
      this.#fail(`has a go.mod over ${this.#limits.maxGoMod} bytes`);
    }
    if (name === 'LICENSE' && declaredSize > this.#limits.maxLicense) {
      this.#fail(`has a LICENSE over ${this.#limits.maxLicense} bytes`);
    }
  }

  #collide(path: string, isDir: boolean): void {
    for (let p = path, dir = isDir; ; dir = true) {
      const fold = foldCase(p);
      const other = this.#seen.get(fold);
      if (other === undefined) {
        this.#seen.set(fold, { path: p, isDir: dir });
      } else if (other.path !== p) {
        this.#fail(
          `has file names that differ only in case: ${JSON.stringify(other.path)} and ${JSON.stringify(p)}`,
        );
      } else if (other.isDir !== dir) {
        this.#fail(`has ${JSON.stringify(p)} as both a file and a directory`);
      } else if (!dir) {
        this.#fail(`has more than one entry for ${JSON.stringify(p)}`);
      }
      const slash = p.lastIndexOf('/');
      if (slash < 0) return;
      p = p.slice(0, slash);
    }
  }

  #fail(what: string): never {
    throw new ModgateError('upstream.bad_response', `zip for ${this.#prefix.slice(0, -1)} ${what}`);
  }
}

/**
 * Code points whose JavaScript upper or lower case is not in their Unicode
 * simple case folding orbit (Go's unicode.SimpleFold): dotless ı and dotted İ
 * fold only to themselves.
 */
const FOLDS_TO_ITSELF = new Set([0x130, 0x131]);

/**
 * A key equal for two paths exactly when Go's strings.EqualFold says they are
 * equal (x/mod strToFold): each code point replaced by the smallest of its
 * case variants, then A–Z lowered. The variants are taken from
 * toUpperCase/toLowerCase where those give one code point, which is Go's
 * simple folding orbit except for {@link FOLDS_TO_ITSELF}.
 */
export function foldCase(path: string): string {
  let out = '';
  for (const ch of path) {
    const c = ch.codePointAt(0)!;
    let min = c;
    if (c >= 0x80 || (c >= 0x41 && c <= 0x5a)) {
      if (!FOLDS_TO_ITSELF.has(c)) {
        for (const v of [ch.toUpperCase(), ch.toLowerCase(), ch.toUpperCase().toLowerCase()]) {
          const cp = v.codePointAt(0)!;
          if (v.length === String.fromCodePoint(cp).length && cp < min && !FOLDS_TO_ITSELF.has(cp)) min = cp;
        }
      }
      if (min >= 0x41 && min <= 0x5a) min += 0x20;
    }
    out += String.fromCodePoint(min);
  }
  return out;
}
