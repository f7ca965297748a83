/**
 * A checksum database built from the Go team's own code (harness/go-sumdb/main.go
 * on golang.org/x/mod 0.7.0's sumdb.NewServer, tlog and note, Debian's
 * golang-golang-x-mod-dev in GOPATH mode, no network). The binary is built
 * once per source version into the temp folder and shared by every test
 * file of the run; each {@link startGoSumdb} runs its own process on
 * 127.0.0.1 with a key of its own. It can fork, lie and serve bad tiles on
 * command (see main.go).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModgateError } from '../core/errors.ts';
import { buildAgainstXmod } from './xmod-build.ts';

/** Upper bound for the process to print its URL and key (milliseconds). */
const START_TIMEOUT_MS = 15_000;

/** Upper bound for one request to the database (milliseconds). */
const REQUEST_TIMEOUT_MS = 10_000;

const SOURCE = new URL('./go-sumdb/main.go', import.meta.url);

/** How the database misbehaves (main.go's modes). */
export type GoSumdbMode = 'normal' | 'fork' | 'lie' | 'badtiles';

/** A running database. */
export interface GoSumdb {
  readonly url: string;
  readonly name: string;
  /** Its verifier key (`<name>+<hash>+<key>`). */
  readonly key: string;
  /** The `GOSUMDB` value that makes the go command use it directly. */
  readonly gosumdb: string;
  /** Adds the record of one module version (its go.sum lines); resolves to the record id. */
  add(path: string, version: string, goSum: string): Promise<number>;
  /** Appends filler records until the log holds `n`. */
  fill(n: number): Promise<void>;
  setMode(mode: GoSumdbMode): Promise<void>;
  /** The signed tree head of the first `n` records of the log in use. */
  signedHead(n: number): Promise<Buffer>;
  /** Ends the process. */
  close(): Promise<void>;
}

/** Builds main.go, once per source version, and answers the binary's path. */
export async function buildGoSumdb(): Promise<string> {
  const source = await readFile(SOURCE);
  const version = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const home = join(tmpdir(), `modgate-go-sumdb-${version}`);
  const binary = join(home, 'go-sumdb');
  if (existsSync(binary)) return binary;
  const dir = await mkdtemp(join(tmpdir(), 'modgate-go-sumdb-build-'));
  try {
    const out = join(dir, 'out', 'go-sumdb');
    await buildAgainstXmod({ source: SOURCE, pkg: 'gosumdb', dir, out, what: 'the go checksum database' });
    // Another test file may have built it meanwhile; either copy is the same.
    await rename(join(dir, 'out'), home).catch(() => undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (!existsSync(binary)) throw new Error(`building the go checksum database left no ${binary}`);
  return binary;
}

/** Starts a database named `name` holding `records` (path, version, go.sum lines). */
export async function startGoSumdb(
  options: { name?: string; records?: readonly { path: string; version: string; goSum: string }[] } = {},
): Promise<GoSumdb> {
  const binary = await buildGoSumdb();
  const name = options.name ?? 'sum.modgate.test';
  const dir = await mkdtemp(join(tmpdir(), 'modgate-go-sumdb-run-'));
  const recordsFile = join(dir, 'records.json');
  const records = (options.records ?? []).map((r) => ({ path: r.path, version: r.version, gosum: r.goSum }));
  await writeFile(recordsFile, JSON.stringify(records));
  const child = spawn(binary, ['-name', name, '-records', recordsFile], {
    env: {},
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    const [url, key] = await firstLines(child);
    return handle(child, dir, name, url, key);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function firstLines(child: ChildProcess): Promise<[string, string]> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`go checksum database did not start: ${err}`)),
      START_TIMEOUT_MS,
    );
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      if (lines.length >= 3) {
        clearTimeout(timer);
        resolve([lines[0] as string, lines[1] as string]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`go checksum database exited (${code}): ${err}`));
    });
  });
}

function handle(child: ChildProcess, dir: string, name: string, url: string, key: string): GoSumdb {
  const control = async (path: string, init: RequestInit = { method: 'POST' }): Promise<Buffer> => {
    const res = await fetch(`${url}/_control/${path}`, {
      ...init,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200)
      throw new Error(`go checksum database: ${path}: ${res.status} ${body.toString()}`);
    return body;
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    name,
    key,
    gosumdb: `${key} ${url}`,
    async add(path, version, goSum) {
      const q = new URLSearchParams({ path, version });
      return Number((await control(`add?${q}`, { method: 'POST', body: goSum })).toString().trim());
    },
    async fill(n) {
      await control(`fill?n=${n}`);
    },
    async setMode(mode) {
      await control(`mode?set=${mode}`);
    },
    signedHead: (n) => control(`signed?n=${n}`, { method: 'GET' }),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A SumdbTransport (sumdb/client.ts) over HTTP to `url`: 200 is the body,
 * 404/410 on a lookup upstream.not_found, anything else sumdb.unavailable.
 */
export function httpSumdbTransport(url: string): { get(path: string): Promise<Buffer> } {
  return {
    async get(path) {
      let res: Response;
      try {
        res = await fetch(`${url}/${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (err) {
        throw new ModgateError('sumdb.unavailable', `cannot fetch ${path}`, { cause: err });
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (res.status === 200) return body;
      if (path.startsWith('lookup/') && (res.status === 404 || res.status === 410)) {
        throw new ModgateError('upstream.not_found', `${path}: ${res.status}`);
      }
      throw new ModgateError('sumdb.unavailable', `${path}: ${res.status}`);
    },
  };
}
