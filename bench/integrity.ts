/**
 * bench/integrity: what verifying costs. Module zips of 1 MB, 100 MB and
 * 200 MB go through modgate from the Athens emulator, side by side in one
 * run: forwarded as before (integrity off), then with `integrity: enforce`
 * against a checksum database built from x/mod's server (harness/go-sumdb.ts)
 * — first fetch (cold: spooled, hashed, looked up, kept, served from disk)
 * and again (warm: from the verified cache, no upstream). Each gateway is its
 * own process, so its CPU time and peak RSS are its own.
 *
 * Targets (docs/integrity.md): warm CPU per MB ≤ 1.05× forwarding; cold time
 * ≤ 1.3× forwarding for 1 MB and 100 MB; RSS growth < 50 MB on 200 MB zips.
 *
 * Run: npm run bench:integrity   (loopback only; stops by itself)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../auth/password-hash.ts';
import { modHash } from '../checksum/h1.ts';
import { zipHash } from '../checksum/zip-hash.ts';
import { moduleVersionDir, writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { startAthensEmulator } from '../harness/athens-emulator.ts';
import { startGoSumdb } from '../harness/go-sumdb.ts';
import { makeTestPki } from '../harness/tls.ts';
import { download } from './support/download.ts';
import {
  cpuSeconds,
  type GatewayProcess,
  resetPeakRss,
  rssMb,
  startGatewayProcess,
} from './support/processes.ts';

const MB = 1024 * 1024;
/** Zip sizes and how many versions (one download each per pass) of each. */
const PLAN = [
  { mb: 1, versions: 100 },
  { mb: 100, versions: 3 },
  { mb: 200, versions: 1 },
] as const;
const MODULE = 'example.com/big';
const USER = ['bench', 'bench-password-1'] as const;
const WARMUP_REQUESTS = 20;
/** Upper bound for the whole run (ms). */
const DEADLINE_MS = 600_000;

