/**
 * The go commands this machine has, found once per test process: the current
 * go (the newest of the one on PATH and `/usr/local/go/bin/go`) and Debian's
 * go 1.19 (`/usr/lib/go-1.19/bin/go`, package golang-go). The whole suite runs
 * the current one; the client-compatibility tests run each in {@link CLIENT_GOS}.
 * Every go run is noted in the file `MODGATE_TEST_GO_LOG` names (set by
 * test/setup/go-report.ts), so the suite can print which go versions it drove.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** One go command: where it is and which version it reports. */
export interface GoBinary {
  readonly path: string;
  /** As `go version` prints it, e.g. `go1.26.8`. */
  readonly version: string;
  /** The minor release, e.g. 26 for go1.26.8 (the go 1.x line). */
  readonly minor: number;
}

/** Where Debian's golang-go package puts go 1.19. */
export const DEBIAN_GO_PATH = '/usr/lib/go-1.19/bin/go';
/** Where the machine's current go lives when it is not first on PATH. */
export const USR_LOCAL_GO_PATH = '/usr/local/go/bin/go';

function probe(path: string): GoBinary | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const out = execFileSync(path, ['version'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: '/tmp' },
    });
    const version = /go version (go1\.(\d+)(?:\.\d+)?\S*)/.exec(out);
    if (!version) return undefined;
    return { path: realpathSync(path), version: version[1] as string, minor: Number(version[2]) };
  } catch {
    return undefined;
  }
}

function onPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  return undefined;
}

function findAll(): { current: GoBinary | undefined; legacy: GoBinary | undefined } {
  const seen = new Map<string, GoBinary>();
  for (const candidate of [onPath(), USR_LOCAL_GO_PATH, DEBIAN_GO_PATH]) {
    const found = candidate === undefined ? undefined : probe(candidate);
    if (found && !seen.has(found.path)) seen.set(found.path, found);
  }
  const all = [...seen.values()].sort((a, b) => b.minor - a.minor);
  const current = all[0];
  const legacy = all.find((g) => g.minor <= 23 && g !== current);
  return { current, legacy };
}

const found = findAll();

/** The newest go on this machine; the whole suite runs it. */
export const CURRENT_GO: GoBinary | undefined = found.current;
/** An old go (≤1.23: netrc matched on host without port, no GOAUTH), Debian's 1.19 here. */
export const LEGACY_GO: GoBinary | undefined = found.legacy;

/** The go the suite runs by default. */
export const GO: GoBinary = (() => {
  if (CURRENT_GO === undefined) throw new Error('no go command on PATH, at /usr/local/go or from golang-go');
  return CURRENT_GO;
})();

/** Every generation of go the client-compatibility tests run under: current first, then the old one. */
export const CLIENT_GOS: readonly GoBinary[] = [CURRENT_GO, LEGACY_GO].filter(
  (g): g is GoBinary => g !== undefined,
);

/** go ≥1.24 matches netrc machines on host:port and speaks GOAUTH. */
export function matchesNetrcPort(go: GoBinary): boolean {
  return go.minor >= 24;
}

/** Notes one run of `go` for the suite's closing line (a no-op outside `npm test`). */
export function noteGoRun(go: GoBinary): void {
  const log = process.env.MODGATE_TEST_GO_LOG;
  if (log) appendFileSync(log, `${go.version} ${go.path}\n`);
}
