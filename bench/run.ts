/**
 * bench/run (`npm run bench`): modgate against direct-to-upstream and against
 * nginx with auth_basic + proxy_pass, side by side in one run on loopback,
 * printed as one markdown table with ratios and the targets in bench/support/report.ts;
 * `.info` latency also at a fixed rate below saturation (what a contender adds,
 * not queueing); then the forwarding floor: minimal Node forwarders on
 * http-proxy-3, undici and node:http against the same upstream.
 * Every figure is taken in rounds that alternate the contenders (a busy
 * moment of the shared machine then hits all of them), and the median round
 * is reported. Exits 0 when it measured (MISSED targets included), 1 on a
 * real error.
 *
 * Environment: BENCH_SECONDS, seconds per load round (default 5);
 * BENCH_PIN=1 gives the server under test CPU 0 and everything else CPU 1
 * (default: the scheduler places them; see BENCHMARKS.md for why);
 * BENCH_NODE_FLAGS adds Node flags to the gateway, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" (then: node bench/profile-top.ts <file>).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_GOS, CURRENT_GO } from '../harness/go-binaries.ts';
import { sameDn } from '../harness/slapd-log.ts';
import { BENCH_PATHS, ZIP_BYTES } from './support/bench-modules.ts';
import { addDirectoryUsers, coldUsers, timedFirstRequest } from './support/cold-auth.ts';
import {
  type BenchWorld,
  CONTENDER_NAMES,
  type Contender,
  LOAD_USER,
  startBenchWorld,
} from './support/contenders.ts';
import { measureForwardingFloor } from './support/forwarding-floor.ts';
import { type GoTarget, timeGoModDownload } from './support/go-download.ts';
import { measureGoFloor } from './support/go-floor.ts';
import { describeMachine, startCpuAccounting } from './support/machine.ts';
import { keptRate, PACED_RATE, pacingIntervalMs, reachableRate, runPaced } from './support/paced.ts';
import { cpuSeconds, pinProcesses, resetPeakRss, rssMb } from './support/processes.ts';
import { median, type Row, renderTable } from './support/report.ts';
import { type LoadResult, runLoad } from './support/wrk.ts';

/** Seconds of each load round. */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** Rounds per figure, alternating the contenders; the median round is reported. */
const ROUNDS = 3;
/** Seconds of unmeasured load per contender first (JIT, caches, keep-alive pools). */
const WARMUP_SECONDS = 2;
/**
 * Seconds of each forwarding-floor round, and of its warm-up: its figure is CPU per request, steady
 * after a few thousand requests; shorter rounds keep the whole bench near 5 minutes.
 */
const FLOOR_SECONDS = Math.min(SECONDS, 3);
const FLOOR_WARMUP_SECONDS = 1;
/** Connections per load shape. */
const CONNECTIONS = { info: 32, zip1m: 8, zip100m: 2 } as const;
/** New directory users for cold-auth latency (one first request each). */
const COLD_USERS = 20;
/** Upper bound for the whole run (ms). */
const DEADLINE_MS = 12 * 60_000;
/** Upper bound for stopping everything after an interrupt or the deadline (ms). */
const ABORT_CLEANUP_MS = 15_000;
/** CPU placement when pinned: the server under test alone on one core, the rest on the other. */
const PIN = process.env.BENCH_PIN === '1';
const CPU_UNDER_TEST = '0';
const CPU_REST = '1';

