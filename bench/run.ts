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
 * BENCH_REFERENCE=<checkout> adds that checkout's gateway (e.g. a worktree of
 * an older commit) to the `.info` and zip rounds, side by side;
 * BENCH_NODE_FLAGS adds Node flags to the gateway, e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" (then: node bench/profile-top.ts <file>).
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_GOS } from '../harness/go-binaries.ts';
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
import { describeMachine, startCpuAccounting } from './support/machine.ts';
import { measureGoDownloads } from './support/measure-go.ts';
import { measurePaced, measureVariants } from './support/measure-info.ts';
import { PACED_RATE, pacingIntervalMs } from './support/paced.ts';
import { pinProcesses, resetPeakRss } from './support/processes.ts';
import { median, type Row, renderTable } from './support/report.ts';
import {
  CONNECTIONS,
  CPU_REST,
  CPU_UNDER_TEST,
  cpuPerMb,
  load,
  memory,
  PIN,
  pick,
  placed,
  ROUNDS,
  roundRobin,
  SECONDS,
  WARMUP_SECONDS,
  withCpu,
} from './support/rounds.ts';

/**
 * Seconds of each forwarding-floor round, and of its warm-up: its figure is CPU per request, steady
 * after a few thousand requests; shorter rounds keep the whole bench near 5 minutes.
 */
const FLOOR_SECONDS = Math.min(SECONDS, 3);
const FLOOR_WARMUP_SECONDS = 1;
/** New directory users for cold-auth latency (one first request each). */
const COLD_USERS = 20;
/** Upper bound for the whole run (ms). */
const DEADLINE_MS = 12 * 60_000;
/** Upper bound for stopping everything after an interrupt or the deadline (ms). */
const ABORT_CLEANUP_MS = 15_000;
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
    const reference = world.reference === undefined ? [] : [world.reference];
    for (const c of [...contenders, ...reference, ...variants]) console.error(`bench: ${c.name} at ${c.url}`);
    const notes = await measureLoads(world, [...contenders, ...reference]);
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
      ...reference.map((c) => ({ name: c.name, figures: c.figures })),
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
