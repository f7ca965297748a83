/**
 * Runs the real go command (the machine's current go by default, or the
 * generation a test names, see go-binaries.ts) in an isolated environment: its
 * own HOME, GOPATH, module cache, build cache and netrc, so a test sees exactly
 * what the go command fetched and sent, and nothing of the developer's machine
 * leaks in.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GO, type GoBinary, noteGoRun } from './go-binaries.ts';

export { CLIENT_GOS, GO, type GoBinary, LEGACY_GO, matchesNetrcPort } from './go-binaries.ts';

/** Default upper bound for one go invocation (milliseconds). */
export const GO_TIMEOUT_MS = 30_000;

/** Cap on captured stdout/stderr per stream (bytes); the rest is dropped. */
const MAX_OUTPUT_BYTES = 1_000_000;

/** Options for {@link makeGoEnv}. */
export interface GoEnvOptions {
  /** The GOPROXY value, e.g. `https://127.0.0.1:8443` or `file:///tmp/x`. */
  goproxy: string;
  /** Path of a netrc file (see {@link writeNetrc}); default: a file that does not exist. */
  netrc?: string;
  /** CA bundle the go command trusts (`SSL_CERT_FILE`). */
  caCertPath?: string;
}

/** An isolated go environment and the directories it uses. */
export interface GoEnv {
  env: Record<string, string>;
  home: string;
  gopath: string;
  gomodcache: string;
  gocache: string;
  netrc: string;
}

/**
 * Creates the directories under `dir` and returns the environment for the go
 * command. Only PATH (and TMPDIR) are taken from this process; every other GO*
 * variable is set here or absent (GONOSUMDB, GOPRIVATE, GONOPROXY, GOINSECURE,
 * GOAUTH: go ≥1.24 then reads the netrc). Every go generation reads `NETRC` as
 * the netrc path.
 */
export async function makeGoEnv(dir: string, options: GoEnvOptions): Promise<GoEnv> {
  const home = join(dir, 'home');
  const gopath = join(dir, 'gopath');
  const gomodcache = join(gopath, 'pkg', 'mod');
  const gocache = join(dir, 'gocache');
  await Promise.all([home, gomodcache, gocache].map((d) => mkdir(d, { recursive: true })));
  await turnOffGoTelemetry(home);
  const netrc = options.netrc ?? join(home, '.netrc');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GOPATH: gopath,
    GOMODCACHE: gomodcache,
    GOCACHE: gocache,
    GOENV: 'off',
    NETRC: netrc,
    GOPROXY: options.goproxy,
    GOSUMDB: 'off',
    GOFLAGS: '-modcacherw',
    GOTOOLCHAIN: 'local',
    GO111MODULE: 'on',
    CGO_ENABLED: '0',
  };
  if (process.env.TMPDIR !== undefined) env.TMPDIR = process.env.TMPDIR;
  if (options.caCertPath !== undefined) env.SSL_CERT_FILE = options.caCertPath;
  return { env, home, gopath, gomodcache, gocache, netrc };
}

/**
 * Writes go's telemetry mode file under `home` as `off`. Otherwise go ≥1.23
 * writes counters there and may start a detached child that still writes
 * after go has exited, so removing the directory fails with ENOTEMPTY.
 */
export async function turnOffGoTelemetry(home: string): Promise<void> {
  const dir = join(home, '.config', 'go', 'telemetry');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'mode'), 'off');
}

/** Options for {@link runGo}. */
export interface RunGoOptions {
  env: Record<string, string>;
  cwd: string;
  /** Kill the go command after this long (milliseconds); default {@link GO_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Which go runs; default {@link GO}, the machine's current one. */
  go?: GoBinary;
}

/** Outcome of one go invocation; `code` is -1 when it was killed. */
export interface GoResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `go <args>`; resolves on exit or timeout, never rejects for a non-zero exit. */
export function runGo(args: string[], options: RunGoOptions): Promise<GoResult> {
  const timeoutMs = options.timeoutMs ?? GO_TIMEOUT_MS;
  const go = options.go ?? GO;
  noteGoRun(go);
  return new Promise((resolve, reject) => {
    const child = spawn(go.path, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (into.reduce((n, b) => n + b.length, 0) < MAX_OUTPUT_BYTES) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** One `machine` line of a netrc file. */
export interface NetrcEntry {
  machine: string;
  login: string;
  password: string;
}

/** Which netrc lines to write for a URL: host only (go ≤1.23), host:port only (go ≥1.24), or both. */
export type NetrcForm = 'host' | 'host:port' | 'both';

/** The netrc `machine` names of `url` in the given form. */
export function netrcMachines(url: string, form: NetrcForm): string[] {
  const { hostname, host } = new URL(url);
  if (form === 'host') return [hostname];
  if (form === 'host:port') return [host];
  return host === hostname ? [hostname] : [hostname, host];
}

/** Writes (or replaces) a netrc file with mode 0600, as a credentials file should have. */
export async function writeNetrc(path: string, entries: NetrcEntry[]): Promise<void> {
  const text = entries.map((e) => `machine ${e.machine} login ${e.login} password ${e.password}\n`).join('');
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Creates `dir` with a `go.mod` for `modulePath` at language version 1.19. */
export async function initModule(dir: string, modulePath: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'go.mod'), `module ${modulePath}\n\ngo 1.19\n`);
}

/**
 * Every file under `$GOMODCACHE/cache/download`, as sorted paths relative to
 * that directory with `/` separators (e.g. `example.com/hello/@v/v1.0.0.zip`).
 */
export async function listModCache(gomodcache: string): Promise<string[]> {
  const base = join(gomodcache, 'cache', 'download');
  try {
    const entries = await readdir(base, { recursive: true, withFileTypes: true });
    return entries
      .filter((e) => e.isFile())
      .map((e) => relative(base, join(e.parentPath, e.name)).split(sep).join('/'))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