/** Runs `fn` with the contender alone on CPU 0 (when pinning), then returns it to the shared core. */
async function placed<T>(c: Contender, fn: () => Promise<T>): Promise<T> {
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
async function roundRobin<T>(
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

async function memory(c: Contender, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  let mb = 0;
  for (const pid of await c.pids()) mb += await rssMb(pid, field);
  return mb;
}

/** CPU time used so far by the processes serving a contender (s). */
async function cpuOf(c: Contender): Promise<number> {
  let s = 0;
  for (const pid of await c.pids()) s += await cpuSeconds(pid);
  return s;
}

/** `fn`'s result and the CPU time (s) the contender's processes used while it ran. */
async function withCpu<T>(c: Contender, fn: () => Promise<T>): Promise<T & { cpuS: number }> {
  const before = await cpuOf(c);
  const result = await fn();
  return { ...result, cpuS: (await cpuOf(c)) - before };
}

/** CPU ms per MB of a zip round: wrk's bytes read include downloads still running when it stops. */
const cpuPerMb = (r: LoadResult & { cpuS: number }) => (r.cpuS * 1000) / (r.mbPerSecond * SECONDS);

const load = (c: Contender, path: string, connections: number, seconds = SECONDS) =>
  runLoad({ url: c.url + path, connections, seconds, threads: PIN ? 1 : 2, authorization: c.authorization });

const pick = <R extends LoadResult>(rs: readonly R[], f: (r: R) => number) => median(rs.map(f));

const paced = (c: Contender) =>
  runPaced({
    url: c.url + BENCH_PATHS.info,
    connections: CONNECTIONS.info,
    seconds: SECONDS,
    threads: PIN ? 1 : 2,
    authorization: c.authorization,
    rate: PACED_RATE,
  });

/**
 * `.info` latency at the fixed rate {@link PACED_RATE} (32 connections, each
 * pausing between requests), in rounds alternating the contenders: what each
 * adds to a request when it is not saturated. Call after measureLoads, whose
 * saturated rates the fixed one must stay below, and which warmed the
 * contenders up. Returns notes and warnings.
 */
async function measurePaced(world: BenchWorld, contenders: readonly Contender[]): Promise<string[]> {
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
async function measureVariants(world: BenchWorld): Promise<string[]> {
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

/** .info rate and latency, LDAP binds under load, zip bandwidth, RSS; returns notes for the report. */
async function measureLoads(world: BenchWorld, contenders: readonly Contender[]): Promise<string[]> {
  await roundRobin(contenders, 1, (c) => load(c, BENCH_PATHS.info, CONNECTIONS.info, WARMUP_SECONDS));
  const info = await roundRobin(contenders, ROUNDS, async (c) => {
    const bindsBefore = (await world.slapd.binds()).length;
    const { cpuS, ...r } = await withCpu(c, () => load(c, BENCH_PATHS.info, CONNECTIONS.info));
    const binds = (await world.slapd.binds()).slice(bindsBefore);
    return { ...r, binds, cpuUs: (cpuS / r.requests) * 1e6 };
  });
  const zip1m = await roundRobin(contenders, ROUNDS, (c) =>
    withCpu(c, () => load(c, BENCH_PATHS.zip1m, CONNECTIONS.zip1m)),
  );
  const before = new Map<Contender, number>();
  for (const c of contenders) {
    before.set(c, await memory(c, 'VmRSS'));
    c.figures.peakRssMb = await memory(c, 'VmHWM');
    for (const pid of await c.pids()) await resetPeakRss(pid);
  }
  const zip100m = await roundRobin(contenders, ROUNDS, (c) =>
    withCpu(c, () => load(c, BENCH_PATHS.zip100m, CONNECTIONS.zip100m)),
  );
  const notes: string[] = [];
  for (const c of contenders) {
    const rounds = info.get(c)!;
    Object.assign(c.figures, {
      infoRps: pick(rounds, (r) => r.requestsPerSecond),
      infoP50Ms: pick(rounds, (r) => r.p50Ms),
      infoP99Ms: pick(rounds, (r) => r.p99Ms),
      infoCpuUs: median(rounds.map((r) => r.cpuUs)),
      zip1mMbps: pick(zip1m.get(c)!, (r) => r.mbPerSecond),
      zip1mCpuMsPerMb: pick(zip1m.get(c)!, cpuPerMb),
      zip100mMbps: pick(zip100m.get(c)!, (r) => r.mbPerSecond),
      zip100mCpuMsPerMb: pick(zip100m.get(c)!, cpuPerMb),
      rssGrowthMb: (await memory(c, 'VmHWM')) - before.get(c)!,
    });
    notes.push(
      `.info rounds, ${c.name}: ${rounds.map((r) => Math.round(r.requestsPerSecond)).join(', ')} req/s`,
    );
  }
  // Binds while modgate's .info rounds ran; all their requests came from the one cached user.
  const modgateRounds = info.get(world.modgate)!;
  const binds = modgateRounds.flatMap((r) => r.binds);
  const requests = modgateRounds.reduce((n, r) => n + r.requests, 0);
  world.modgate.figures.ldapBindsPer1k = (binds.length / requests) * 1000;
  const service = binds.filter((b) => sameDn(b.dn, world.slapd.bindDn)).length;
  notes.push(
    `LDAP binds during modgate's .info rounds: ${binds.length - service} as users, ${service} as the service account`,
  );
  return notes;
}

async function measureColdAuth(world: BenchWorld): Promise<string> {
  const users = coldUsers(COLD_USERS);
  await addDirectoryUsers(world.slapd, users);
  const { modgate } = world;
  const get = (user: { name: string; password: string }) =>
    timedFirstRequest(modgate.url, BENCH_PATHS.info, world.pki.caPem, user);
  const cold: number[] = [];
  const warm: number[] = [];
  const binds = (await world.slapd.binds()).length;
  await placed(modgate, async () => {
    for (const user of users) {
      cold.push(await get(user));
      warm.push(await get(LOAD_USER));
    }
  });
  modgate.figures.coldAuthMs = median(cold);
  modgate.figures.warmFirstMs = median(warm);
  const perUser = ((await world.slapd.binds()).length - binds) / users.length;
  return `cold auth: ${users.length} new users, ${perUser.toFixed(1)} LDAP bind(s) each, p50 ${median(cold).toFixed(2)} ms, max ${Math.max(...cold).toFixed(2)} ms`;
}

/**
 * `go mod download` of the graph with the module cache on disk (as a
 * developer has it) and, where the machine has one, in tmpfs: there go's own
 * file writes, which swing the disk figure from run to run, drop out. Then
 * the floor any TLS proxy sets (bench/support/go-floor.ts); returns its lines.
 */
async function measureGoDownloads(world: BenchWorld, contenders: readonly Contender[], scratch: string) {
  const tmpfs = await tmpfsScratch();
  const lines: string[] = [];
  try {
    for (const go of CLIENT_GOS) {
      const [disk, inTmpfs] =
        go === CURRENT_GO
          ? (['goDownloadMs', 'goDownloadTmpfsMs'] as const)
          : (['goDownloadLegacyMs', 'goDownloadLegacyTmpfsMs'] as const);
      const onDisk = await roundRobin(contenders, ROUNDS, (c) =>
        timeGoModDownload(world.graphRoot, scratch, c.go, 1, go),
      );
      for (const c of contenders) c.figures[disk] = median(onDisk.get(c)!.flat());
      if (tmpfs !== undefined) {
        const inMemory = await roundRobin(contenders, ROUNDS, (c) =>
          timeGoModDownload(world.graphRoot, tmpfs, c.go, 1, go),
        );
        for (const c of contenders) c.figures[inTmpfs] = median(inMemory.get(c)!.flat());
      }
      const once = async (target: GoTarget) =>
        (await timeGoModDownload(world.graphRoot, tmpfs ?? scratch, target, 1, go))[0]!;
      const cache = tmpfs === undefined ? 'on disk' : 'in tmpfs';
      lines.push(...(await measureGoFloor(world, scratch, ROUNDS, once, `${cache}, ${go.version}`)));
    }
    return lines;
  } finally {
    if (tmpfs !== undefined) await rm(tmpfs, { recursive: true, force: true });
  }
}

/** A new folder in /dev/shm when that is a tmpfs (Linux), else undefined. */
async function tmpfsScratch(): Promise<string | undefined> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  if (!mounts.split('\n').some((m) => /^\S+ \/dev\/shm tmpfs /.test(m))) return undefined;
  return mkdtemp(join('/dev/shm', 'modgate-bench-'));
}

async function main(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'modgate-bench-'));
  let world: BenchWorld | undefined;
  // Stops what runs (slapd's folder goes too), within a bound; exiting then runs the exit hooks
  // that kill any child left (processes.ts, slapd.ts), which a signal alone would not.
  const abort = async (why: string, code: number) => {
    console.error(`bench: ${why}`);
    setTimeout(() => process.exit(code), ABORT_CLEANUP_MS).unref();
    await world?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  const deadline = setTimeout(() => void abort('deadline exceeded', 2), DEADLINE_MS);
  process.once('SIGINT', () => void abort('interrupted', 130));
  process.once('SIGTERM', () => void abort('terminated', 143));
  const cpuUse = await startCpuAccounting();
  const started = performance.now();
  try {
    // Children inherit the CPU set: slapd, nginx, modgate, wrk and go start on the shared core.
    if (PIN) await pinProcesses([process.pid], CPU_REST);
    world = await startBenchWorld(dir);
    const contenders = [world.direct, world.nginx, world.modgate];
    const variants = [world.modgatePat, world.modgateRedis];
    for (const c of [...contenders, ...variants]) console.error(`bench: ${c.name} at ${c.url}`);
    const notes = await measureLoads(world, contenders);
    notes.push(...(await measurePaced(world, contenders)));
    notes.push(...(await measureVariants(world)));
    const cold = await measureColdAuth(world);
    const goFloor = await measureGoDownloads(world, contenders, dir);
    const floor = await measureForwardingFloor({
      upstreamUrl: world.direct.url,
      pki: world.pki,
      path: BENCH_PATHS.info,
      connections: CONNECTIONS.info,
      threads: PIN ? 1 : 2,
      seconds: FLOOR_SECONDS,
      warmupSeconds: FLOOR_WARMUP_SECONDS,
      rounds: ROUNDS,
    });
    const { figures } = world.modgate;
    figures.peakRssMb = Math.max(figures.peakRssMb ?? 0, await memory(world.modgate, 'VmHWM'));
    await world.stop();
    world = undefined;
    const rows: Row[] = [
      ...contenders.map((c) => ({ name: c.name, figures: c.figures })),
      ...variants.map((c) => ({ name: c.name, figures: c.figures })),
    ];
    const { markdown, missed } = renderTable(rows, CONTENDER_NAMES);
    const placement = PIN
      ? `server under test on CPU ${CPU_UNDER_TEST}, wrk, upstream, slapd and go on CPU ${CPU_REST}`
      : 'placed by the scheduler (not pinned)';
    console.log(`${await describeMachine()}\n`);
    console.log(
      `Loads (wrk): .info at ${CONNECTIONS.info} connections, 1 MB zips at ${CONNECTIONS.zip1m}, ` +
        `${ZIP_BYTES.zip100m / 2 ** 20} MB zips at ${CONNECTIONS.zip100m}; median of ${ROUNDS} rounds of ` +
        `${SECONDS} s alternating the contenders, after ${WARMUP_SECONDS} s of warm-up. .info p50/p99 ` +
        `"saturated": wrk's closed loop (latency is mostly queueing); "at ${PACED_RATE} req/s": the same ` +
        `${CONNECTIONS.info} connections each pausing ${pacingIntervalMs(PACED_RATE, CONNECTIONS.info)} ms ` +
        `on average before each request (bench/support/paced.lua), no warm-up of its own. go mod download: ` +
        `median of ${ROUNDS} runs, fresh module cache each (on disk, then in tmpfs), with ` +
        `${CLIENT_GOS.map((g) => `${g.version} (${g.path})`).join(' and ')}. CPUs: ${placement}.\n`,
    );
    console.log(markdown);
    console.log(`\n${notes.join('\n')}`);
    console.log(cold);
    console.log(`\n${goFloor.join('\n')}`);
    console.log(`\n${floor.join('\n')}\n`);
    console.log(`${await cpuUse()}; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
    console.log(
      missed.length === 0 ? 'all targets met' : `MISSED:\n${missed.map((m) => `  ${m}`).join('\n')}`,
    );
    return 0;
  } finally {
    clearTimeout(deadline);
    await world?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error)?.stack ?? String(err)}`);
  return 1;
});
