/**
 * `workers: 2` with an audit file rotated by size: the workers append to one
 * file and the primary rotates it (bin/commands/workers.ts), then has them
 * reopen. Every request's record must be in exactly one of the files, whole,
 * and no more than `keep` rotated files may exist.
 */
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type GatewayProcess, startGatewayProcess } from '../bench/support/processes.ts';
import { fixtureUsersFile, USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { sleep } from '../harness/redis.ts';
import { makeTestPki, type TestPki } from '../harness/tls.ts';
import { writeFixtureModules } from './support/modules.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
/** Requests sent: enough audit bytes for several rotations at ROTATE_SIZE. */
const REQUESTS = 120;
/** Rotation size: a few dozen records (an audit record is ~700 bytes). */
const ROTATE_SIZE = '8KB';
const KEEP = 50;
/** Upper bound for the last records to reach a file (ms); the primary looks every second. */
const SETTLE_MS = 10_000;

let dir: string;
let pki: TestPki;
let gateway: GatewayProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-audit-workers-'));
  pki = await makeTestPki(join(dir, 'pki'));
  const fixtures = await writeFixtureModules(join(dir, 'goproxy'));
  await writeFile(join(dir, 'users.yaml'), stringify(await fixtureUsersFile()));
  await writeFile(join(dir, 'policy.yaml'), 'default: allow\nrules: []\n');
  await writeFile(
    join(dir, 'gateway.yaml'),
    stringify({
      listen: { host: '127.0.0.1', port: 0 },
      tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
      directory: { file: { path: join(dir, 'users.yaml') } },
      upstreams: { local: { kind: 'dir', path: fixtures.root } },
      default_upstream: 'local',
      policy: { path: join(dir, 'policy.yaml') },
      audit: { sink: 'file', path: join(dir, 'audit', 'audit.log'), rotate_size: ROTATE_SIZE, keep: KEEP },
      workers: 2,
      log: { level: 'warn' },
    }),
  );
  gateway = await startGatewayProcess(join(dir, 'gateway.yaml'), join(dir, 'gateway.log'));
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function auditRecords(
  skip: string[] = [],
): Promise<{ files: string[]; traces: string[]; pids: Set<number> }> {
  const files = (await readdir(join(dir, 'audit'))).filter((f) => !skip.includes(f)).sort();
  const traces: string[] = [];
  const pids = new Set<number>();
  for (const f of files) {
    for (const line of (await readFile(join(dir, 'audit', f), 'utf8')).split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { trace?: { id?: string }; process?: { pid?: number } };
      traces.push(r.trace?.id ?? '');
      if (r.process?.pid !== undefined) pids.add(r.process.pid);
    }
  }
  return { files, traces, pids };
}

describe('workers: 2 sharing a size-rotated audit file', () => {
  it('rotates, and every request is recorded once, whole, by both workers', async () => {
    const ids: string[] = [];
    for (let batch = 0; batch < REQUESTS / 10; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          httpsGet(gateway.url, INFO, { ca: pki.caPem, basic: [USERS.bob.name, USERS.bob.password] }),
        ),
      );
      for (const res of responses) {
        expect(res.status).toBe(200);
        ids.push(String(res.headers['x-request-id']));
      }
      await sleep(300); // spread over several of the primary's size checks (one a second)
    }
    const deadline = Date.now() + SETTLE_MS;
    let seen = await auditRecords();
    while (seen.traces.length < REQUESTS && Date.now() < deadline) {
      await sleep(200);
      seen = await auditRecords();
    }
    expect(seen.files.length).toBeGreaterThan(2); // rotated at least twice
    expect(seen.files.length).toBeLessThanOrEqual(KEEP + 1);
    expect(seen.files).toContain('audit.log');
    expect([...seen.traces].sort()).toEqual([...ids].sort());
    expect(seen.pids.size).toBe(2);
  }, 60_000);

  it('SIGHUP to the primary (an external logrotate) has every worker reopen; the primary lives on', async () => {
    // Without a handler, SIGHUP would end the primary and with it every worker.
    await rename(join(dir, 'audit', 'audit.log'), join(dir, 'audit', 'moved-away'));
    process.kill(gateway.pid, 'SIGHUP');
    await sleep(500);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await httpsGet(gateway.url, INFO, {
        ca: pki.caPem,
        basic: [USERS.bob.name, USERS.bob.password],
      });
      expect(res.status).toBe(200);
      ids.push(String(res.headers['x-request-id']));
    }
    const deadline = Date.now() + SETTLE_MS;
    let traces = (await auditRecords(['moved-away'])).traces;
    while (!ids.every((id) => traces.includes(id)) && Date.now() < deadline) {
      await sleep(200);
      traces = (await auditRecords(['moved-away'])).traces;
    }
    expect(ids.filter((id) => !traces.includes(id))).toEqual([]);
  }, 60_000);
});
