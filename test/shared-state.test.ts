/**
 * Shared state across gateway processes: two real `modgate serve` processes
 * share one real redis-server; LDAP is real slapd; the upstream is the
 * Athens emulator.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type BenchProcess, startProcess, waitForOutput } from '../bench/support/processes.ts';
import { type AthensEmulator, startAthensEmulator } from './support/athens-emulator.ts';
import { USERS } from './support/directory-fixture.ts';
import { secretFile } from './support/gateway.ts';
import { httpsGet, type SeenResponse } from './support/https-client.ts';
import { writeFixtureModules } from './support/modules.ts';
import { type RedisServer, sleep, startRedis } from './support/redis.ts';
import { type Slapd, startSlapd } from './support/slapd.ts';
import { makeTestPki, type TestPki } from './support/tls.ts';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const CACHE_KEY = 'shared-hmac-key-for-the-auth-cache';
const INFO = '/example.com/hello/@v/v1.0.0.info';

let dir: string;
let pki: TestPki;
let slapd: Slapd;
let athens: AthensEmulator;
let redis: RedisServer;
const gateways: { proc: BenchProcess; url: string }[] = [];
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
  const config = {
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
    state: {
      kind: 'redis',
      url: redis.url,
      password: await secretFile(dir, 'redis-pw', 'redis-test-password'),
      command_timeout: '1s',
    },
    workers: 1,
    admin: { token: await secretFile(dir, 'admin-token', ADMIN_TOKEN) },
    audit: { sink: 'file', path: join(dir, 'audit.log') },
    log: { level: 'warn' },
  };
  await writeFile(join(dir, 'gateway.yaml'), stringify(config));
  for (const name of ['a', 'b']) {
    const proc = startProcess('bin/modgate.ts', ['serve', '--config', join(dir, 'gateway.yaml')], {
      logFile: join(dir, `${name}.log`),
    });
    const [, url] = await waitForOutput(proc, /listening on (https:\/\/\S+)/);
    gateways.push({ proc, url: url as string });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.proc.stop()));
  await Promise.all([slapd?.dispose(), athens?.close(), redis?.dispose()]);
  await rm(dir, { recursive: true, force: true });
});

const get = (g: number, path: string, user: { name: string; password: string }) =>
  httpsGet(gateways[g]!.url, path, { ca: pki.caPem, basic: [user.name, user.password], seen });

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
    expect((await admin(1, 'DELETE', 'user=alice')).status).toBe(200);
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
    const STREAM_MS = 8_000;
    const user = USERS.dave;
    const failures: string[] = [];
    let count = 0;
    const started = Date.now();
    const stream = async (g: number) => {
      while (Date.now() - started < STREAM_MS) {
        const res = await get(g, INFO, user).catch((err: Error) => ({ status: 0, text: err.message }));
        count++;
        if (res.status !== 200) failures.push(`${res.status} ${res.text}`);
      }
    };
    const streams = [stream(0), stream(1), stream(0), stream(1)];
    await sleep(1_500);
    await redis.kill();
    await sleep(3_000);
    await redis.restart();
    await Promise.all(streams);
    expect(failures).toEqual([]);
    expect(count).toBeGreaterThan(100);
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
  }, 30_000);

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
