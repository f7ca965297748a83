/**
 * People who share a source address (an office NAT, CI runners, a Kubernetes
 * node) are not locked out by one another's failed logins, driven from
 * outside as the defect was seen: an https client and the real go command
 * against a gateway on real slapd, with no `abuse:` section (the defaults).
 * Every request comes from 127.0.0.1. The tests run in order and share it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_THROTTLE_DELAY_MS } from '../gateway/abuse/source-throttle.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { httpsGet, type SeenResponse } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
/** The documented defaults: failures that lock a name, names that throttle an address. */
const MAX_FAILURES = 10;
const MAX_USERS = 10;
/** User names in the spray. */
const SPRAY = 50;
const LOCKED_FRANK = /^modgate: too many failed logins for frank; try again in \d+s\n/;
const THROTTLED =
  /^modgate: invalid username or password; failed logins from 127\.0\.0\.1 are throttled for \d+s\n/;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    // No abuse section at all: what an operator who never wrote one gets.
    gatewayConfig: async ({ abuse: _, ...config }) => config,
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

const get = (name: string, password: string) =>
  httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, basic: [name, password] });

/** A request and how long its answer took (ms). */
async function timed(name: string, password: string): Promise<{ res: SeenResponse; ms: number }> {
  const start = performance.now();
  const res = await get(name, password);
  return { res, ms: performance.now() - start };
}

/** The operational log's lines with `event`, parsed. */
async function logEvents(event: string): Promise<Record<string, unknown>[]> {
  return (await stack.gateway.logText())
    .split('\n')
    .filter((line) => line.includes(`"event":"${event}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A go command as `login`, fetching the fixture module. */
async function goDownload(envName: string, login: string, password: string) {
  const env = await stack.goEnv(envName, { login, password });
  return runGo(['mod', 'download', 'example.com/hello@v1.0.0'], { env: env.env, cwd: stack.dir });
}

describe('one address, many people (no abuse section)', () => {
  it('12 failed logins as frank lock frank only: erin and bob from the same address get in', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      const res = await get('frank', `wrong-${i}`);
      statuses.push(res.status);
      if (i >= MAX_FAILURES) expect(res.text).toMatch(LOCKED_FRANK);
    }
    expect(statuses).toEqual([...Array(MAX_FAILURES).fill(401), 429, 429]);

    const erin = await get(USERS.erin.name, USERS.erin.password);
    expect(erin.text).toMatch(/"Version":"v1\.0\.0"/);
    expect(erin.status).toBe(200);
    // The go command, as bob (never verified before, so the directory is asked).
    const go = await goDownload('bob', USERS.bob.name, USERS.bob.password);
    expect(go.stderr).toBe('');
    expect(go.code).toBe(0);

    // The moment frank's lock engaged is one warning in the operational log, with user and address.
    const locks = await logEvents('abuse.user_locked');
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({
      level: 40,
      stream: 'abuse',
      user: 'frank',
      ip: '127.0.0.1',
      failures: MAX_FAILURES,
      msg: 'lockout: frank locked for 900s after 10 failed logins (the last from 127.0.0.1)',
    });
  });

  it('a spray of 50 user names is throttled: failures wait and answer 429; right passwords still pass', async () => {
    const spray = await Promise.all(
      Array.from({ length: SPRAY }, (_, i) => timed(`sprayed-${i}`, 'Winter2026!')),
    );
    const unthrottled = spray.filter((s) => s.res.status === 401);
    const throttled = spray.filter((s) => s.res.status === 429);
    // frank counted once already: the names before the threshold answer 401, every later one 429.
    expect(unthrottled).toHaveLength(MAX_USERS - 2);
    expect(throttled).toHaveLength(SPRAY - unthrottled.length);
    for (const { res, ms } of throttled) {
      expect(res.text).toMatch(THROTTLED);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(800);
      expect(ms).toBeGreaterThanOrEqual(DEFAULT_THROTTLE_DELAY_MS - 50);
    }

    // A right password from the throttled address: alice, never verified before, then erin (cached).
    const alice = await timed(USERS.alice.name, USERS.alice.password);
    expect(alice.res.status).toBe(200);
    expect(alice.ms).toBeLessThan(DEFAULT_THROTTLE_DELAY_MS);
    expect((await get(USERS.erin.name, USERS.erin.password)).status).toBe(200);

    // What a go user with a wrong password there reads.
    const go = await goDownload('wrong', 'mallory', 'Spring2026!');
    expect(go.code).not.toBe(0);
    expect(go.stderr.replace(/\s+/g, ' ')).toMatch(
      /429 Too Many Requests server response: modgate: invalid username or password; failed logins from 127\.0\.0\.1 are throttled for \d+s/,
    );

    const throttles = await logEvents('abuse.source_throttled');
    expect(throttles).toHaveLength(1);
    expect(throttles[0]).toMatchObject({ level: 40, stream: 'abuse', ip: '127.0.0.1', users: MAX_USERS });
    expect(throttles[0]?.msg).toMatch(
      /^throttle: failed logins for 10 user names from 127\.0\.0\.1 within 5m; for \d+s its failed logins wait 2s and answer 429 \(credentials that verify still pass\)$/,
    );
  }, 30_000);

  it('the lock on frank still holds', async () => {
    const res = await get('frank', 'any');
    expect(res.status).toBe(429);
    expect(res.text).toMatch(LOCKED_FRANK);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(800);
  });
});
