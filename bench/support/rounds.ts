/**
 * How the bench measures: rounds that alternate the contenders (a busy moment
 * of the shared machine then hits all of them), the median round reported,
 * each contender optionally alone on one core, with its CPU time and memory.
 */
import { BENCH_PATHS } from './bench-modules.ts';
import type { Contender } from './contenders.ts';
import { PACED_RATE, runPaced } from './paced.ts';
import { cpuSeconds, pinProcesses, rssMb } from './processes.ts';
import { median } from './report.ts';
import { type LoadResult, runLoad } from './wrk.ts';

/** Seconds of each load round. */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Rounds per figure, alternating the contenders; the median round is reported. */
export const ROUNDS = 3;
/** Seconds of unmeasured load per contender first (JIT, caches, keep-alive pools). */
export const WARMUP_SECONDS = 2;
/** Connections per load shape. */
export const CONNECTIONS = { info: 32, zip1m: 8, zip100m: 2 } as const;
/** CPU placement when pinned: the server under test alone on one core, the rest on the other. */
export const PIN = process.env.BENCH_PIN === '1';
export const CPU_UNDER_TEST = '0';
export const CPU_REST = '1';

/** Runs `fn` with the contender alone on CPU 0 (when pinning), then returns it to the shared core. */
export async function placed<T>(c: Contender, fn: () => Promise<T>): Promise<T> {
  if (!PIN) return fn();
  const pids = await c.pids();
  await pinProcesses(pids, CPU_UNDER_TEST);
  try {
    return await fn();
  } finally {
    await pinProcesses(pids, CPU_REST);
  }
}

/** `fn` for every contender, `rounds` times round-robin; results per contender in round order. */
export async function roundRobin<T>(
  contenders: readonly Contender[],
  rounds: number,
  fn: (c: Contender) => Promise<T>,
): Promise<Map<Contender, T[]>> {
  const results = new Map<Contender, T[]>(contenders.map((c) => [c, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) results.get(c)!.push(await placed(c, () => fn(c)));
  }
  return results;
}

export async function memory(c: Contender, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  let mb = 0;
  for (const pid of await c.pids()) mb += await rssMb(pid, field);
  return mb;
}

/** CPU time used so far by the processes serving a contender (s). */
export async function cpuOf(c: Contender): Promise<number> {
  let s = 0;
  for (const pid of await c.pids()) s += await cpuSeconds(pid);
  return s;
}

/** `fn`'s result and the CPU time (s) the contender's processes used while it ran. */
export async function withCpu<T>(c: Contender, fn: () => Promise<T>): Promise<T & { cpuS: number }> {
  const before = await cpuOf(c);
  const result = await fn();
  return { ...result, cpuS: (await cpuOf(c)) - before };
}

/** CPU ms per MB of a zip round: wrk's bytes read include downloads still running when it stops. */
export const cpuPerMb = (r: LoadResult & { cpuS: number }) => (r.cpuS * 1000) / (r.mbPerSecond * SECONDS);

export const load = (c: Contender, path: string, connections: number, seconds = SECONDS) =>
  runLoad({ url: c.url + path, connections, seconds, threads: PIN ? 1 : 2, authorization: c.authorization });

export const pick = <R extends LoadResult>(rs: readonly R[], f: (r: R) => number) => median(rs.map(f));

export const paced = (c: Contender) =>
  runPaced({
    url: c.url + BENCH_PATHS.info,
    connections: CONNECTIONS.info,
    seconds: SECONDS,
    threads: PIN ? 1 : 2,
    authorization: c.authorization,
    rate: PACED_RATE,
  });
