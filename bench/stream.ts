/**
 * bench/stream: streams a 200 MB module zip through modgate (a child process,
 * so its memory is measured alone) from both upstream kinds — the Athens
 * emulator over HTTP and a local `dir` folder — and prints throughput and the
 * gateway's peak RSS growth over idle. Target: growth under 50 MB.
 *
 * Run: npm run bench:stream   (loopback only; stops by itself)
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../auth/password-hash.ts';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { startAthensEmulator } from '../harness/athens-emulator.ts';
import { makeTestPki } from '../harness/tls.ts';
import { download } from './support/download.ts';
import { rssMb, startGatewayProcess } from './support/processes.ts';

/** Size of the streamed zip (bytes). */
const ZIP_BYTES = 200 * 1024 * 1024;
/** Downloads per upstream kind. */
const ROUNDS = 3;
/** Small warm-up requests before the idle RSS is read. */
const WARMUP_REQUESTS = 20;
/** Allowed RSS growth while streaming (MB). */
const TARGET_GROWTH_MB = 50;
/** Upper bound for the whole run (ms). */
const DEADLINE_MS = 120_000;

const MB = 1024 * 1024;
const USER = ['bench', 'bench-password-1'] as const;

async function main(): Promise<number> {
  const deadline = setTimeout(() => {
    console.error('bench/stream: deadline exceeded');
    process.exit(2);
  }, DEADLINE_MS);
  const dir = await mkdtemp(join(tmpdir(), 'modgate-bench-'));
  let child: ChildProcess | undefined;
  const athens = await startAthensEmulator({ root: join(dir, 'goproxy') });
  try {
    const pki = await makeTestPki(join(dir, 'pki'));
    await writeLargeZip(join(dir, 'goproxy'), 'example.com/big', 'v1.0.0', ZIP_BYTES);
    await writeFile(
      join(dir, 'users.yaml'),
      stringify({ users: [{ name: USER[0], password_hash: await hashPassword(USER[1]) }] }),
    );
    const config = {
      listen: { host: '127.0.0.1', port: 0 },
      tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
      directory: { file: { path: join(dir, 'users.yaml') } },
      upstreams: {
        athens: { kind: 'athens', url: athens.url, allow_insecure_http: true },
        dir: { kind: 'dir', path: join(dir, 'goproxy') },
      },
      default_upstream: process.env.BENCH_UPSTREAM ?? 'athens',
      policy: { path: join(dir, 'policy.yaml') },
      audit: { sink: 'file', path: join(dir, 'audit.log') },
      log: { level: 'warn' },
      // Forwarding as such (bench/integrity measures verified zips).
      integrity: { mode: 'off' },
    };
    await writeFile(join(dir, 'policy.yaml'), 'default: allow\nrules: []\n');
    const rows: string[] = [];
    for (const upstream of ['athens', 'dir']) {
      await writeFile(join(dir, 'gateway.yaml'), stringify({ ...config, default_upstream: upstream }));
      const started = await startGatewayProcess(join(dir, 'gateway.yaml'));
      child = started.child;
      const get = (path: string) => download(started.url, path, pki.caPem, USER);
      for (let i = 0; i < WARMUP_REQUESTS; i++) await get('/example.com/big/@v/v1.0.0.info');
      const idle = await rssMb(child.pid!, 'VmRSS');
      await writeFile(`/proc/${child.pid}/clear_refs`, '5'); // reset the peak (VmHWM) to now
      let seconds = 0;
      for (let i = 0; i < ROUNDS; i++) {
        const t0 = process.hrtime.bigint();
        const bytes = await get('/example.com/big/@v/v1.0.0.zip');
        seconds += Number(process.hrtime.bigint() - t0) / 1e9;
        if (bytes < ZIP_BYTES - 8192) throw new Error(`short download: ${bytes} bytes`);
      }
      const peak = await rssMb(child.pid!, 'VmHWM');
      const growth = peak - idle;
      rows.push(
        `| ${upstream.padEnd(8)} | ${((ROUNDS * ZIP_BYTES) / MB / seconds).toFixed(0).padStart(6)} MB/s | ${idle.toFixed(1).padStart(7)} MB | ${peak.toFixed(1).padStart(7)} MB | ${growth.toFixed(1).padStart(6)} MB | ${growth < TARGET_GROWTH_MB ? 'met' : 'MISSED'} |`,
      );
      child.kill('SIGTERM');
      child = undefined;
    }
    console.log(
      `bench/stream: ${ROUNDS} × ${ZIP_BYTES / MB} MB zip through modgate (node ${process.version})\n`,
    );
    console.log('| upstream | throughput  | idle RSS   | peak RSS   | growth    | target <50 MB |');
    console.log('| -------- | ----------- | ---------- | ---------- | --------- | ------------- |');
    for (const row of rows) console.log(row);
    return rows.some((r) => r.includes('MISSED')) ? 1 : 0;
  } finally {
    clearTimeout(deadline);
    child?.kill('SIGKILL');
    await athens.close();
    await rm(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
