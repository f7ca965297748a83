/**
 * A port of the path and version rules of golang.org/x/mod/module (v0.7.0,
 * module.go): which module paths and versions are valid, how they are escaped
 * for the GOPROXY protocol (uppercase → `!` + lowercase), and GOPRIVATE-style
 * prefix glob matching.
 *
 * Invalid input throws ModgateError('request.invalid_path') whose message is
 * the x/mod error text, e.g. `malformed module path "foo/..": invalid path element ".."`.
 */
import { ModgateError } from '../errors.ts';
import { pathMatch } from './path-match.ts';
import { build, canonical } from './semver.ts';

/** Which rule set applies (x/mod `pathKind`). */
type PathKind = 'module' | 'import' | 'file';

/** Reserved file names on Windows, rejected as (the part before the first dot of) any path element. */
const BAD_WINDOWS_NAMES = [
  ...['CON', 'PRN', 'AUX', 'NUL'],
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap((n) => [`COM${n}`, `LPT${n}`]),
];

/** ASCII punctuation allowed in file names besides letters and digits (x/mod `fileNameOK`). */
const FILE_NAME_PUNCTUATION = '!#$%&()+,-.=@[]^_{}~ ';

/**
 * Checks that `path` is a valid module path (module.CheckPath): a valid import
 * path whose first element is a lower-case domain name containing a dot and not
 * starting with a dash, no element starting with a dot, and a well-formed major
 * version suffix (`/vN`, N ≥ 2, or gopkg.in's `.vN`).
 */
export function checkPath(path: string): void {
  const reason = checkModulePath(path);
  if (reason !== undefined) throw invalid(`malformed module path ${goQuote(path)}: ${reason}`);
}

/** Checks that `path` is a valid package import path (module.CheckImportPath). */
export function checkImportPath(path: string): void {
  const reason = checkGeneralPath(path, 'import');
  if (reason !== undefined) throw invalid(`malformed import path ${goQuote(path)}: ${reason}`);
}

/** Checks that `path` is a valid slash-separated file path inside a module zip (module.CheckFilePath). */
export function checkFilePath(path: string): void {
  const reason = checkGeneralPath(path, 'file');
  if (reason !== undefined) throw invalid(`malformed file path ${goQuote(path)}: ${reason}`);
}

/** The escaped form of a module path, e.g. `github.com/!azure/x` (module.EscapePath); the path must be valid. */
export function escapePath(path: string): string {
  checkPath(path);
  return escapeString(path);
}

/**
 * The escaped form of a version (module.EscapeVersion). Versions need not be
 * semver (a query such as a branch name is allowed) but must be a valid file
 * name element without `!`.
 */
export function escapeVersion(v: string): string {
  if (checkElem(v, 'file') !== undefined || v.includes('!') || !isAscii(v)) {
    // x/mod reports non-ASCII here as an internal inconsistency; it is still a bad version.
    throw invalid(`version ${goQuote(v)} invalid: disallowed version string`);
  }
  return escapeString(v);
}

/** The module path for an escaped path (module.UnescapePath); fails on bad escapes or an invalid path. */
export function unescapePath(escaped: string): string {
  const un = unescapeString(escaped);
  if ('reason' in un) throw invalid(`invalid escaped module path ${goQuote(escaped)}: ${un.reason}`);
  const path = un.value;
  const reason = checkModulePath(path);
  if (reason !== undefined) {
    throw invalid(
      `invalid escaped module path ${goQuote(escaped)}: malformed module path ${goQuote(path)}: ${reason}`,
    );
  }
  return path;
}

/** The version for an escaped version (module.UnescapeVersion); fails on bad escapes or a disallowed version. */
export function unescapeVersion(escaped: string): string {
  const un = unescapeString(escaped);
  if ('reason' in un) throw invalid(`invalid escaped version ${goQuote(escaped)}: ${un.reason}`);
  const v = un.value;
  const reason = checkElem(v, 'file');
  if (reason !== undefined) throw invalid(`invalid escaped version ${goQuote(v)}: ${reason}`);
  return v;
}

