/**
 * A server process for tests (slapd, redis-server): spawned, polled until its
 * port accepts connections, stopped with a signal and SIGKILL after a bound.
 * Every daemon still running when the test process exits is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { LOOPBACK_V4 } from './ports.ts';

/** Upper bound for a daemon to accept connections after start (milliseconds). */
const START_TIMEOUT_MS = 10_000;
/** Upper bound for a daemon to exit after its stop signal before SIGKILL (milliseconds). */
const STOP_TIMEOUT_MS = 5_000;
/** Pause between connection attempts while a daemon starts (milliseconds). */
const POLL_INTERVAL_MS = 20;
/** Kept for a failure message: this many characters of a daemon's output. */
const LOG_TAIL_CHARS = 2_000;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface DaemonSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The loopback port that accepts connections once the daemon is up. */
  readonly port: number;
  readonly cwd?: string;
  /** Where its output goes: both streams, or stderr only (slapd's debug log). */
  readonly output?: 'both' | 'stderr';
}

export interface Daemon {
  readonly process: ChildProcess;
  /** What it printed so far, chunk by chunk. */
  readonly log: string[];
  /** Sends `signal` (after SIGCONT, so a paused daemon hears it) and waits for the exit; SIGKILL after a bound. */
  end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** Spawns the daemon and resolves once its port accepts connections; throws with its output tail if it exits or takes too long. */
export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  const log: string[] = [];
  const both = (spec.output ?? 'both') === 'both';
  const proc = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    stdio: ['ignore', both ? 'pipe' : 'ignore', 'pipe'],
  });
  running.add(proc);
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    running.delete(proc);
  });
  if (both) proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await canConnect(spec.port))) {
    if (exited || Date.now() > deadline) {
      proc.kill('SIGKILL');
      const name = spec.command.split('/').at(-1);
      throw new Error(`${name} did not start on port ${spec.port}:\n${log.join('').slice(-LOG_TAIL_CHARS)}`);
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  return { process: proc, log, end: (signal) => end(proc, signal) };
}

async function end(proc: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGCONT');
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** True when a TCP connection to the loopback `port` succeeds. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: LOOPBACK_V4, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
