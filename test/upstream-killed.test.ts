/**
 * The upstream killed under load: the Athens emulator runs as a process of
 * its own and is SIGKILLed while paced requests stream through the gateway.
 * The first failures are 502 `unreachable`; after `circuit_breaker.failures`
 * of them the circuit opens and requests fail fast with 503 and a
 * `Retry-After` that matches the line; nothing else is answered (no 500, no
 * 504, no hung request). Started again on the same port, the upstream serves
 * through the gateway within one cool-down, without anyone touching modgate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { freePort } from '../harness/ports.ts';
import { type AthensProcess, startAthensProcess } from './support/athens-process.ts';
import { maxPacedRequests, pacedStreams } from './support/paced-streams.ts';
import { type Stack, startStack } from './support/stack.ts';

/** circuit_breaker.failures of the upstream. */
const FAILURES = 3;
/** circuit_breaker.cool_down of the upstream (ms). */
const COOL_DOWN_MS = 2_000;
/** Healthy traffic before the kill, the outage, and traffic after the restart (ms). */
const BEFORE_MS = 1_500;
const OUTAGE_MS = 4_000;
const AFTER_MS = 4_000;
/** A restarted upstream serves again within one cool-down plus this (ms): a probe and the answer to it. */
const RECOVERY_SLACK_MS = 1_000;
const INFO = '/example.com/hello/@v/v1.0.0.info';

const UNREACHABLE =
  /^modgate: upstream athens unreachable \((ECONNREFUSED|ECONNRESET|connection closed)\) \(request [0-9a-f]{32}\)\n$/;
const CIRCUIT_OPEN =
  /^modgate: upstream athens is failing; circuit open, retrying in (\d+)s \(request [0-9a-f]{32}\)\n$/;

let stack: Stack;
let athens: AthensProcess | undefined;
let port: number;

beforeAll(async () => {
  port = await freePort();
  stack = await startStack({
    directory: 'file',
    upstream: 'dir',
    gatewayConfig: async (config, { fixtures }) => {
      athens = await startAthensProcess(fixtures.root, port);
      return {
        ...config,
        upstreams: {
          athens: {
            kind: 'athens',
            url: athens.url,
            allow_insecure_http: true,
            timeout: '5s',
            circuit_breaker: { failures: FAILURES, cool_down: `${COOL_DOWN_MS / 1000}s` },
          },
        },
        default_upstream: 'athens',
      };
    },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await athens?.stop();
});

interface Answer {
  readonly at: number;
  readonly status: number;
  readonly text: string;
  readonly retryAfter: string | undefined;
}

describe('the upstream process killed under load', () => {
  it('502, then 503 with Retry-After while the circuit is open; served again after the restart', async () => {
    const started = Date.now();
    const answers: Answer[] = [];
    // Two streams, at most one request per 50 ms each: at most 380 requests whatever the machine.
    const pacing = { streams: 2, durationMs: BEFORE_MS + OUTAGE_MS + AFTER_MS, intervalMs: 50 };
    const load = pacedStreams(pacing, async () => {
      const res = await httpsGet(stack.gateway.url, INFO, {
        ca: stack.pki.caPem,
        basic: [USERS.alice.name, USERS.alice.password],
      }).catch((err: Error) => ({ status: 0, text: err.message, headers: {} as Record<string, undefined> }));
      const retryAfter = res.headers['retry-after'];
      answers.push({
        at: Date.now() - started,
        status: res.status,
        text: res.text,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      });
      return undefined;
    });

    await sleep(BEFORE_MS);
    const killedAt = Date.now() - started;
    const dead = new Promise((resolve) => athens!.child.once('exit', resolve));
    process.kill(athens!.pid, 'SIGKILL');
    await dead;
    await sleep(OUTAGE_MS);
    athens = await startAthensProcess(stack.fixtures.root, port);
    const restartedAt = Date.now() - started;
    const { requests } = await load;
    expect(requests).toBeLessThanOrEqual(maxPacedRequests(pacing));

    const before = answers.filter((a) => a.at < killedAt);
    const outage = answers.filter((a) => a.at > killedAt && a.at < restartedAt);
    const recovered = answers.filter((a) => a.at > restartedAt + COOL_DOWN_MS + RECOVERY_SLACK_MS);
    expect(before.length).toBeGreaterThan(0);
    expect(before.filter((a) => a.status !== 200)).toEqual([]);

    // Only the two refusals, each with its line; the open circuit's Retry-After says what its line says.
    const odd = answers.filter(
      (a) =>
        a.status !== 200 &&
        !(a.status === 502 && UNREACHABLE.test(a.text)) &&
        !(a.status === 503 && CIRCUIT_OPEN.test(a.text) && a.retryAfter === CIRCUIT_OPEN.exec(a.text)?.[1]),
    );
    expect(odd).toEqual([]);
    const firstOpen = outage.findIndex((a) => a.status === 503);
    expect(firstOpen, 'the circuit never opened').toBeGreaterThanOrEqual(FAILURES);
    // The threshold of 502s, plus at most one more per stream that was in flight when the circuit opened.
    expect(outage.slice(0, firstOpen).every((a) => a.status === 502)).toBe(true);
    expect(firstOpen).toBeLessThanOrEqual(FAILURES + pacing.streams);
    for (const a of outage.filter((x) => x.status === 503)) {
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(a.retryAfter)).toBeLessThanOrEqual(COOL_DOWN_MS / 1000);
    }
    // Failing fast: while the upstream is down, most requests never reach for it.
    const open = outage.filter((a) => a.status === 503).length;
    expect(open).toBeGreaterThan(outage.length / 2);

    expect(recovered.length).toBeGreaterThan(0);
    expect(recovered.filter((a) => a.status !== 200)).toEqual([]);
  }, 30_000);
});
