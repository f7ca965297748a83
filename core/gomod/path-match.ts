/**
 * A port of Go's `path.Match` (go 1.19 src/path/match.go), the glob matcher
 * behind GOPRIVATE / GONOSUMDB and `module.MatchPrefixPatterns`.
 *
 * Go matches on UTF-8 bytes and decodes a rune only for `?` and character
 * classes, so this port works on the UTF-8 encoding of both strings. A
 * malformed pattern never throws: like Go's `ErrBadPattern` it is reported in
 * the result, and it never matches.
 */

/** Outcome of {@link pathMatch}: Go's `(matched bool, err error)` pair; the only error is ErrBadPattern. */
export interface MatchResult {
  matched: boolean;
  badPattern: boolean;
}

const encoder = new TextEncoder();
const SLASH = 0x2f;
const STAR = 0x2a;
const BACKSLASH = 0x5c;
const RUNE_ERROR = 0xfffd;

/** A byte string with a start offset: Go's `s[i:]` without copying. */
interface Bytes {
  b: Uint8Array;
  i: number;
}

const NO_MATCH: MatchResult = { matched: false, badPattern: false };
const BAD: MatchResult = { matched: false, badPattern: true };

/**
 * Reports whether `name` matches the shell pattern `pattern` (Go `path.Match`):
 * `*` matches any run of non-`/` characters, `?` one non-`/` character,
 * `[...]` / `[^...]` a character class, `\c` the character c.
 */
export function pathMatch(pattern: string, name: string): MatchResult {
  let pat: Bytes = { b: encoder.encode(pattern), i: 0 };
  let nm: Bytes = { b: encoder.encode(name), i: 0 };
  chunks: while (pat.i < pat.b.length) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.i === chunk.b.length) {
      // Trailing * matches rest of string unless it has a /.
      return { matched: nm.b.indexOf(SLASH, nm.i) < 0, badPattern: false };
    }
    const first = matchChunk(chunk, nm);
    if (first.ok && (first.rest.i === first.rest.b.length || pat.i < pat.b.length)) {
      nm = first.rest;
      continue;
    }
    if (first.bad) return BAD;
    if (star) {
      // Look for a match skipping i+1 bytes; a star cannot skip a slash.
      for (let i = nm.i; i < nm.b.length && nm.b[i] !== SLASH; i++) {
        const t = matchChunk(chunk, { b: nm.b, i: i + 1 });
        if (t.ok) {
          if (pat.i === pat.b.length && t.rest.i < t.rest.b.length) continue;
          nm = t.rest;
          continue chunks;
        }
        if (t.bad) return BAD;
      }
    }
    // Before returning false, check that the rest of the pattern is well-formed.
    while (pat.i < pat.b.length) {
      const next = scanChunk(pat);
      pat = next.rest;
      if (matchChunk(next.chunk, { b: new Uint8Array(0), i: 0 }).bad) return BAD;
    }
    return NO_MATCH;
  }
  return { matched: nm.i === nm.b.length, badPattern: false };
}

/** Reports whether `pattern` is a well-formed `path.Match` pattern (Go idiom: `path.Match(p, "")` has no error). */
export function isValidPattern(pattern: string): boolean {
  return !pathMatch(pattern, '').badPattern;
}

/** Go `scanChunk`: the next run of non-star pattern, possibly preceded by stars. */
function scanChunk(p: Bytes): { star: boolean; chunk: Bytes; rest: Bytes } {
  let start = p.i;
  let star = false;
  while (start < p.b.length && p.b[start] === STAR) {
    start++;
    star = true;
  }
  let inrange = false;
  let i = start;
  scan: for (; i < p.b.length; i++) {
    switch (p.b[i]) {
      case BACKSLASH:
        if (i + 1 < p.b.length) i++;
        break;
      case 0x5b /* [ */:
        inrange = true;
        break;
      case 0x5d /* ] */:
        inrange = false;
        break;
      case STAR:
        if (!inrange) break scan;
        break;
    }
  }
  return { star, chunk: { b: p.b.subarray(0, i), i: start }, rest: { b: p.b, i } };
}

/** Go `matchChunk`: whether the star-free `chunk` matches a prefix of `s`, and what is left of `s`. */
function matchChunk(chunk: Bytes, s: Bytes): { ok: boolean; bad: boolean; rest: Bytes } {
  const c = chunk.b;
  let ci = chunk.i;
  let si = s.i;
  const sb = s.b;
  const fail = { ok: false, bad: false, rest: s };
  const bad = { ok: false, bad: true, rest: s };
  // After a failure the loop keeps parsing the chunk to detect a malformed pattern.
  let failed = false;
  while (ci < c.length) {
    if (!failed && si === sb.length) failed = true;
    const op = c[ci];
    if (op === 0x5b /* [ */) {
      let r = 0;
      if (!failed) {
        const [rr, n] = decodeRune(sb, si);
        r = rr;
        si += n;
      }
      ci++;
      let negated = false;
      if (ci < c.length && c[ci] === 0x5e /* ^ */) {
        negated = true;
        ci++;
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (ci < c.length && c[ci] === 0x5d /* ] */ && nrange > 0) {
          ci++;
          break;
        }
        const lo = getEsc(c, ci);
        if (lo === undefined) return bad;
        ci = lo.next;
        let hi = lo.r;
        if (c[ci] === 0x2d /* - */) {
          const h = getEsc(c, ci + 1);
          if (h === undefined) return bad;
          ci = h.next;
          hi = h.r;
        }
        if (lo.r <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (op === 0x3f /* ? */) {
      if (!failed) {
        if (sb[si] === SLASH) failed = true;
        si += decodeRune(sb, si)[1];
      }
      ci++;
    } else {
      if (op === BACKSLASH) {
        ci++;
        if (ci === c.length) return bad;
      }
      if (!failed) {
        if (c[ci] !== sb[si]) failed = true;
        si++;
      }
      ci++;
    }
  }
  if (failed) return fail;
  return { ok: true, bad: false, rest: { b: sb, i: si } };
}

/** Go `getEsc`: a possibly escaped character of a character class; undefined is ErrBadPattern. */
function getEsc(c: Uint8Array, i: number): { r: number; next: number } | undefined {
  if (i >= c.length || c[i] === 0x2d /* - */ || c[i] === 0x5d /* ] */) return undefined;
  if (c[i] === BACKSLASH) {
    i++;
    if (i >= c.length) return undefined;
  }
  const [r, n] = decodeRune(c, i);
  if ((r === RUNE_ERROR && n === 1) || i + n >= c.length) return undefined;
  return { r, next: i + n };
}

/** Go `utf8.DecodeRune` on `b[i:]`: (rune, size); (RuneError, 1) for invalid encodings, (RuneError, 0) when empty. */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i];
  if (b0 === undefined) return [RUNE_ERROR, 0];
  if (b0 < 0x80) return [b0, 1];
  let size: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) size = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    size = 3;
    if (b0 === 0xe0) lo = 0xa0;
    else if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    size = 4;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f;
  } else return [RUNE_ERROR, 1];
  const b1 = b[i + 1];
  if (b1 === undefined || b1 < lo || b1 > hi) return [RUNE_ERROR, 1];
  let r = b0 & (0xff >> (size + 1));
  r = (r << 6) | (b1 & 0x3f);
  for (let k = 2; k < size; k++) {
    const bk = b[i + k];
    if (bk === undefined || bk < 0x80 || bk > 0xbf) return [RUNE_ERROR, 1];
    r = (r << 6) | (bk & 0x3f);
  }
  return [r, size];
}
