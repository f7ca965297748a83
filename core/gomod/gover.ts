/**
 * Go toolchain versions (`1.21rc2`, `1.21.0`, `1.9.2`) as the go command
 * orders them: a port of Go's internal/gover (go 1.26) plus `FromToolchain`
 * from cmd/go/internal/gover/toolchain.go.
 *
 * This is not semver: `1.21rc2 < 1.21.0`, `1.21 < 1.21rc1 < 1.21.0` (from Go
 * 1.21 on, `1.N` is the language version, before its first release
 * candidate), while `1.20 == 1.20.0`. Like the Go package, nothing here
 * throws: an invalid version parses as the empty version, which is less than
 * every valid one.
 */

/** The parts of a Go version (gover.Version); every field is "" in an invalid one. */
export interface GoVersion {
  /** Decimal. */
  readonly major: string;
  /** Decimal, or "". */
  readonly minor: string;
  /** Decimal, or "" (a language version from 1.21 on, or a pre-release). */
  readonly patch: string;
  /** "", "alpha", "beta", "rc" (any lower-case word parses). */
  readonly kind: string;
  /** Decimal pre-release number, or "". */
  readonly pre: string;
}

const INVALID: GoVersion = Object.freeze({ major: '', minor: '', patch: '', kind: '', pre: '' });

/** Parses a Go version such as `1.21rc2` (gover.Parse); the all-empty version when invalid. */
export function parseGoVersion(x: string): GoVersion {
  const major = cutInt(x);
  if (major === undefined) return INVALID;
  let rest = x.slice(major.length);
  if (rest === '') return { major, minor: '0', patch: '0', kind: '', pre: '' };
  if (rest[0] !== '.') return INVALID;
  const minor = cutInt(rest.slice(1));
  if (minor === undefined) return INVALID;
  rest = rest.slice(1 + minor.length);
  // From Go 1.21 on a missing patch is not `.0`: `1.21` is the language version before `1.21rc1`.
  if (rest === '') return { major, minor, patch: cmpInt(minor, '21') < 0 ? '0' : '', kind: '', pre: '' };
  if (rest[0] === '.') {
    const patch = cutInt(rest.slice(1));
    // Pre-releases of patch releases (1.21.3rc1) do not exist.
    if (patch === undefined || rest.length !== 1 + patch.length) return INVALID;
    return { major, minor, patch, kind: '', pre: '' };
  }
  const kind = /^[a-z]*/.exec(rest)![0];
  if (kind === '') return INVALID;
  rest = rest.slice(kind.length);
  if (rest === '') return { major, minor, patch: '', kind, pre: '' };
  const pre = cutInt(rest);
  if (pre === undefined || pre.length !== rest.length) return INVALID;
  return { major, minor, patch: '', kind, pre };
}

/** Reports whether x is a valid Go version (gover.IsValid). */
export function isValidGoVersion(x: string): boolean {
  return parseGoVersion(x) !== INVALID;
}

/** Compares two Go versions (gover.Compare): -1, 0 or +1; invalid versions are equal and below all valid ones. */
export function compareGoVersions(x: string, y: string): number {
  const vx = parseGoVersion(x);
  const vy = parseGoVersion(y);
  return (
    cmpInt(vx.major, vy.major) ||
    cmpInt(vx.minor, vy.minor) ||
    cmpInt(vx.patch, vy.patch) ||
    cmpString(vx.kind, vy.kind) || // "" < alpha < beta < rc
    cmpInt(vx.pre, vy.pre)
  );
}

/** Whether x is a pre-release (alpha, beta, rc) of Go (gover.IsPrerelease). */
export function isGoPrerelease(x: string): boolean {
  return parseGoVersion(x).kind !== '';
}

/** The language version of x (gover.Lang): `1.21rc2` → `1.21`, `1.2.3` → `1.2`, `1` → `1`. */
export function goLang(x: string): string {
  const v = parseGoVersion(x);
  if (v.minor === '' || (v.major === '1' && v.minor === '0')) return v.major;
  return `${v.major}.${v.minor}`;
}

/**
 * The Go version a toolchain name stands for (gover.FromToolchain):
 * `go1.2.3` → `1.2.3`, `go1.2.3-bigcorp` → `1.2.3` (a suffix after `-`,
 * space or tab is dropped); "" when the name is not `go<valid version>`.
 */
export function fromToolchain(name: string): string {
  if (/[\\/]/.test(name) || !name.startsWith('go')) return '';
  const v = name.slice(2).split(/[ \t-]/, 1)[0]!;
  return isValidGoVersion(v) ? v : '';
}

/** Go `cutInt`: the leading decimal number of x without an unnecessary leading zero, or undefined. */
function cutInt(x: string): string | undefined {
  const digits = /^[0-9]*/.exec(x)![0];
  if (digits === '' || (digits[0] === '0' && digits.length !== 1)) return undefined;
  return digits;
}

/** Compares decimal strings without leading zeros (gover.CmpInt); "" is below every number. */
function cmpInt(x: string, y: string): number {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

function cmpString(x: string, y: string): number {
  return x === y ? 0 : x < y ? -1 : 1;
}