/** The result of {@link splitPathVersion}: `prefix + pathMajor === path` when ok. */
export interface SplitPath {
  prefix: string;
  pathMajor: string;
  ok: boolean;
}

/**
 * Splits a module path into prefix and major-version suffix (module.SplitPathVersion):
 * `example.com/m/v2` → `example.com/m` + `/v2`; `gopkg.in/yaml.v3` → `gopkg.in/yaml` + `.v3`.
 * `ok` is false for a suffix CheckPath rejects, such as `/v1`, `/v0`, `/v02` or `/v1.2`.
 */
export function splitPathVersion(path: string): SplitPath {
  if (path.startsWith('gopkg.in/')) return splitGopkgIn(path);
  let i = path.length;
  let dot = false;
  while (i > 0 && (isDigit(path, i - 1) || path[i - 1] === '.')) {
    if (path[i - 1] === '.') dot = true;
    i--;
  }
  if (i <= 1 || i === path.length || path[i - 1] !== 'v' || path[i - 2] !== '/') {
    return { prefix: path, pathMajor: '', ok: true };
  }
  const pathMajor = path.slice(i - 2);
  if (dot || pathMajor.length <= 2 || pathMajor[2] === '0' || pathMajor === '/v1') {
    return { prefix: path, pathMajor: '', ok: false };
  }
  return { prefix: path.slice(0, i - 2), pathMajor, ok: true };
}

/**
 * Reports whether any path prefix of `target` matches one of the comma-separated
 * `path.Match` globs (module.MatchPrefixPatterns, the GOPRIVATE algorithm of
 * `go help module-private`). Empty and malformed patterns are ignored; a
 * trailing slash on a pattern is ignored.
 */
export function matchPrefixPatterns(globs: string, target: string): boolean {
  for (let glob of globs.split(',')) {
    if (glob.endsWith('/')) glob = glob.slice(0, -1);
    if (glob === '') continue;
    // A glob with N slashes is matched against the first N+1 elements of target.
    let n = glob.split('/').length - 1;
    let prefix = target;
    for (let i = 0; i < target.length; i++) {
      if (target[i] === '/') {
        if (n === 0) {
          prefix = target.slice(0, i);
          break;
        }
        n--;
      }
    }
    if (n > 0) continue;
    if (pathMatch(glob, prefix).matched) return true;
  }
  return false;
}

/** semver canonical form that keeps a `+incompatible` build suffix (module.CanonicalVersion). */
export function canonicalVersion(v: string): string {
  const cv = canonical(v);
  return build(v) === '+incompatible' ? cv + '+incompatible' : cv;
}

/**
 * Go's `strconv.Quote` (the `%q` verb), so messages read as go prints them.
 * Non-ASCII printable characters are kept; control characters are escaped.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteChar(ch, '"');
  return out + '"';
}

function invalid(message: string): ModgateError {
  return new ModgateError('request.invalid_path', message);
}

/** x/mod `CheckPath` without the wrapping: the reason, or undefined when valid. */
function checkModulePath(path: string): string | undefined {
  const reason = checkGeneralPath(path, 'module');
  if (reason !== undefined) return reason;
  const slash = path.indexOf('/');
  const first = slash < 0 ? path : path.slice(0, slash);
  if (first === '') return 'leading slash';
  if (!first.includes('.')) return 'missing dot in first path element';
  if (path[0] === '-') return 'leading dash in first path element';
  for (const ch of first) {
    if (!/^[-.0-9a-z]$/.test(ch)) return `invalid char ${goQuoteRune(ch)} in first path element`;
  }
  if (!splitPathVersion(path).ok) return 'invalid version';
  return undefined;
}

