/**
 * `workers: 2` (node:cluster) with Redis state: one real
 * `modgate serve` process forks two workers that share the port; requests are
 * served by both (the audit record's `process.pid` names the worker), and
 * because the credential cache and its lock live in Redis, 40 requests of
 * one user spread over both workers still cost one LDAP bind.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../bench/support/processes.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { sleep } from '../harness/redis.ts';
import { type RedisDeployment, startRedisDeployment } from './support/redis-deployment.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
/** Upper bound for the second worker to listen after the first announced the port (ms). */
const SECOND_WORKER_MS = 20_000;
/** Upper bound for audit lines to reach the file (ms). */
const AUDIT_WAIT_MS = 10_000;

let deployment: RedisDeployment;
let gateway: GatewayProcess;

beforeAll(async () => {
  deployment = await startRedisDeployment();
  gateway = await deployment.start('cluster', (config) => ({ ...config, workers: 2 }));
}, 60_000);
afterAll(async () => {
  await deployment?.close();
});

interface AuditLine {
  user?: { name?: string };
  process?: { pid?: number };
  http?: { response?: { status_code?: number } };
}

async function auditLines(): Promise<AuditLine[]> {
  const text = await readFile(join(deployment.dir, 'audit.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine);
}

/** Worker pids that served `user`, once at least `count` of their audit lines are written. */
async function servedBy(user: string, count: number): Promise<number[]> {
  const deadline = Date.now() + AUDIT_WAIT_MS;
  for (;;) {
    const lines = (await auditLines()).filter((l) => l.user?.name === user);
    if (lines.length >= count || Date.now() > deadline) return lines.map((l) => l.process?.pid ?? 0);
    await sleep(50);
  }
}

/** The parent pid of a process, from /proc. */
async function parentOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const get = (user: { name: string; password: string }) =>
  httpsGet(gateway.url, INFO, { ca: deployment.pki.caPem, basic: [user.name, user.password] });

describe('workers: 2 with Redis state', () => {
  it('both workers serve requests; 40 requests of one user over both cost one LDAP bind', async () => {
    // The banner comes once the first worker listens: warm up with another user until both answer.
    const deadline = Date.now() + SECOND_WORKER_MS;
    let sent = 0;
    for (;;) {
      expect((await get(USERS.zoe)).status).toBe(200);
      sent++;
      if (new Set(await servedBy(USERS.zoe.name, sent)).size >= 2) break;
      if (Date.now() > deadline) throw new Error('the second worker never served a request');
    }

    const user = USERS.bob;
    const before = await deployment.slapd.countBinds(user.dn);
    for (let round = 0; round < 2; round++) {
      const batch = Array.from({ length: 20 }, () => get(user));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
    }
    const pids = await servedBy(user.name, 40);
    expect(pids).toHaveLength(40);
    const workers = [...new Set(pids)];
    expect(workers).toHaveLength(2);
    for (const pid of workers) {
      expect(pid).not.toBe(gateway.pid);
      expect(await parentOf(pid)).toBe(gateway.pid);
    }
    expect((await deployment.slapd.countBinds(user.dn)) - before).toBe(1);
  });
});
