/**
 * Shared state across gateway processes: two real `modgate serve` processes
 * share one real redis-server; LDAP is real slapd; the upstream is the
 * Athens emulator.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type GatewayProcess, startGatewayProcess } from '../bench/support/processes.ts';
import { type AthensEmulator, startAthensEmulator } from '../harness/athens-emulator.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet, type SeenResponse } from '../harness/https-client.ts';
import { type RedisServer, sleep, startRedis } from '../harness/redis.ts';
import { startRedisSentinel } from '../harness/redis-topologies.ts';
import { type Slapd, startSlapd } from '../harness/slapd.ts';
import { makeTestPki, type TestPki } from '../harness/tls.ts';
import { secretFile } from './support/gateway.ts';
import { writeFixtureModules } from './support/modules.ts';
import { maxPacedRequests, pacedStreams } from './support/paced-streams.ts';

const execFileAsync = promisify(execFile);
const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const CACHE_KEY = 'shared-hmac-key-for-the-auth-cache';
const INFO = '/example.com/hello/@v/v1.0.0.info';

let dir: string;
let pki: TestPki;
let slapd: Slapd;
let athens: AthensEmulator;
let redis: RedisServer;
const gateways: GatewayProcess[] = [];
const seen: SeenResponse[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modgate-shared-'));
  pki = await makeTestPki(join(dir, 'pki'));
  const fixtures = await writeFixtureModules(join(dir, 'goproxy'));
  [slapd, athens, redis] = await Promise.all([
    startSlapd(),
    startAthensEmulator({ root: fixtures.root }),
    startRedis({ password: 'redis-test-password' }),
  ]);
  await writeFile(join(dir, 'policy.yaml'), 'default: allow\nrules: []\n');
  await writeFile(
    join(dir, 'gateway.yaml'),
    stringify(
      await gatewayConfig({
        kind: 'redis',
        url: redis.url,
        password: await secretFile(dir, 'redis-pw', 'redis-test-password'),
        command_timeout: '1s',
      }),
    ),
  );
  for (const name of ['a', 'b']) gateways.push(await startGateway(join(dir, 'gateway.yaml'), name));
}, 60_000);

/** A gateway process of this test, its log beside the config. */
const startGateway = (config: string, name: string) => startGatewayProcess(config, join(dir, `${name}.log`));

async function gatewayConfig(state: Record<string, unknown>): Promise<Record<string, unknown>> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
    directory: {
      ldap: {
        url: slapd.url,
        bind_dn: slapd.bindDn,
        bind_password: await secretFile(dir, 'ldap-pw', slapd.bindPassword),
        user_base: `ou=people,${slapd.baseDn}`,
        user_filter: '(&(objectClass=inetOrgPerson)(uid={username}))',
        disabled_filter: '(employeeType=disabled)',
      },
    },
    auth: { cache_key: await secretFile(dir, 'cache-key', CACHE_KEY), cache_ttl: '5m' },
    upstreams: { athens: { kind: 'athens', url: athens.url, allow_insecure_http: true } },
    default_upstream: 'athens',
    policy: { path: join(dir, 'policy.yaml') },
    state,
    workers: 1,
    abuse: {
      key: await secretFile(dir, 'abuse-key', 'abuse-hmac-key-for-tests-0123'),
    },
    admin: { token: await secretFile(dir, 'admin-token', ADMIN_TOKEN) },
    audit: { sink: 'file', path: join(dir, 'audit.log') },
    log: { level: 'warn' },
  };
}

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await Promise.all([slapd?.dispose(), athens?.close(), redis?.dispose()]);
  await rm(dir, { recursive: true, force: true });
});

const get = (g: number, path: string, user: { name: string; password: string }) =>
  httpsGet(gateways[g]!.url, path, { ca: pki.caPem, basic: [user.name, user.password], seen });

async function runCli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  const { stdout } = await execFileAsync('bin/modgate.ts', args);
  return { code: 0, stdout };
}

function admin(g: number, method: string, query: string) {
  return httpsGet(gateways[g]!.url, `/_modgate/admin/revoke?${query}`, {
    ca: pki.caPem,
    method,
    authorization: `Bearer ${ADMIN_TOKEN}`,
  });
}

