/**
 * What `modgate doctor` needs to know about the go command's settings, as
 * plain functions: the version (netrc matching changed in go 1.24), the
 * GOPROXY list and its separators, and whether GONOSUMDB/GONOPROXY globs
 * cover a private route's pattern. Pure: no I/O.
 */
import { matchPrefixPatterns } from '../core/gomod/module.ts';

/** A go release, e.g. `{ major: 1, minor: 19 }` for go1.19.8. */
export interface GoRelease {
  readonly major: number;
  readonly minor: number;
}

/** The first go release whose netrc lookup matches `host:port` instead of the host name alone. */
export const NETRC_HOST_PORT_SINCE: GoRelease = { major: 1, minor: 24 };

/** `go1.19.8`, `go1.24rc1`, `devel go1.25-abc…` → the release; undefined when unrecognised. */
export function parseGoVersion(version: string): GoRelease | undefined {
  const m = /(?:^|\s)go(\d+)\.(\d+)/.exec(version);
  return m === null ? undefined : { major: Number(m[1]), minor: Number(m[2]) };
}

export function atLeast(release: GoRelease, than: GoRelease): boolean {
  return release.major !== than.major ? release.major > than.major : release.minor >= than.minor;
}

/**
 * The netrc `machine` value this go release looks up for `url`: the host name
 * without port up to go 1.23, `host:port` from go 1.24 when the URL has a port
 * (docs/clients.md).
 */
export function netrcMachineFor(url: URL, release: GoRelease): string {
  const host = url.hostname;
  return url.port !== '' && atLeast(release, NETRC_HOST_PORT_SINCE) ? `${host}:${url.port}` : host;
}

/** One GOPROXY entry and the separator after it (`,`: next only on 404/410; `|`: next on any error). */
export interface ProxyEntry {
  readonly value: string;
  readonly separator: ',' | '|' | undefined;
}

/** Splits a GOPROXY value as the go command does (`go help goproxy`); empty entries are dropped. */
export function parseGoproxy(value: string): ProxyEntry[] {
  const entries: ProxyEntry[] = [];
  let rest = value;
  while (rest !== '') {
    const i = rest.search(/[,|]/);
    const item = (i < 0 ? rest : rest.slice(0, i)).trim();
    const separator = i < 0 ? undefined : (rest[i] as ',' | '|');
    rest = i < 0 ? '' : rest.slice(i + 1);
    if (item !== '') entries.push({ value: item, separator: rest === '' ? undefined : separator });
  }
  return entries;
}

/** An entry as it may be printed: userinfo (a password) removed. */
export function withoutUserinfo(entry: string): string {
  const url = parseUrl(entry);
  if (url === undefined || (url.username === '' && url.password === '')) return entry;
  url.username = '';
  url.password = '';
  return url.href.replace(/\/$/, '');
}

/** Whether a GOPROXY entry points at `base` (scheme, host, port and path; userinfo and a trailing slash ignored). */
export function sameProxy(entry: string, base: URL): boolean {
  const url = parseUrl(entry);
  if (url === undefined) return false;
  const path = (u: URL) => u.pathname.replace(/\/+$/, '');
  return url.protocol === base.protocol && url.host === base.host && path(url) === path(base);
}

export function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether the comma-separated `globs` (GONOSUMDB, GONOPROXY syntax) match
 * every module a private route's `pattern` matches. The pattern is matched as
 * if it were a module path, element by element, so `corp.example` and
 * `corp.example/*` cover `corp.example/*` but `corp.example/team-a` does not.
 */
export function globsCover(globs: string, pattern: string): boolean {
  return matchPrefixPatterns(globs, pattern);
}

/** The entries of `globs` that match some module below `pattern` (they send it around modgate). */
export function globsTouching(globs: string, pattern: string): string[] {
  return splitGlobs(globs).filter((g) => matchPrefixPatterns(g, pattern) || matchPrefixPatterns(pattern, g));
}

export function splitGlobs(globs: string): string[] {
  return globs
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
}

/** Quotes a value for a POSIX shell command line when it needs it. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}
