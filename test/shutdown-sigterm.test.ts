/**
 * SIGTERM during 10 concurrent 200 MB zip downloads, against a real
 * `modgate serve` process in front of the Athens emulator: every download
 * completes intact (sha256 of the bytes received equals that of the file on
 * disk), new connections are refused once the signal has landed, the process
 * exits 0 within shutdown_timeout, and the audit file holds the 10 zip
 * records. Hashes are computed as the bytes stream; nothing holds 200 MB.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type GatewayProcess, startGatewayProcess } from '../bench/support/processes.ts';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { type AthensEmulator, startAthensEmulator } from '../harness/athens-emulator.ts';
import { fixtureUsersFile, USERS } from '../harness/directory-fixture.ts';
import { makeTestPki, type TestPki } from '../harness/tls.ts';

/** Size of the zip every client downloads (bytes). */
const ZIP_BYTES = 200 * 1024 * 1024;
/** Concurrent downloads in flight when SIGTERM arrives. */
const DOWNLOADS = 10;
/** gateway.yaml shutdown_timeout: the time the in-flight downloads get (seconds). */
const SHUTDOWN_TIMEOUT_S = 45;
/** Upper bound for every download to have received its first bytes (ms). */
const FIRST_BYTES_WITHIN_MS = 20_000;
/** Upper bound for the listener to refuse connections after SIGTERM (ms). */
const REFUSE_WITHIN_MS = 2_000;
const MODULE = { path: 'example.com/big', version: 'v1.0.0' } as const;
const ZIP_PATH = `/${MODULE.path}/@v/${MODULE.version}.zip`;

let dir: string;
let pki: TestPki;
let athens: AthensEmulator;
let gateway: GatewayProcess | undefined;
let zipFile: string;
/** The zip's exact size: writeLargeZip leaves room for headers below ZIP_BYTES (bytes). */
let zipBytes: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-sigterm-'));
  pki = await makeTestPki(join(dir, 'pki'));
  const root = join(dir, 'goproxy');
  ({ zipPath: zipFile, zipBytes } = await writeLargeZip(root, MODULE.path, MODULE.version, ZIP_BYTES));
  athens = await startAthensEmulator({ root });
  await writeFile(join(dir, 'users.yaml'), stringify(await fixtureUsersFile()), { mode: 0o600 });
  await writeFile(join(dir, 'policy.yaml'), 'default: allow\nrules: []\n');
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
    directory: { file: { path: join(dir, 'users.yaml') } },
    upstreams: { athens: { kind: 'athens', url: athens.url, allow_insecure_http: true } },
    default_upstream: 'athens',
    policy: { path: join(dir, 'policy.yaml') },
    workers: 1,
    audit: { sink: 'file', path: join(dir, 'audit.log') },
    log: { level: 'info' },
    shutdown_timeout: `${SHUTDOWN_TIMEOUT_S}s`,
    // Draining forwarded downloads is the subject; the test module is in no checksum database.
    integrity: { mode: 'off' },
  };
  await writeFile(join(dir, 'gateway.yaml'), stringify(config));
  gateway = await startGatewayProcess(join(dir, 'gateway.yaml'), join(dir, 'modgate.log'));
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await athens?.close();
  await rm(dir, { recursive: true, force: true });
});

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

interface Download {
  /** Bytes received so far. */
  readonly received: number;
  /** Resolves when the response has ended; rejects when it failed. */
  readonly done: Promise<{ status: number; bytes: number; sha256: string; complete: boolean }>;
}

/** One zip download hashed as it streams. */
function download(url: URL): Download {
  let received = 0;
  const done: Download['done'] = new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: ZIP_PATH,
        ca: pki.caPem,
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${USERS.alice.name}:${USERS.alice.password}`).toString('base64')}`,
        },
      },
      (res) => {
        const hash = createHash('sha256');
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            bytes: received,
            sha256: hash.digest('hex'),
            complete: res.complete,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  return {
    get received() {
      return received;
    },
    done,
  };
}

/** Whether a new TCP connection to the gateway's port is refused. */
function refused(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

it('SIGTERM during 10 concurrent 200 MB zip downloads: all complete intact, the process exits 0 in time', async () => {
  const running = gateway!;
  const url = new URL(running.url);
  const expectedSha = await sha256OfFile(zipFile);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    running.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );

  const downloads = Array.from({ length: DOWNLOADS }, () => download(url));
  const firstBytesBy = Date.now() + FIRST_BYTES_WITHIN_MS;
  while (downloads.some((d) => d.received === 0) && Date.now() < firstBytesBy) await sleep(10);
  expect(downloads.map((d) => d.received > 0)).toEqual(Array(DOWNLOADS).fill(true));
  // Every download is in flight: none is anywhere near done yet.
  expect(Math.max(...downloads.map((d) => d.received))).toBeLessThan(zipBytes / 2);

  const signalledAt = Date.now();
  process.kill(running.pid, 'SIGTERM');

  let refusedAt: number | undefined;
  while (refusedAt === undefined && Date.now() - signalledAt < REFUSE_WITHIN_MS) {
    if (await refused(url)) refusedAt = Date.now();
    else await sleep(20);
  }
  expect(refusedAt, 'the listener still accepts connections after SIGTERM').toBeDefined();
  // Refused while the downloads are still streaming, not merely once the process is gone.
  expect(downloads.some((d) => d.received < zipBytes)).toBe(true);
  expect(running.child.exitCode).toBeNull();

  const results = await Promise.all(downloads.map((d) => d.done));
  for (const r of results) {
    expect(r).toEqual({ status: 200, bytes: zipBytes, sha256: expectedSha, complete: true });
  }

  const exit = await exited;
  const log = await readFile(join(dir, 'modgate.log'), 'utf8').catch(() => '');
  expect({ code: exit.code, signal: exit.signal }, log.slice(-2000)).toEqual({ code: 0, signal: null });
  expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_TIMEOUT_S * 1000);
  expect(log).not.toContain('shutdown deadline reached');

  const records = (await readFile(join(dir, 'audit.log'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const zips = records.filter((r) => (r.url as { path?: string } | undefined)?.path === ZIP_PATH);
  expect(zips).toHaveLength(DOWNLOADS);
  for (const record of zips) {
    expect(record).toMatchObject({
      event: { action: 'goproxy.zip', outcome: 'success' },
      user: { name: USERS.alice.name },
      http: { response: { status_code: 200, body: { bytes: zipBytes } } },
    });
  }
}, 150_000);