/** One pass over the versions of a size: wall seconds per zip, gateway CPU ms per MB, peak RSS growth. */
interface Pass {
  readonly secondsPerZip: number;
  readonly cpuMsPerMb: number;
  readonly growthMb: number;
}

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error('bench/integrity: deadline exceeded');
    process.exit(2);
  }, DEADLINE_MS);
  const dir = await mkdtemp(join(tmpdir(), 'modgate-bench-integrity-'));
  const root = join(dir, 'goproxy');
  const athens = await startAthensEmulator({ root });
  const versions = PLAN.map((p) => ({
    ...p,
    list: Array.from({ length: p.versions }, (_, i) => `v1.${p.mb}.${i}`),
  }));
  const records: { path: string; version: string; goSum: string }[] = [];
  for (const size of versions) {
    for (const version of size.list) {
      await writeLargeZip(root, MODULE, version, size.mb * MB);
      const at = join(moduleVersionDir(root, MODULE), version);
      const zip = await zipHash(`${at}.zip`, MODULE, version);
      const mod = modHash(`module ${MODULE}\n\ngo 1.19\n`);
      records.push({
        path: MODULE,
        version,
        goSum: `${MODULE} ${version} ${zip}\n${MODULE} ${version}/go.mod ${mod}\n`,
      });
    }
  }
  const sumdb = await startGoSumdb({ records });
  let gateway: GatewayProcess | undefined;
  try {
    const pki = await makeTestPki(join(dir, 'pki'));
    await writeFile(
      join(dir, 'users.yaml'),
      stringify({ users: [{ name: USER[0], password_hash: await hashPassword(USER[1]) }] }),
    );
    await writeFile(join(dir, 'policy.yaml'), 'default: allow\nrules: []\n');
    const base = {
      listen: { host: '127.0.0.1', port: 0 },
      tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
      directory: { file: { path: join(dir, 'users.yaml') } },
      upstreams: { athens: { kind: 'athens', url: athens.url, allow_insecure_http: true } },
      default_upstream: 'athens',
      policy: { path: join(dir, 'policy.yaml') },
      audit: { sink: 'file', path: join(dir, 'audit.log') },
      log: { level: 'warn' },
    };
    const integrity = {
      mode: 'enforce',
      checksum_database: { name: sumdb.name, key: sumdb.key, url: sumdb.url },
      cache: { dir: join(dir, 'verified'), max_size: '2GB' },
      records_dir: join(dir, 'records'),
    };
    const results: Record<string, Pass[]> = {};
    for (const [name, config] of [
      ['forward', { ...base, integrity: { mode: 'off' } }],
      ['integrity', { ...base, integrity }],
    ] as const) {
      await writeFile(join(dir, `${name}.yaml`), stringify(config));
      gateway = await startGatewayProcess(join(dir, `${name}.yaml`));
      const get = (path: string) => download(gateway!.url, path, pki.caPem, USER);
      for (let i = 0; i < WARMUP_REQUESTS; i++) await get(`/${MODULE}/@v/v1.1.0.info`);
      const passes = name === 'forward' ? ['forward'] : ['cold', 'warm'];
      for (const pass of passes) {
        results[pass] = [];
        for (const size of versions) results[pass].push(await measure(gateway, size.list, size.mb, get));
      }
      await gateway.stop();
      gateway = undefined;
    }
    return report(results);
  } finally {
    clearTimeout(deadline);
    await gateway?.stop();
    await sumdb.close();
    await athens.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function measure(
  gateway: GatewayProcess,
  list: readonly string[],
  mb: number,
  get: (path: string) => Promise<number>,
): Promise<Pass> {
  const idle = await rssMb(gateway.pid, 'VmRSS');
  await resetPeakRss(gateway.pid);
  const cpu0 = await cpuSeconds(gateway.pid);
  let seconds = 0;
  for (const version of list) {
    const t0 = process.hrtime.bigint();
    const bytes = await get(`/${MODULE}/@v/${version}.zip`);
    seconds += Number(process.hrtime.bigint() - t0) / 1e9;
    if (bytes < mb * MB - 8192) throw new Error(`short download of ${version}: ${bytes} bytes`);
  }
  const cpu = (await cpuSeconds(gateway.pid)) - cpu0;
  const growthMb = (await rssMb(gateway.pid, 'VmHWM')) - idle;
  return { secondsPerZip: seconds / list.length, cpuMsPerMb: (cpu * 1000) / (mb * list.length), growthMb };
}

function report(results: Record<string, Pass[]>): number {
  const forward = results.forward!;
  const cold = results.cold!;
  const warm = results.warm!;
  let missed = false;
  const verdict = (ok: boolean) => {
    if (!ok) missed = true;
    return ok ? 'met' : 'MISSED';
  };
  console.log(`bench/integrity: zips through modgate, forwarded vs verified (node ${process.version})\n`);
  console.log(
    '| zip | forward ms/zip | cold ms/zip | cold ÷ forward (≤ 1.3) | forward CPU ms/MB | warm CPU ms/MB | warm ÷ forward (≤ 1.05) | RSS growth forward / cold / warm (< 50 MB) |',
  );
  console.log('| --- | ---: | ---: | --- | ---: | ---: | --- | --- |');
  PLAN.forEach((size, i) => {
    const f = forward[i]!;
    const c = cold[i]!;
    const w = warm[i]!;
    const coldRatio = c.secondsPerZip / f.secondsPerZip;
    const warmRatio = w.cpuMsPerMb / f.cpuMsPerMb;
    const growth = [f, c, w].map((p) => p.growthMb.toFixed(0)).join(' / ');
    const coldCell =
      size.mb === 200
        ? `${coldRatio.toFixed(2)} (not a target)`
        : `${coldRatio.toFixed(2)} ${verdict(coldRatio <= 1.3)}`;
    console.log(
      `| ${size.mb} MB | ${(f.secondsPerZip * 1000).toFixed(1)} | ${(c.secondsPerZip * 1000).toFixed(1)} | ${coldCell} | ${f.cpuMsPerMb.toFixed(2)} | ${w.cpuMsPerMb.toFixed(2)} | ${warmRatio.toFixed(2)} ${verdict(warmRatio <= 1.05)} | ${growth} MB ${verdict(Math.max(c.growthMb, w.growthMb) < 50)} |`,
    );
  });
  return missed ? 1 : 0;
}

process.exitCode = await main();
