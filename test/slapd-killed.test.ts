/**
 * The directory killed under load: real slapd is SIGKILLed while paced
 * requests of users already in the credential cache, and of users who are
 * not, stream through the gateway. Cached users are all served; uncached
 * ones all get 503 `the user directory is unavailable` (never a 401, which
 * would send people to change a password that is right); /readyz is 503
 * during the outage and 200 again within a second of slapd's return (even
 * when slapd returns just after a readiness check saw it down), and the
 * uncached users are served again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { maxPacedRequests, pacedStreams } from './support/paced-streams.ts';
import { readyz, type Stack, startStack } from './support/stack.ts';

/** Healthy traffic before the kill, the outage, and traffic after the restart began (slapd takes a second or two to start) (ms). */
const BEFORE_MS = 1_500;
const OUTAGE_MS = 6_000;
const AFTER_MS = 5_000;
/** /readyz must be 503 from this long after the kill (ms): the documented bound of 5 s. */
const DETECT_WITHIN_MS = 5_000;
/** /readyz must be 200 again within this long of slapd's return (ms). */
const READY_AGAIN_WITHIN_MS = 1_000;
const INFO = '/example.com/hello/@v/v1.0.0.info';
const CACHED = [USERS.alice, USERS.bob];
/** Never authenticated before the outage, so nothing of theirs is cached. */
const UNCACHED = [USERS.erin, USERS.zoe, USERS.dave];
const UNAVAILABLE = /^modgate: the user directory is unavailable \(request [0-9a-f]{32}\)\n$/;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ directory: 'ldap', upstream: 'athens' });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

interface Seen {
  readonly at: number;
  readonly status: number;
  readonly text: string;
}

const get = (user: { name: string; password: string }) =>
  httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, basic: [user.name, user.password] }).catch(
    (err: Error) => ({ status: 0, text: err.message }),
  );

describe('slapd killed under load', () => {
  it('cached users are served, uncached ones get 503, readiness follows slapd within a second', async () => {
    for (const user of CACHED) expect((await get(user)).status).toBe(200);
    const started = Date.now();
    let killedAt = Number.POSITIVE_INFINITY;
    let restartingAt = Number.POSITIVE_INFINITY;
    let backAt = Number.POSITIVE_INFINITY;
    const cached: Seen[] = [];
    const uncached: Seen[] = [];
    const ready: Seen[] = [];
    const duration = BEFORE_MS + OUTAGE_MS + AFTER_MS;
    // Four loops, at most one request per 50 ms each: at most 800 requests whatever the machine.
    const pacing = { streams: 4, durationMs: duration, intervalMs: 50 };
    const load = pacedStreams(pacing, async (stream) => {
      const at = Date.now() - started;
      if (stream < 2) {
        const res = await get(CACHED[stream]!);
        cached.push({ at, status: res.status, text: res.text });
      } else if (stream === 2) {
        if (at < killedAt) return undefined; // uncached users stay so until the outage
        const res = await get(UNCACHED[uncached.length % UNCACHED.length]!);
        uncached.push({ at, status: res.status, text: res.text });
      } else {
        const res = await readyz(stack).catch(() => ({ status: 0 }));
        ready.push({ at, status: res.status, text: '' });
      }
      return undefined;
    });

    await sleep(BEFORE_MS);
    killedAt = Date.now() - started;
    await stack.slapd!.kill();
    await sleep(OUTAGE_MS);
    // The worst moment to come back: just after a readiness check has seen slapd down.
    const seenDown = (await readyz(stack)).report.checked_at;
    while ((await readyz(stack)).report.checked_at === seenDown) await sleep(20);
    restartingAt = Date.now() - started;
    await stack.slapd!.restart(); // returns once slapd accepts connections
    backAt = Date.now() - started;
    const { requests } = await load;
    expect(requests).toBeLessThanOrEqual(maxPacedRequests(pacing));

    expect(cached.length).toBeGreaterThan(50);
    expect(cached.filter((s) => s.status !== 200)).toEqual([]);

    const during = uncached.filter((s) => s.at > killedAt && s.at < restartingAt);
    expect(during.length).toBeGreaterThan(10);
    expect(during.filter((s) => !(s.status === 503 && UNAVAILABLE.test(s.text)))).toEqual([]);
    const after = uncached.filter((s) => s.at > backAt + READY_AGAIN_WITHIN_MS);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((s) => s.status !== 200)).toEqual([]);

    expect(ready.filter((s) => s.at < killedAt && s.status !== 200)).toEqual([]);
    const down = ready.filter((s) => s.at > killedAt + DETECT_WITHIN_MS && s.at < restartingAt);
    expect(down.length).toBeGreaterThan(0);
    expect(down.filter((s) => s.status !== 503)).toEqual([]);
    const recovered = ready.filter((s) => s.at > backAt + READY_AGAIN_WITHIN_MS);
    expect(recovered.length).toBeGreaterThan(0);
    expect(recovered.filter((s) => s.status !== 200)).toEqual([]);
  }, 40_000);
});
