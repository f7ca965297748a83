/**
 * Child processes of a benchmark: started, stopped with SIGTERM then SIGKILL,
 * all killed when the bench exits however it exits, moved between CPUs with
 * taskset. Memory is read from /proc, so figures are the process's own, not
 * the benchmark's.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** How long a stopped process may take to exit before SIGKILL (ms). */
const STOP_TIMEOUT_MS = 5_000;
/** How long a server may take to print that it is ready (ms). */
const READY_TIMEOUT_MS = 20_000;
/** util-linux taskset: sets the CPUs a process (all its threads) may run on. */
const TASKSET = '/usr/bin/taskset';

/** A started child process. */
export interface BenchProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  stop(): Promise<void>;
}

/** How to kill each live child at once when the bench exits, however it exits. */
const killers = new Set<() => void>();
process.once('exit', () => {
  for (const kill of killers) kill();
});

/** Kills `child` with SIGKILL if the bench exits before it does (for children the caller awaits, e.g. wrk). */
export function killOnExit(child: ChildProcess): void {
  const kill = () => child.kill('SIGKILL');
  killers.add(kill);
  child.once('exit', () => killers.delete(kill));
}

/** Signals a whole process group; a group that has gone already is fine. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/**
 * Spawns `command` in a process group of its own and tracks it until it
 * exits; stopping it or the bench exiting kills the whole group, so children
 * it forks (nginx's workers) never outlive it. stdout is piped for readiness
 * checks; stderr goes to `logFile` when given (operational logs would drown
 * the report), else to the bench's own stderr so a crash is visible.
 */
export function startProcess(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; logFile?: string } = {},
): BenchProcess {
  const stderr = options.logFile === undefined ? 'inherit' : openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', stderr],
    detached: true,
  });
  if (typeof stderr === 'number') closeSync(stderr);
  const { pid } = child;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  child.stdout?.resume(); // never let an unread pipe stall the child
  const killGroup = () => signalGroup(pid, 'SIGKILL');
  killers.add(killGroup);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      // Whatever the leader left behind goes with it, while the group id cannot yet be reused.
      killGroup();
      killers.delete(killGroup);
      resolve();
    }),
  );
  return {
    child,
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves with the first match of `pattern` on the process's stdout; rejects if it exits first. */
export function waitForOutput(proc: BenchProcess, pattern: RegExp, echo = false): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${pattern} within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    proc.child.stdout?.on('data', (chunk: Buffer) => {
      if (echo) process.stderr.write(chunk);
      seen = (seen + chunk.toString()).slice(-4096);
      const m = seen.match(pattern);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process ${proc.pid} exited with ${code} before printing ${pattern}`));
    });
  });
}

/** A gateway child process and the URL it listens on. */
export interface GatewayProcess extends BenchProcess {
  readonly url: string;
}

/**
 * Starts `bin/modgate.ts serve --config <config>` as its own process, as
 * deployed: through the bin's shebang, which carries the gateway's V8 flags.
 * BENCH_NODE_FLAGS adds Node flags for the gateway only, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" (a profile is written when it stops).
 * `checkout`: another checkout of the repository whose bin runs instead
 * (a reference measured side by side).
 */
export async function startGatewayProcess(
  config: string,
  logFile?: string,
  checkout = '.',
): Promise<GatewayProcess> {
  const flags = process.env.BENCH_NODE_FLAGS ?? '';
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${flags}`.trim() };
  const proc = startProcess(join(checkout, 'bin/modgate.ts'), ['serve', '--config', config], {
    env,
    ...(logFile === undefined ? {} : { logFile }),
  });
  try {
    const m = await waitForOutput(proc, /listening on (https?:\/\/\S+)/, flags !== '');
    return { ...proc, url: m[1]! };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

/** A memory figure of a process from /proc/<pid>/status (MB): current RSS or its peak since the last reset. */
export async function rssMb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(new RegExp(`${field}:\\s+(\\d+) kB`))?.[1]);
  return kb / 1024;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
export const TICKS_PER_S = 100;

/**
 * CPU time a process has used so far, user + system (seconds, 10 ms
 * resolution); with `withChildren`, plus that of its exited and reaped children.
 */
export async function cpuSeconds(pid: number | 'self', withChildren = false): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // After the command name (which may hold spaces) comes field 3; utime, stime, cutime, cstime are 14-17.
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return (f[11]! + f[12]! + (withChildren ? f[13]! + f[14]! : 0)) / TICKS_PER_S;
}

/** Resets the kernel's peak RSS counter (VmHWM) of a process to its current RSS. */
export async function resetPeakRss(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

/** The pids of a process's direct children (e.g. nginx's workers). */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number);
}

/** Restricts every thread of each process to the CPU list `cpus` (e.g. "0", "0,1"). */
export async function pinProcesses(pids: readonly number[], cpus: string): Promise<void> {
  for (const pid of pids) await execFileAsync(TASKSET, ['-a', '-p', '-c', cpus, String(pid)]);
}