/** x/mod `checkPath`: rules shared by module, import and file paths. */
function checkGeneralPath(path: string, kind: PathKind): string | undefined {
  if (!path.isWellFormed()) return 'invalid UTF-8';
  if (path === '') return 'empty string';
  if (path[0] === '-' && kind !== 'file') return 'leading dash';
  if (path.includes('//')) return 'double slash';
  if (path.endsWith('/')) return 'trailing slash';
  for (const elem of path.split('/')) {
    const reason = checkElem(elem, kind);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

/** x/mod `checkElem`: one path element (or a version, as a file name). */
function checkElem(elem: string, kind: PathKind): string | undefined {
  if (elem === '') return 'empty path element';
  if (/^\.+$/.test(elem)) return `invalid path element ${goQuote(elem)}`;
  if (elem[0] === '.' && kind === 'module') return 'leading dot in path element';
  if (elem.endsWith('.')) return 'trailing dot in path element';
  for (const ch of elem) {
    if (!charOK(ch, kind)) return `invalid char ${goQuoteRune(ch)}`;
  }
  const dot = elem.indexOf('.');
  const short = dot < 0 ? elem : elem.slice(0, dot);
  const upper = short.toUpperCase();
  if (isAscii(short) && BAD_WINDOWS_NAMES.includes(upper)) {
    return `${goQuote(short)} disallowed as path element component on Windows`;
  }
  // Windows short names (a tilde and digits at the end) are only a problem for import paths.
  if (kind !== 'file' && /~[0-9]+$/.test(short)) return 'trailing tilde and digits in path element';
  return undefined;
}

/** x/mod `modPathOK` / `importPathOK` / `fileNameOK` for one character. */
function charOK(ch: string, kind: PathKind): boolean {
  if (/^[0-9A-Za-z._~-]$/.test(ch)) return true;
  if (kind === 'import') return ch === '+';
  if (kind === 'file') return ch < '\x80' ? FILE_NAME_PUNCTUATION.includes(ch) : /^\p{L}$/u.test(ch);
  return false;
}

/** x/mod `escapeString`: uppercase → `!` + lowercase; the input is already known to be ASCII without `!`. */
function escapeString(s: string): string {
  return s.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase());
}

/**
 * x/mod `unescapeString`: `!` + lowercase → uppercase. Returns the value, or
 * the reason it is no valid escape (x/mod gives none; ours names the character).
 */
function unescapeString(escaped: string): { value: string } | { reason: string } {
  let value = '';
  let bang = false;
  for (const ch of escaped) {
    if (ch >= '\x80') return { reason: `non-ASCII character ${goQuoteRune(ch)}` };
    if (bang) {
      bang = false;
      if (ch < 'a' || ch > 'z') {
        return { reason: `"!" followed by ${goQuoteRune(ch)}, not a lowercase letter` };
      }
      value += ch.toUpperCase();
    } else if (ch === '!') bang = true;
    else if (ch >= 'A' && ch <= 'Z') return { reason: `unescaped uppercase ${goQuoteRune(ch)}` };
    else value += ch;
  }
  return bang ? { reason: 'trailing "!"' } : { value };
}

function splitGopkgIn(path: string): SplitPath {
  const bad = { prefix: path, pathMajor: '', ok: false };
  let i = path.length;
  if (path.endsWith('-unstable')) i -= '-unstable'.length;
  while (i > 0 && isDigit(path, i - 1)) i--;
  // All gopkg.in paths must end in .vN for some N.
  if (i <= 1 || path[i - 1] !== 'v' || path[i - 2] !== '.') return bad;
  const pathMajor = path.slice(i - 2);
  if (pathMajor.length <= 2 || (pathMajor[2] === '0' && pathMajor !== '.v0')) return bad;
  return { prefix: path.slice(0, i - 2), pathMajor, ok: true };
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

function isAscii(s: string): boolean {
  return /^\p{ASCII}*$/u.test(s);
}

/** Go's `%q` of a rune: `'x'`. */
function goQuoteRune(ch: string): string {
  return `'${quoteChar(ch, "'")}'`;
}

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

function quoteChar(ch: string, quote: string): string {
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)) return ch;
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x80) return '\\x' + cp.toString(16).padStart(2, '0');
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0');
  return '\\U' + cp.toString(16).padStart(8, '0');
}
