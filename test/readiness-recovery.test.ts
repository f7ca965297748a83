/**
 * Readiness follows the dependencies by itself: stopping the real slapd, or
 * the Athens emulator, turns /readyz 503 within 5 s naming the component;
 * starting it again on the same port turns it back to 200 without anyone
 * touching modgate.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READINESS_INTERVAL_MS, type ReadinessReport } from '../gateway/ops/readiness.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { readyz, type Stack, startStack } from './support/stack.ts';

/** The acceptance bound: 503 within this long of a dependency stopping (ms). */
const DETECT_WITHIN_MS = 5_000;
/** How long a restarted dependency may take to make /readyz 200 again (ms): a few check rounds. */
const RECOVER_WITHIN_MS = 15_000;
/** Pause between /readyz polls (ms). */
const POLL_MS = 100;
const INFO = '/example.com/hello/@v/v1.0.0.info';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    gatewayConfig: async (config) => {
      const upstreams = config.upstreams as { athens: Record<string, unknown> };
      return {
        ...config,
        // A probe module makes the upstream check a real @v/list, so readiness means "serves modules".
        upstreams: { athens: { ...upstreams.athens, probe_module: 'example.com/hello' } },
        metrics: { port: 0 },
      };
    },
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

/** Polls /readyz until it answers `status` or `withinMs` passes; returns the last answer and when it came. */
async function waitForReadyz(status: number, withinMs: number) {
  const started = Date.now();
  for (;;) {
    const answer = await readyz(stack);
    const elapsedMs = Date.now() - started;
    if (answer.status === status || elapsedMs > withinMs) return { ...answer, elapsedMs };
    await sleep(POLL_MS);
  }
}

const component = (report: ReadinessReport, name: string) => report.components.find((c) => c.name === name);

async function readyGauge(): Promise<string | undefined> {
  const text = await (await fetch(stack.gateway.metricsUrl!)).text();
  return /^modgate_ready (\d)$/m.exec(text)?.[1];
}

describe('readiness recovers by itself', () => {
  it('checks often enough to see an outage within 5 s', () => {
    // A refused connection fails a check at once, so detection takes at most one interval.
    expect(READINESS_INTERVAL_MS).toBeLessThan(DETECT_WITHIN_MS);
  });

  it('is ready with LDAP and the upstream up', async () => {
    const { status, report } = await waitForReadyz(200, RECOVER_WITHIN_MS);
    expect(status).toBe(200);
    expect(component(report, 'ldap')).toMatchObject({ ok: true, status: 'ok' });
    expect(component(report, 'upstream athens')).toMatchObject({ ok: true, status: 'ok' });
    expect(await readyGauge()).toBe('1');
  });

  it('stopping slapd: 503 naming ldap within 5 s, 200 again after it restarts', async () => {
    await stack.slapd!.stop();
    const down = await waitForReadyz(503, DETECT_WITHIN_MS + 2_000);
    expect(down.status).toBe(503);
    expect(down.elapsedMs).toBeLessThan(DETECT_WITHIN_MS);
    expect(down.report.ready).toBe(false);
    expect(down.report.draining).toBe(false);
    expect(component(down.report, 'ldap')).toMatchObject({ ok: false, status: 'fail' });
    expect(component(down.report, 'ldap')?.detail).toMatch(/ECONNREFUSED|connect/i);
    expect(component(down.report, 'upstream athens')).toMatchObject({ ok: true });
    expect(await readyGauge()).toBe('0');

    await stack.slapd!.restart();
    const up = await waitForReadyz(200, RECOVER_WITHIN_MS);
    expect(up.status).toBe(200);
    expect(component(up.report, 'ldap')).toMatchObject({ ok: true });
    expect(await readyGauge()).toBe('1');
    // And the directory serves logins again, through the same gateway process.
    const res = await httpsGet(stack.gateway.url, INFO, {
      ca: stack.pki.caPem,
      basic: [USERS.bob.name, USERS.bob.password],
    });
    expect(res.status).toBe(200);
  }, 40_000);

  it('stopping the upstream: 503 naming it within 5 s, 200 again after it restarts', async () => {
    await stack.athens!.stop();
    const down = await waitForReadyz(503, DETECT_WITHIN_MS + 2_000);
    expect(down.status).toBe(503);
    expect(down.elapsedMs).toBeLessThan(DETECT_WITHIN_MS);
    expect(component(down.report, 'upstream athens')).toMatchObject({ ok: false, status: 'fail' });
    expect(component(down.report, 'upstream athens')?.detail).toMatch(/unreachable|ECONNREFUSED/);
    expect(component(down.report, 'ldap')).toMatchObject({ ok: true });

    await stack.athens!.restart();
    const up = await waitForReadyz(200, RECOVER_WITHIN_MS);
    expect(up.status).toBe(200);
    expect(component(up.report, 'upstream athens')).toMatchObject({ ok: true, status: 'ok' });
    const res = await httpsGet(stack.gateway.url, INFO, {
      ca: stack.pki.caPem,
      basic: [USERS.alice.name, USERS.alice.password],
    });
    expect(res.status).toBe(200);
  }, 40_000);
});
