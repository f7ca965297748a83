import { BENCH_PATHS } from './bench-modules.ts';
import type { BenchWorld, Contender } from './contenders.ts';
import { keptRate, PACED_RATE, reachableRate } from './paced.ts';
import { median } from './report.ts';
import {
  CONNECTIONS,
  cpuOf,
  load,
  paced,
  pick,
  ROUNDS,
  roundRobin,
  SECONDS,
  WARMUP_SECONDS,
} from './rounds.ts';

/**
 * `.info` latency at the fixed rate {@link PACED_RATE} (32 connections, each
 * pausing between requests), in rounds alternating the contenders: what each
 * adds to a request when it is not saturated. Call after measureLoads, whose
 * saturated rates the fixed one must stay below, and which warmed the
 * contenders up. Returns notes and warnings.
 */
export async function measurePaced(world: BenchWorld, contenders: readonly Contender[]): Promise<string[]> {
  const notes: string[] = [];
  for (const c of contenders) {
    const saturated = c.figures.infoRps;
    if (saturated !== undefined && saturated <= PACED_RATE)
      notes.push(
        `WARNING: the fixed rate ${PACED_RATE} req/s is not below ${c.name}'s saturated .info rate ` +
          `(${Math.round(saturated)} req/s): its latency at that rate is queueing`,
      );
  }
  const rounds = await roundRobin(contenders, ROUNDS, paced);
  for (const c of contenders) {
    const rs = rounds.get(c)!;
    const achieved = pick(rs, (r) => r.requestsPerSecond);
    Object.assign(c.figures, { pacedP50Ms: pick(rs, (r) => r.p50Ms), pacedP99Ms: pick(rs, (r) => r.p99Ms) });
    notes.push(
      `.info at ${PACED_RATE} req/s, ${c.name}: achieved ${rs.map((r) => Math.round(r.requestsPerSecond)).join(', ')} req/s, ` +
        `p99 ${rs.map((r) => r.p99Ms.toFixed(2)).join(', ')} ms`,
    );
    if (!keptRate(achieved, PACED_RATE, CONNECTIONS.info, SECONDS)) {
      const reachable = Math.round(reachableRate(PACED_RATE, CONNECTIONS.info, SECONDS));
      notes.push(
        `WARNING: ${c.name} did not keep the fixed rate: ${Math.round(achieved)} req/s in its median round ` +
          `against ${reachable} reachable (${PACED_RATE} less each connection's first pause); its latency ` +
          `there includes queueing`,
      );
    }
  }
  const m = world.modgate.figures;
  const added = (base: Contender, key: 'pacedP50Ms' | 'pacedP99Ms') =>
    `+${(m[key]! - base.figures[key]!).toFixed(2)} ms`;
  notes.push(
    `modgate at ${PACED_RATE} req/s: added p99 ${added(world.direct, 'pacedP99Ms')} over direct, ` +
      `${added(world.nginx, 'pacedP99Ms')} over nginx (p50 ${added(world.direct, 'pacedP50Ms')} and ` +
      `${added(world.nginx, 'pacedP50Ms')})`,
  );
  return notes;
}

/**
 * The `.info` figures of modgate's variants (personal tokens, Redis state)
 * against modgate itself, in rounds that alternate the three: the cost of a
 * cached authentication with Redis against in-process state, as a ratio.
 */
export async function measureVariants(world: BenchWorld): Promise<string[]> {
  const variants = [world.modgate, world.modgatePat, world.modgateRedis];
  await roundRobin(variants, 1, (c) => load(c, BENCH_PATHS.info, CONNECTIONS.info, WARMUP_SECONDS));
  const info = await roundRobin(variants, ROUNDS, async (c) => {
    const cpu = await cpuOf(c);
    const r = await load(c, BENCH_PATHS.info, CONNECTIONS.info);
    return { ...r, cpuUs: (((await cpuOf(c)) - cpu) / r.requests) * 1e6 };
  });
  const figures = new Map(
    variants.map((c) => {
      const rounds = info.get(c)!;
      return [
        c,
        {
          rps: pick(rounds, (r) => r.requestsPerSecond),
          p50: pick(rounds, (r) => r.p50Ms),
          cpuUs: median(rounds.map((r) => r.cpuUs)),
        },
      ] as const;
    }),
  );
  for (const c of [world.modgatePat, world.modgateRedis]) {
    const f = figures.get(c)!;
    Object.assign(c.figures, {
      infoRps: f.rps,
      infoP50Ms: f.p50,
      infoP99Ms: pick(info.get(c)!, (r) => r.p99Ms),
      infoCpuUs: f.cpuUs,
    });
  }
  const base = figures.get(world.modgate)!;
  return [world.modgatePat, world.modgateRedis].map((c) => {
    const f = figures.get(c)!;
    return (
      `${c.name} ÷ modgate (same rounds, .info, cached authentication): ` +
      `CPU/request ${(f.cpuUs / base.cpuUs).toFixed(2)}× (${Math.round(f.cpuUs)} vs ${Math.round(base.cpuUs)} µs), ` +
      `req/s ${(f.rps / base.rps).toFixed(2)}×, p50 ${(f.p50 / base.p50).toFixed(2)}×`
    );
  });
}
