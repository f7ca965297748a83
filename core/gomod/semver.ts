/**
 * A port of golang.org/x/mod/semver (v0.7.0) plus `IsPseudoVersion` from
 * golang.org/x/mod/module/pseudo.go.
 *
 * Versions must begin with "v": `vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]`,
 * with `vMAJOR` and `vMAJOR.MINOR` as shorthands for `vMAJOR.0.0` and
 * `vMAJOR.MINOR.0` (Semantic Versioning 2.0.0 otherwise). Like the Go
 * package, nothing here throws: an invalid version is reported as `false`,
 * the empty string, or "less than every valid version".
 */

/** The parts of a valid version; `short` is what Canonical must append (".0.0", ".0" or ""). */
interface Parsed {
  major: string;
  minor: string;
  patch: string;
  short: string;
  prerelease: string;
  build: string;
}

/** x/mod/module `pseudoVersionRE` (`\d` is ASCII-only in both RE2 and non-unicode JS regexps). */
const PSEUDO_VERSION_RE =
  /^v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

/** Reports whether v is a valid semantic version string (semver.IsValid). */
export function isValid(v: string): boolean {
  return parse(v) !== undefined;
}

/**
 * The canonical formatting of v (semver.Canonical): missing .MINOR/.PATCH
 * filled in, build metadata dropped; "" for an invalid version.
 */
export function canonical(v: string): string {
  const p = parse(v);
  if (p === undefined) return '';
  if (p.build !== '') return v.slice(0, v.length - p.build.length);
  return v + p.short;
}

/** The major version prefix (semver.Major): `major("v2.1.0") === "v2"`; "" if invalid. */
export function major(v: string): string {
  const p = parse(v);
  return p === undefined ? '' : v.slice(0, 1 + p.major.length);
}

/** The major.minor prefix (semver.MajorMinor): `majorMinor("v2.1.0") === "v2.1"`; "" if invalid. */
export function majorMinor(v: string): string {
  const p = parse(v);
  if (p === undefined) return '';
  const i = 1 + p.major.length;
  const j = i + 1 + p.minor.length;
  if (j <= v.length && v[i] === '.' && v.slice(i + 1, j) === p.minor) return v.slice(0, j);
  return v.slice(0, i) + '.' + p.minor;
}

/** The prerelease suffix (semver.Prerelease): `prerelease("v2.1.0-pre+meta") === "-pre"`; "" if invalid. */
export function prerelease(v: string): string {
  return parse(v)?.prerelease ?? '';
}

/** The build suffix (semver.Build): `build("v2.1.0+meta") === "+meta"`; "" if invalid. */
export function build(v: string): string {
  return parse(v)?.build ?? '';
}

/**
 * Compares by semantic version precedence (semver.Compare): -1, 0 or +1.
 * An invalid version is less than any valid one; all invalid versions are equal.
 */
export function compare(v: string, w: string): number {
  const pv = parse(v);
  const pw = parse(w);
  if (pv === undefined) return pw === undefined ? 0 : -1;
  if (pw === undefined) return 1;
  return (
    compareInt(pv.major, pw.major) ||
    compareInt(pv.minor, pw.minor) ||
    compareInt(pv.patch, pw.patch) ||
    comparePrerelease(pv.prerelease, pw.prerelease)
  );
}

/** Canonicalizes both arguments and returns the greater (semver.Max, deprecated in Go). */
export function max(v: string, w: string): string {
  const cv = canonical(v);
  const cw = canonical(w);
  return compare(cv, cw) > 0 ? cv : cw;
}

/**
 * Sorts in place by precedence, ties broken by byte order of the strings
 * (semver.Sort / ByVersion), and returns the same array.
 */
export function sort(list: string[]): string[] {
  return list.sort((a, b) => compare(a, b) || compareBytes(a, b));
}

/** Reports whether v is a pseudo-version such as `v0.0.0-20191109021931-daa7c04131f5` (module.IsPseudoVersion). */
export function isPseudoVersion(v: string): boolean {
  return v.split('-').length - 1 >= 2 && isValid(v) && PSEUDO_VERSION_RE.test(v);
}

