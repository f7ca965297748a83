/**
 * Parses and validates the path of a GOPROXY protocol request
 * (https://go.dev/ref/mod#goproxy-protocol) and of the checksum database
 * proxy endpoints (https://go.dev/design/25530-sumdb#proxying-a-checksum-database).
 *
 * Order matters: percent-decode, then split into module and version, then
 * unescape (`!x` → `X`) and validate with the x/mod rules (core/gomod). go
 * sends `!` as `%21` in module URLs but raw in sumdb lookups; both decode to
 * the same thing. What is forwarded is re-escaped from the validated values,
 * never the client's bytes.
 */
import { ModgateError } from '../../core/errors.ts';
import {
  canonicalVersion,
  escapePath,
  escapeVersion,
  goQuote,
  unescapePath,
  unescapeVersion,
} from '../../core/gomod/module.ts';
import { isValid } from '../../core/gomod/semver.ts';

/** Longest request path accepted, before percent-decoding (bytes). */
export const MAX_REQUEST_PATH_BYTES = 1024;

/** A validated GOPROXY request; `module` and `version` are real values, the `escaped*` fields their canonical escapes. */
export type GoproxyRequest =
  | { kind: 'list' | 'latest'; module: string; escapedModule: string }
  | {
      kind: 'info' | 'mod' | 'zip';
      module: string;
      escapedModule: string;
      version: string;
      escapedVersion: string;
    }
  | { kind: 'sumdb'; name: string; rest: string; lookup?: { module: string; version: string } };

/** Path of a checksum database proxied by a GOPROXY: `/sumdb/<name>/<rest>`. */
const SUMDB_PREFIX = '/sumdb/';

/** A checksum database name: a lower-case DNS host name with at least one dot (e.g. `sum.golang.org`). */
export const SUMDB_NAME_RE =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** `<escaped version>.<kind>` after `/@v/`. */
const VERSION_FILE_RE = /^(.*)\.(info|mod|zip)$/s;

/**
 * Classifies and validates a request path (without the query string).
 * Throws ModgateError `request.invalid_path` for a GOPROXY-shaped path with bad
 * content (the message names the problem) and `request.not_found` for a path
 * that is no GOPROXY endpoint at all.
 */
export function parseGoproxyPath(rawPathWithoutQuery: string): GoproxyRequest {
  const raw = rawPathWithoutQuery;
  if (Buffer.byteLength(raw, 'utf8') > MAX_REQUEST_PATH_BYTES) {
    throw invalid(`request path longer than ${MAX_REQUEST_PATH_BYTES} bytes`);
  }
  const path = percentDecode(raw);
  if (path.startsWith(SUMDB_PREFIX)) return parseSumdb(path.slice(SUMDB_PREFIX.length), raw);
  const at = path.indexOf('/@');
  if (!path.startsWith('/') || at < 0) throw notFound(raw);
  const escapedPath = path.slice(1, at);
  const tail = path.slice(at + 2);
  if (tail === 'latest' || tail === 'v/list') {
    const module = unescapePath(escapedPath);
    return { kind: tail === 'latest' ? 'latest' : 'list', module, escapedModule: escapePath(module) };
  }
  const file = tail.startsWith('v/') ? VERSION_FILE_RE.exec(tail.slice(2)) : null;
  if (file === null) throw notFound(raw);
  const kind = file[2] as 'info' | 'mod' | 'zip';
  const module = unescapePath(escapedPath);
  const version = parseVersion(file[1]!, kind);
  return { kind, module, escapedModule: escapePath(module), version, escapedVersion: escapeVersion(version) };
}

/**
 * The path to forward upstream for a parsed request, in the form the upstream
 * protocol expects: `/github.com/!acme/tool/@v/v1.0.0.zip`,
 * `/sumdb/sum.golang.org/lookup/github.com/!acme/tool@v1.0.0`. `!` is a
 * sub-delimiter that RFC 3986 §3.3 allows raw in a path segment; the few
 * version characters outside `pchar` (such as `%`, `#`, space) are percent-encoded.
 */
export function upstreamPath(req: GoproxyRequest): string {
  switch (req.kind) {
    case 'list':
      return `/${req.escapedModule}/@v/list`;
    case 'latest':
      return `/${req.escapedModule}/@latest`;
    case 'sumdb':
      return `${SUMDB_PREFIX}${req.name}/${req.rest}`;
    default:
      return `/${req.escapedModule}/@v/${encodePathSegment(req.escapedVersion)}.${req.kind}`;
  }
}

/** `/sumdb/<name>/supported|latest|lookup/<mod>@<ver>|tile/...`; `rest` is returned re-escaped. */
function parseSumdb(nameAndRest: string, raw: string): GoproxyRequest {
  const slash = nameAndRest.indexOf('/');
  if (slash < 0) throw notFound(raw);
  const name = nameAndRest.slice(0, slash);
  const rest = nameAndRest.slice(slash + 1);
  const isLookup = rest.startsWith('lookup/');
  const isTile = rest.startsWith('tile/');
  if (!isLookup && !isTile && rest !== 'supported' && rest !== 'latest') throw notFound(raw);
  if (!SUMDB_NAME_RE.test(name)) throw invalid(`invalid checksum database name ${goQuote(name)}`);
  if (isTile) {
    if (!isTilePath(rest)) throw invalid(`malformed tile path ${goQuote(rest)}`);
    return { kind: 'sumdb', name, rest };
  }
  if (!isLookup) return { kind: 'sumdb', name, rest };
  // x/mod/sumdb server: lookup/<escaped path>@<escaped version>, exactly one '@'.
  const modVer = rest.slice('lookup/'.length);
  const at = modVer.indexOf('@');
  if (at < 0 || modVer.indexOf('@', at + 1) >= 0) {
    throw invalid(`malformed checksum database lookup ${goQuote(modVer)}: want module@version`);
  }
  const module = unescapePath(modVer.slice(0, at));
  const version = parseVersion(modVer.slice(at + 1), 'lookup');
  return {
    kind: 'sumdb',
    name,
    rest: `lookup/${escapePath(module)}@${escapeVersion(version)}`,
    lookup: { module, version },
  };
}

