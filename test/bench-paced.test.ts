import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { keptRate, PACED_RATE, pacingIntervalMs, reachableRate, runPaced } from '../bench/support/paced.ts';
import { parseWrk } from '../bench/support/wrk.ts';

/** wrk 4.1.0's report of a paced run (`-t2 -c8 -d2s --latency -s paced.lua … -- 40`). */
const PACED_REPORT = `Running 2s test @ http://127.0.0.1:18777/x
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   468.02us  789.19us  11.45ms   96.37%
    Req/Sec    96.72     13.14   121.00     55.00%
  Latency Distribution
     50%  351.00us
     75%  497.00us
     90%  773.00us
     99%    1.71ms
  386 requests in 2.00s, 46.74KB read
Requests/sec:    192.52
Transfer/sec:     23.31KB
`;

describe('pacing arithmetic', () => {
  it.each([
    { rate: 400, connections: 32, interval: 80 },
    { rate: 100, connections: 4, interval: 40 },
    { rate: 1000, connections: 1, interval: 1 },
    { rate: 300, connections: 32, interval: 32000 / 300 },
  ])('$connections connections at $rate req/s pause $interval ms each', ({ rate, connections, interval }) => {
    expect(pacingIntervalMs(rate, connections)).toBeCloseTo(interval, 9);
    // And back: the connections together send the rate asked for.
    expect((connections * 1000) / pacingIntervalMs(rate, connections)).toBeCloseTo(rate, 9);
  });

  it.each([
    { rate: 0, connections: 32 },
    { rate: -1, connections: 32 },
    { rate: Number.NaN, connections: 32 },
    { rate: Number.POSITIVE_INFINITY, connections: 32 },
    { rate: 400, connections: 0 },
    { rate: 400, connections: 1.5 },
  ])('refuses rate $rate at $connections connections', ({ rate, connections }) => {
    expect(() => pacingIntervalMs(rate, connections)).toThrow(RangeError);
  });

  it('the bench rate gives 32 connections a whole number of ms', () => {
    expect(pacingIntervalMs(PACED_RATE, 32)).toBe(80);
  });

  it.each([
    { seconds: 5, reachable: 393.6 },
    { seconds: 1, reachable: 368 },
  ])('32 connections at 400 req/s for $seconds s can show $reachable req/s', ({ seconds, reachable }) => {
    // Each connection's first pause (one interval on average) sends nothing.
    expect(reachableRate(400, 32, seconds)).toBeCloseTo(reachable, 9);
  });

  it.each([
    { achieved: 393.6, kept: true },
    { achieved: 380, kept: true },
    { achieved: 354.3, kept: true },
    { achieved: 354.2, kept: false },
    { achieved: 120, kept: false },
  ])('$achieved req/s in 5 s at 400 req/s, 32 connections: kept $kept', ({ achieved, kept }) => {
    expect(keptRate(achieved, 400, 32, 5)).toBe(kept);
  });
});

describe('wrk report of a paced run', () => {
  it('parses the rate achieved and the percentiles', () => {
    const r = parseWrk(PACED_REPORT);
    expect(r).toMatchObject({ requests: 386, requestsPerSecond: 192.52, p99Ms: 1.71, errors: 0 });
    expect(r.p50Ms).toBeCloseTo(0.351, 9);
    expect(r.mbPerSecond).toBeCloseTo(23.31 / 1024, 9);
  });

  it('counts non-2xx answers and socket errors as errors', () => {
    const failing = PACED_REPORT.replace(
      'Requests/sec',
      '  Socket errors: connect 0, read 2, write 0, timeout 1\n  Non-2xx or 3xx responses: 5\nRequests/sec',
    );
    expect(parseWrk(failing).errors).toBe(8);
  });
});

// scripts/install-deps.sh installs wrk: this runs wherever the suite does, never skipped.
describe('paced.lua with Debian wrk', () => {
  it('holds a loopback server to the rate asked for', async () => {
    const server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const rate = 200;
      const r = await runPaced({
        url: `http://127.0.0.1:${port}/x`,
        connections: 8,
        seconds: 2,
        threads: 2,
        rate,
      });
      // The response times cost a few percent below what the first pauses leave; never more.
      expect(r.requestsPerSecond).toBeGreaterThan(reachableRate(rate, 8, 2) * 0.9);
      expect(r.requestsPerSecond).toBeLessThan(rate * 1.02);
      expect(keptRate(r.requestsPerSecond, rate, 8, 2)).toBe(true);
    } finally {
      server.close();
    }
  });
});