/** Go string comparison: byte order of the UTF-8 encodings, which is code point order. */
function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done === true) return y.done === true ? 0 : -1;
    if (y.done === true) return 1;
    const cx = x.value.codePointAt(0) ?? 0;
    const cy = y.value.codePointAt(0) ?? 0;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

function parse(v: string): Parsed | undefined {
  if (v[0] !== 'v') return undefined;
  const maj = parseNum(v, 1);
  if (maj === undefined) return undefined;
  const p: Parsed = { major: v.slice(1, maj), minor: '0', patch: '0', short: '', prerelease: '', build: '' };
  if (maj === v.length) return { ...p, short: '.0.0' };
  if (v[maj] !== '.') return undefined;
  const min = parseNum(v, maj + 1);
  if (min === undefined) return undefined;
  p.minor = v.slice(maj + 1, min);
  if (min === v.length) return { ...p, short: '.0' };
  if (v[min] !== '.') return undefined;
  const pat = parseNum(v, min + 1);
  if (pat === undefined) return undefined;
  p.patch = v.slice(min + 1, pat);
  let i = pat;
  if (v[i] === '-') {
    const end = parseIdents(v, i, true);
    if (end === undefined) return undefined;
    p.prerelease = v.slice(i, end);
    i = end;
  }
  if (v[i] === '+') {
    const end = parseIdents(v, i, false);
    if (end === undefined) return undefined;
    p.build = v.slice(i, end);
    i = end;
  }
  return i === v.length ? p : undefined;
}

/** Go `parseInt`: end index of a decimal number without extra leading zeros starting at `start`. */
function parseNum(v: string, start: number): number | undefined {
  let i = start;
  while (i < v.length && isDigit(v.charCodeAt(i))) i++;
  if (i === start || (v[start] === '0' && i !== start + 1)) return undefined;
  return i;
}

/**
 * Go `parsePrerelease` / `parseBuild`: dot-separated non-empty identifiers of
 * [0-9A-Za-z-] after the '-' or '+' at `start`; a prerelease ends at '+' and
 * forbids numeric identifiers with leading zeros. Returns the end index.
 */
function parseIdents(v: string, start: number, pre: boolean): number | undefined {
  let i = start + 1;
  let identStart = i;
  for (; i < v.length && !(pre && v[i] === '+'); i++) {
    const c = v.charCodeAt(i);
    if (c === 0x2e /* . */) {
      if (identStart === i || (pre && isBadNum(v.slice(identStart, i)))) return undefined;
      identStart = i + 1;
    } else if (!isIdentChar(c)) return undefined;
  }
  if (identStart === i || (pre && isBadNum(v.slice(identStart, i)))) return undefined;
  return i;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isIdentChar(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

/** A numeric identifier with a leading zero ("01"). */
function isBadNum(s: string): boolean {
  return /^0[0-9]+$/.test(s);
}

function isNum(s: string): boolean {
  return /^[0-9]*$/.test(s);
}

function compareInt(x: string, y: string): number {
  if (x === y) return 0;
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : 1;
}

/** SemVer 2.0.0 §11 prerelease precedence; "" (a release) is greater than any prerelease. */
function comparePrerelease(x: string, y: string): number {
  if (x === y) return 0;
  if (x === '') return 1;
  if (y === '') return -1;
  const xs = x.slice(1).split('.');
  const ys = y.slice(1).split('.');
  for (let k = 0; k < xs.length && k < ys.length; k++) {
    const dx = xs[k]!;
    const dy = ys[k]!;
    if (dx === dy) continue;
    const ix = isNum(dx);
    const iy = isNum(dy);
    if (ix !== iy) return ix ? -1 : 1;
    if (ix && dx.length !== dy.length) return dx.length < dy.length ? -1 : 1;
    return dx < dy ? -1 : 1;
  }
  return xs.length < ys.length ? -1 : xs.length > ys.length ? 1 : 0;
}