/**
 * Unescapes and checks a version. `.info` may name a query (a branch, a tag);
 * `.mod`, `.zip` and sumdb lookups are only ever asked for canonical semantic
 * versions (module.CanonicalVersion, so `+incompatible` is allowed).
 */
function parseVersion(escaped: string, use: 'info' | 'mod' | 'zip' | 'lookup'): string {
  if (escaped === '') {
    throw invalid(use === 'lookup' ? 'empty version in lookup' : `empty version before ".${use}"`);
  }
  const version = unescapeVersion(escaped);
  if (use === 'info') return version;
  if (!isValid(version)) throw invalid(`version ${goQuote(version)} invalid: not a semantic version`);
  const want = canonicalVersion(version);
  if (want !== version) {
    throw invalid(`version ${goQuote(version)} invalid: not a canonical version (want ${goQuote(want)})`);
  }
  return version;
}

/**
 * RFC 3986 §2.1 percent-decoding of the whole path. The raw path must be
 * printable ASCII; the decoded bytes must be UTF-8 without control characters.
 */
function percentDecode(raw: string): string {
  if (!/^[\x21-\x7e]*$/.test(raw)) {
    throw invalid('request path contains a character that must be percent-encoded');
  }
  if (!raw.includes('%')) return raw;
  if (/%(?![0-9A-Fa-f]{2})/.test(raw)) throw invalid('malformed percent-encoding in request path');
  const bytes = Buffer.from(
    raw.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );
  let path: string;
  try {
    path = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (err) {
    throw invalid('request path is not valid UTF-8 after percent-decoding', err);
  }
  if (/\p{Cc}/u.test(path)) throw invalid('request path contains a control character');
  return path;
}

/** Percent-encodes what RFC 3986 `pchar` does not allow raw (versions may hold `%`, `#`, `[`, space, ...). */
function encodePathSegment(s: string): string {
  return s.replace(
    /[^A-Za-z0-9\-._~!$&'()*+,;=:@]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Largest tile height ParseTilePath accepts. */
const MAX_TILE_HEIGHT = 30;
/** Tile index digits per path element (tlog `pathBase` = 1000). */
const TILE_PATH_BASE = 1000n;
/** Go's int64 range, which a tile index and level must fit. */
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Reports whether `path` is a tile coordinate path `tile/H/L/[xNNN/...]NNN[.p/W]`
 * that golang.org/x/mod/sumdb/tlog `ParseTilePath` accepts. Like Go, it parses
 * the path and then requires it to equal the tile's canonical `Path()`, which
 * rules out signs, extra leading zeros and other spellings of the same tile.
 * Exported for the differential test against tlog.
 */
export function isTilePath(path: string): boolean {
  const f = path.split('/');
  if (f.length < 4 || f[0] !== 'tile') return false;
  const isData = f[2] === 'data';
  const h = atoi(f[1]!);
  const l = isData ? 0n : atoi(f[2]!);
  if (h === undefined || l === undefined || h < 1n || l < 0n || h > MAX_TILE_HEIGHT) return false;
  const full = 1n << h;
  let w = full;
  let digits = f.slice(3);
  const dotP = f[f.length - 2]!;
  if (dotP.endsWith('.p')) {
    const ww = atoi(f[f.length - 1]!);
    if (ww === undefined || ww <= 0n || ww >= full) return false;
    w = ww;
    digits = [...f.slice(3, -2), dotP.slice(0, -2)];
  }
  let n = 0n;
  for (const s of digits) {
    const nn = atoi(s.startsWith('x') ? s.slice(1) : s);
    if (nn === undefined || nn < 0n || nn >= TILE_PATH_BASE) return false;
    n = n * TILE_PATH_BASE + nn;
  }
  // In Go the index would overflow int64 and the canonical path would then differ.
  if (n > INT64_MAX) return false;
  let nStr = (n % TILE_PATH_BASE).toString().padStart(3, '0');
  for (let m = n / TILE_PATH_BASE; m > 0n; m /= TILE_PATH_BASE) {
    nStr = `x${(m % TILE_PATH_BASE).toString().padStart(3, '0')}/${nStr}`;
  }
  const pStr = w === full ? '' : `.p/${w}`;
  return path === `tile/${h}/${isData ? 'data' : l}/${nStr}${pStr}`;
}

/** Go `strconv.Atoi` on a 64-bit platform: optional sign and decimal digits within int64. */
function atoi(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  return v > INT64_MAX || v < -INT64_MAX - 1n ? undefined : v;
}

function invalid(message: string, cause?: unknown): ModgateError {
  return new ModgateError('request.invalid_path', message, cause === undefined ? {} : { cause });
}

function notFound(raw: string): ModgateError {
  return new ModgateError('request.not_found', `no such GOPROXY endpoint: ${raw}`);
}
