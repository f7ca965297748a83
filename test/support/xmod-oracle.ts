/**
 * Go's own golang.org/x/mod as a test oracle: builds test/support/xmod-oracle/main.go
 * once (GOPATH mode, against Debian's golang-golang-x-mod-dev, no network) and
 * keeps one process running that answers batches of cases over stdin/stdout,
 * one JSON line each. Differential tests compare core/gomod and checksum/
 * with its answers.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GO, type GoBinary, LEGACY_GO } from '../../harness/go.ts';
import { buildAgainstXmod } from '../../harness/xmod-build.ts';

export { XMOD_GOPATH } from '../../harness/xmod-build.ts';

/** The questions the oracle answers; see main.go for what `out` holds for each. */
export type OracleOp =
  | 'checkPath'
  | 'checkImportPath'
  | 'checkFilePath'
  | 'escapePath'
  | 'unescapePath'
  | 'escapeVersion'
  | 'unescapeVersion'
  | 'splitPathVersion'
  | 'semver'
  | 'compare'
  | 'matchPrefixPatterns'
  | 'pathMatch'
  | 'parseTilePath';

/** One question: the op and its string arguments (`b` only for two-argument ops). */
export interface OracleCase {
  op: OracleOp;
  a: string;
  b?: string;
}

/**
 * A question about a module zip file: `a` its path, `b` `<module>@<version>`;
 * zip.CheckZip then dirhash.HashZip, `out` [h1] when both pass.
 */
export interface ZipOracleCase {
  op: 'zipHash';
  a: string;
  b: string;
}

/** One answer: `err` is the Go error text, absent on success; `out` the returned values in Go order. */
export interface OracleResult {
  err?: string;
  out: (string | number | boolean)[];
}

/** A running oracle process. */
export interface XmodOracle {
  /** Answers the cases in order, in one round trip. */
  ask(cases: readonly (OracleCase | ZipOracleCase)[]): Promise<OracleResult[]>;
  /** Ends the process and removes the build directory. */
  close(): Promise<void>;
}

/**
 * Builds the oracle into a fresh temp dir and starts it. `go` picks the go
 * that builds it, and so the standard library (archive/zip, path, unicode)
 * x/mod runs on; default Debian's go 1.19 where the machine has it.
 */
export async function startXmodOracle(go: GoBinary = LEGACY_GO ?? GO): Promise<XmodOracle> {
  const dir = await mkdtemp(join(tmpdir(), 'modgate-xmod-oracle-'));
  try {
    const binary = await buildOracle(dir, go);
    return runOracle(binary, dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function buildOracle(dir: string, go: GoBinary): Promise<string> {
  const binary = join(dir, 'xmod-oracle');
  const source = new URL('./xmod-oracle/main.go', import.meta.url);
  await buildAgainstXmod({ source, pkg: 'xmodoracle', dir, out: binary, what: 'the x/mod oracle', go });
  return binary;
}

function runOracle(binary: string, dir: string): XmodOracle {
  const child: ChildProcessWithoutNullStreams = spawn(binary, [], { env: {} });
  /** Waiters in request order; each takes `count` lines. */
  const pending: { count: number; lines: OracleResult[]; resolve(r: OracleResult[]): void }[] = [];
  let buffered = '';
  let failure: Error | undefined;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const waiter = pending[0];
      if (waiter !== undefined) {
        waiter.lines.push(JSON.parse(line) as OracleResult);
        if (waiter.lines.length === waiter.count) {
          pending.shift();
          waiter.resolve(waiter.lines);
        }
      }
      nl = buffered.indexOf('\n');
    }
  });
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code) => {
      failure = new Error(`x/mod oracle exited (${code}): ${stderr.trim()}`);
      resolve();
    });
  });
  child.on('error', (err) => {
    failure = err;
  });
  return {
    async ask(cases) {
      if (failure !== undefined) throw failure;
      if (cases.length === 0) return [];
      const answer = new Promise<OracleResult[]>((resolve) => {
        pending.push({ count: cases.length, lines: [], resolve });
      });
      child.stdin.write(cases.map((c) => JSON.stringify({ op: c.op, a: c.a, b: c.b ?? '' }) + '\n').join(''));
      return Promise.race([
        answer,
        exited.then(() => {
          throw failure;
        }),
      ]);
    },
    async close() {
      child.stdin.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