describe('two gateway processes sharing one Redis', () => {
  it('100 requests spread over A and B cost one LDAP bind', async () => {
    const user = USERS.bob;
    // Warm both processes' connections (TLS, Redis, LDAP pool) with another user first.
    for (const g of [0, 1]) expect((await get(g, INFO, USERS.zoe)).status).toBe(200);
    const before = await slapd.countBinds(user.dn);
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 20 }, (_, i) => get(i % 2, INFO, user));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
    }
    expect((await slapd.countBinds(user.dn)) - before).toBe(1);
  });

  it('a revocation made at A refuses at B within 1 s; lifting it restores access', async () => {
    const user = USERS.alice;
    expect((await get(1, INFO, user)).status).toBe(200); // B has alice cached
    const revoked = await admin(0, 'POST', 'user=alice&for=1h');
    expect(revoked.status).toBe(200);
    const started = Date.now();
    let res = await get(1, INFO, user);
    while (res.status === 200 && Date.now() - started < 1_000) {
      await sleep(20);
      res = await get(1, INFO, user);
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/^modgate: access for alice is revoked until \d{4}-/);
    // The CLI lifts it, through B's admin API.
    const lifted = await runCli([
      'revoke',
      'user',
      'alice',
      '--lift',
      '--url',
      gateways[1]!.url,
      '--token-file',
      join(dir, 'admin-token'),
      '--ca',
      pki.caCertPath,
    ]);
    expect(lifted.stdout).toBe('lifted the revocation of alice\n');
    expect((await get(0, INFO, user)).status).toBe(200);
  });

  it('the admin API refuses a wrong token', async () => {
    const res = await httpsGet(gateways[0]!.url, '/_modgate/admin/revoke?user=bob', {
      ca: pki.caPem,
      method: 'POST',
      authorization: 'Bearer wrong',
    });
    expect(res.status).toBe(401);
  });

  it('killing Redis during a stream of authenticated requests fails none; a restart restores sharing', async () => {
    const user = USERS.dave;
    // Paced: at most 4 × 20 s ÷ 25 ms = 3,200 requests, well under the default rate limit on any machine.
    const pacing = { streams: 4, durationMs: 20_000, intervalMs: 25 };
    const streams = pacedStreams(pacing, async (i) => {
      const res = await get(i % 2, INFO, user).catch((err: Error) => ({ status: 0, text: err.message }));
      return res.status === 200 ? undefined : `${res.status} ${res.text}`;
    });
    await sleep(3_000);
    await redis.kill();
    await sleep(8_000);
    await redis.restart();
    const { requests, failures } = await streams;
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    expect(requests).toBeLessThanOrEqual(maxPacedRequests(pacing));
    // Sharing is back: a revocation at B reaches A again.
    await sleep(1_500);
    expect((await admin(1, 'POST', 'user=erin&for=1m')).status).toBe(200);
    const erin = USERS.erin;
    let res = await get(0, INFO, erin);
    const until = Date.now() + 2_000;
    while (res.status === 200 && Date.now() < until) {
      await sleep(50);
      res = await get(0, INFO, erin);
    }
    expect(res.status).toBe(403);
  }, 45_000);

  it('a lockout earned through A is enforced by B, with Retry-After', async () => {
    const user = USERS.zoe;
    for (let i = 0; i < 10; i++) {
      const res = await get(0, INFO, { name: user.name, password: `wrong-${i}` });
      expect(res.status).toBe(401);
    }
    const locked = await get(1, INFO, user); // the right password, at the other process
    expect(locked.status).toBe(429);
    expect(locked.text).toMatch(/^modgate: too many failed logins for zoë; try again in \d+s\n$/);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
  });

  it('Redis holds no password, no client credential and no upstream secret', async () => {
    const all = [...(await redis.scanAll()).entries()].map(([k, v]) => `${k} ${v}`).join('\n');
    expect(all).not.toBe('');
    for (const u of Object.values(USERS)) {
      expect(all).not.toContain(u.password);
      expect(all).not.toContain(Buffer.from(`${u.name}:${u.password}`).toString('base64'));
    }
    expect(all).not.toContain(CACHE_KEY);
    expect(all).not.toContain(ADMIN_TOKEN);
    expect(all).not.toContain(slapd.bindPassword);
  });
});

describe('a Sentinel set-up', () => {
  it('fails over during traffic with no failed authenticated request', async () => {
    const set = await startRedisSentinel({ password: 'sentinel-test-password' });
    const config = join(dir, 'gateway-sentinel.yaml');
    await writeFile(
      config,
      stringify(
        await gatewayConfig({
          kind: 'redis',
          sentinels: [`${set.sentinel.host}:${set.sentinel.port}`],
          name: set.name,
          password: await secretFile(dir, 'sentinel-pw', 'sentinel-test-password'),
          command_timeout: '1s',
        }),
      ),
    );
    const g = await startGateway(config, 'sentinel');
    try {
      const failures: string[] = [];
      let count = 0;
      let running = true;
      const stream = async () => {
        while (running) {
          const res = await httpsGet(g.url, INFO, {
            ca: pki.caPem,
            basic: [USERS.bob.name, USERS.bob.password],
          }).catch((err: Error) => ({ status: 0, text: err.message }));
          count++;
          if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
        }
      };
      const streams = [stream(), stream(), stream()];
      await sleep(1_000);
      const old = await set.masterPort();
      await set.master.kill();
      expect(await set.waitForFailover(old)).toBe(set.replica.port);
      await sleep(2_000);
      running = false;
      await Promise.all(streams);
      expect(failures).toEqual([]);
      expect(count).toBeGreaterThan(50);
      // State lives on the new master now.
      expect((await set.replica.cli('DBSIZE')).trim()).not.toBe('0');
    } finally {
      await g.stop();
      await set.dispose();
    }
  }, 60_000);
});
