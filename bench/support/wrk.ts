/**
 * Load from Debian's wrk (a separate C process, so the load generator's own
 * cost stays out of the servers' figures): fixed connections for a fixed time,
 * keep-alive, latency percentiles from its HdrHistogram (`--latency`).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { killOnExit } from './processes.ts';

const execFileAsync = promisify(execFile);

const WRK = '/usr/bin/wrk';
/** Per-request timeout inside wrk (s): a 100 MB download must not count as a timeout. */
const WRK_TIMEOUT_S = 60;
/** Slack on top of the run's duration before wrk itself is killed (ms). */
const WRK_KILL_SLACK_MS = 90_000;

/** One wrk run. */
export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** wrk threads (event loops); at most `connections`. */
  threads: number;
  /** The Authorization header value, if any. */
  authorization?: string | undefined;
  /** A wrk Lua script (`-s`) and the arguments its `init(args)` receives. */
  script?: { path: string; args: readonly string[] } | undefined;
}

/** What wrk measured. */
export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  /** Body and header bytes read per second (MB/s, 2^20 bytes). */
  mbPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses with status ≥ 400, and socket errors (connect, read, write, timeout). */
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
const UNIT_MB: Record<string, number> = { B: 1 / 1048576, KB: 1 / 1024, MB: 1, GB: 1024, TB: 1048576 };

function number(text: string, pattern: RegExp, what: string): RegExpMatchArray {
  const m = text.match(pattern);
  if (m === null) throw new Error(`wrk output has no ${what}:\n${text}`);
  return m;
}

/** Parses wrk 4's report (with `--latency`). */
export function parseWrk(text: string): LoadResult {
  const latency = (pct: string) => {
    const m = number(text, new RegExp(`^\\s+${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'), `${pct}% latency`);
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  };
  const requests = Number(number(text, /(\d+) requests in /, 'request count')[1]);
  const transfer = number(text, /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)/, 'transfer rate');
  const socket = text.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const socketErrors = socket === null ? 0 : socket.slice(1, 5).reduce((n, s) => n + Number(s), 0);
  return {
    requests,
    requestsPerSecond: Number(number(text, /Requests\/sec:\s+([\d.]+)/, 'requests/s')[1]),
    mbPerSecond: Number(transfer[1]) * UNIT_MB[transfer[2]!]!,
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    errors: non2xx + socketErrors,
  };
}

/** Runs wrk and returns its figures; throws when any request failed (a misconfigured contender). */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const args = [
    `-t${Math.min(options.threads, options.connections)}`,
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    `--timeout=${WRK_TIMEOUT_S}s`,
    '--latency',
    ...(options.authorization === undefined ? [] : ['-H', `Authorization: ${options.authorization}`]),
    ...(options.script === undefined ? [] : ['-s', options.script.path]),
    options.url,
    ...(options.script === undefined ? [] : ['--', ...options.script.args]),
  ];
  const run = execFileAsync(WRK, args, {
    timeout: options.seconds * 1000 + WRK_KILL_SLACK_MS,
    killSignal: 'SIGKILL',
  });
  killOnExit(run.child);
  const { stdout } = await run;
  const result = parseWrk(stdout);
  if (result.errors > 0) {
    throw new Error(`wrk: ${result.errors} failed requests on ${options.url}:\n${stdout}`);
  }
  return result;
}
