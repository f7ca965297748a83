/**
 * The per-upstream circuit breaker as a state machine driven by a fake
 * clock: closed → open after N consecutive failures, fail fast while open,
 * half-open probes after the cool-down, success closes, failure re-opens.
 */
import { describe, expect, test } from 'vitest';
import { isModgateError, ModgateError } from '../core/errors.ts';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  type Permit,
  type StateChange,
} from '../gateway/upstreams/circuit-breaker.ts';

/** Threshold 3, cool-down 10 s, one probe, unless a case says otherwise. */
const BASE: CircuitBreakerOptions = { failureThreshold: 3, coolDownMs: 10_000, halfOpenProbes: 1 };

/**
 * One step and the state expected after it:
 * `ok`/`fail` — a request passes and succeeds/fails; `refused` — the request
 * is refused with upstream.circuit_open; `hold` — a request passes and stays in
 * flight; `held ok|fail|release` — the oldest request in flight settles;
 * `wait <ms>` — the clock moves.
 */
type Step = [op: string, state: CircuitState];

function drive(steps: Step[], options: CircuitBreakerOptions = {}): void {
  let clock = 1_000_000;
  const breaker = new CircuitBreaker('athens', { ...BASE, ...options, now: () => clock });
  const held: Permit[] = [];
  steps.forEach(([op, expected], i) => {
    const [verb, arg] = op.split(' ');
    if (verb === 'ok') breaker.enter().success();
    else if (verb === 'fail') breaker.enter().failure();
    else if (verb === 'hold') held.push(breaker.enter());
    else if (verb === 'wait') clock += Number(arg);
    else if (verb === 'refused') expect(() => breaker.enter(), `step ${i}: ${op}`).toThrow(ModgateError);
    else if (verb === 'held') {
      const permit = held.shift()!;
      if (arg === 'ok') permit.success();
      else if (arg === 'fail') permit.failure();
      else permit.release();
    } else throw new Error(`unknown step ${op}`);
    expect(breaker.state, `after step ${i}: ${op}`).toBe(expected);
  });
}

const OPEN: Step[] = [
  ['fail', 'closed'],
  ['fail', 'closed'],
  ['fail', 'open'],
];
const HALF_OPEN: Step[] = [...OPEN, ['wait 10000', 'half-open']];

describe('state machine', () => {
  test.each<[string, Step[], CircuitBreakerOptions?]>([
    ['opens after the threshold of consecutive failures and then refuses', [...OPEN, ['refused', 'open']]],
    [
      'a success resets the consecutive count',
      [
        ['fail', 'closed'],
        ['fail', 'closed'],
        ['ok', 'closed'],
        ['fail', 'closed'],
        ['fail', 'closed'],
        ['fail', 'open'],
      ],
    ],
    [
      'stays open for exactly the cool-down, then a probe success closes',
      [
        ...OPEN,
        ['wait 9999', 'open'],
        ['refused', 'open'],
        ['wait 1', 'half-open'],
        ['ok', 'closed'],
        ['ok', 'closed'],
      ],
    ],
    [
      'a probe failure re-opens for a fresh cool-down',
      [...HALF_OPEN, ['fail', 'open'], ['wait 9999', 'open'], ['refused', 'open'], ['wait 1', 'half-open']],
    ],
    [
      'after re-closing, the full threshold applies again',
      [...HALF_OPEN, ['ok', 'closed'], ['fail', 'closed'], ['fail', 'closed'], ['fail', 'open']],
    ],
    [
      'half-open lets only the configured number of probes through at once',
      [
        ...HALF_OPEN,
        ['hold', 'half-open'],
        ['refused', 'half-open'],
        ['held ok', 'closed'],
        ['ok', 'closed'],
      ],
    ],
    [
      'two probes allowed: the third is refused; the first failure re-opens, the late success is ignored',
      [
        ...HALF_OPEN,
        ['hold', 'half-open'],
        ['hold', 'half-open'],
        ['refused', 'half-open'],
        ['held fail', 'open'],
        ['held ok', 'open'],
      ],
      { halfOpenProbes: 2 },
    ],
    [
      'a released probe (no verdict) frees its slot',
      [
        ...HALF_OPEN,
        ['hold', 'half-open'],
        ['held release', 'half-open'],
        ['hold', 'half-open'],
        ['held fail', 'open'],
      ],
    ],
    [
      'a probe never settled is presumed lost after a cool-down; its late verdict is ignored',
      [
        ...HALF_OPEN,
        ['hold', 'half-open'],
        ['refused', 'half-open'],
        ['wait 10000', 'half-open'],
        ['hold', 'half-open'],
        ['held ok', 'half-open'],
        ['held ok', 'closed'],
      ],
    ],
    [
      'verdicts of requests let through before a state change are ignored',
      [
        ['hold', 'closed'],
        ...OPEN,
        ['wait 10000', 'half-open'],
        ['hold', 'half-open'],
        ['held fail', 'half-open'],
        ['held ok', 'closed'],
      ],
    ],
    [
      'failures of requests in flight together count toward the threshold',
      [
        ['hold', 'closed'],
        ['hold', 'closed'],
        ['hold', 'closed'],
        ['held fail', 'closed'],
        ['held fail', 'closed'],
        ['held fail', 'open'],
      ],
    ],
    [
      'a threshold of 1 opens on the first failure',
      [
        ['fail', 'open'],
        ['refused', 'open'],
      ],
      { failureThreshold: 1 },
    ],
  ])('%s', (_, steps, options) => drive(steps, options));
});

describe('refusal, snapshot and events', () => {
  test('an open circuit refuses with upstream.circuit_open (503) and the seconds until it probes', () => {
    let clock = 0;
    const breaker = new CircuitBreaker('athens', { ...BASE, now: () => clock });
    for (let i = 0; i < 3; i++) breaker.enter().failure();
    let err: unknown;
    try {
      breaker.enter();
    } catch (e) {
      err = e;
    }
    expect(isModgateError(err, 'upstream.circuit_open')).toBe(true);
    expect((err as ModgateError).message).toBe('upstream athens is failing; circuit open, retrying in 10s');
    expect((err as ModgateError).detail).toEqual({
      circuit: 'open',
      retryInMs: 10_000,
      consecutiveFailures: 3,
    });
    clock += 2_500;
    expect(() => breaker.enter()).toThrow('upstream athens is failing; circuit open, retrying in 8s');
    clock += 7_499;
    expect(() => breaker.enter()).toThrow('upstream athens is failing; circuit open, retrying in 1s');
  });

  test('snapshot reports state, failures, time to probe and probes in flight', () => {
    let clock = 0;
    const breaker = new CircuitBreaker('athens', { ...BASE, now: () => clock });
    breaker.enter().failure();
    expect(breaker.snapshot()).toEqual({
      state: 'closed',
      consecutiveFailures: 1,
      retryInMs: 0,
      probesInFlight: 0,
    });
    breaker.enter().failure();
    breaker.enter().failure();
    clock += 4_000;
    expect(breaker.snapshot()).toMatchObject({ state: 'open', retryInMs: 6_000 });
    clock += 6_000;
    breaker.enter();
    expect(breaker.snapshot()).toEqual({
      state: 'half-open',
      consecutiveFailures: 3,
      retryInMs: 0,
      probesInFlight: 1,
    });
  });

  test('onStateChange sees every transition once', () => {
    let clock = 0;
    const changes: StateChange[] = [];
    const breaker = new CircuitBreaker('athens', {
      ...BASE,
      now: () => clock,
      onStateChange: (c) => changes.push(c),
    });
    for (let i = 0; i < 3; i++) breaker.enter().failure();
    clock += 10_000;
    breaker.enter().failure();
    clock += 10_000;
    breaker.enter().success();
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
    expect(changes[0]).toEqual({ upstream: 'athens', from: 'closed', to: 'open', failures: 3 });
  });

  test('a permit counts once however often it is settled', () => {
    const breaker = new CircuitBreaker('athens', BASE);
    const permit = breaker.enter();
    permit.failure();
    permit.failure();
    permit.failure();
    expect(breaker.snapshot().consecutiveFailures).toBe(1);
    permit.success();
    expect(breaker.snapshot().consecutiveFailures).toBe(1);
  });
});

describe('run', () => {
  const notFound = new ModgateError('upstream.not_found', 'example.com/x@v1.0.0: not found');
  const failing = new ModgateError('upstream.bad_response', 'upstream athens failed (503)');
  const isFailure = (err: unknown) => !isModgateError(err, 'upstream.not_found');

  test('passes values and errors through; the caller decides what counts as a failure', async () => {
    const breaker = new CircuitBreaker('athens', BASE);
    expect(await breaker.run(async () => 'v1.0.0')).toBe('v1.0.0');
    for (let i = 0; i < 5; i++)
      await expect(breaker.run(() => Promise.reject(notFound), isFailure)).rejects.toBe(notFound);
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 3; i++)
      await expect(breaker.run(() => Promise.reject(failing), isFailure)).rejects.toBe(failing);
    expect(breaker.state).toBe('open');
  });

  test('an open circuit fails fast without calling fn', async () => {
    const breaker = new CircuitBreaker('athens', { ...BASE, failureThreshold: 1 });
    await expect(breaker.run(() => Promise.reject(failing))).rejects.toBe(failing);
    let called = false;
    await expect(
      breaker.run(async () => {
        called = true;
      }),
    ).rejects.toMatchObject({ code: 'upstream.circuit_open' });
    expect(called).toBe(false);
  });

  test('a 404 from a half-open probe proves the upstream is alive and closes the circuit', async () => {
    let clock = 0;
    const breaker = new CircuitBreaker('athens', { ...BASE, failureThreshold: 1, now: () => clock });
    await expect(breaker.run(() => Promise.reject(failing), isFailure)).rejects.toBe(failing);
    clock += 10_000;
    await expect(breaker.run(() => Promise.reject(notFound), isFailure)).rejects.toBe(notFound);
    expect(breaker.state).toBe('closed');
  });
});

describe('options', () => {
  test.each([
    [{ failureThreshold: 0 }, 'failure threshold', 0],
    [{ coolDownMs: -1 }, 'cool-down', -1],
    [{ halfOpenProbes: 1.5 }, 'half-open probes', 1.5],
  ] as const)('rejects %o as config.invalid', (options, what, value) => {
    expect(() => new CircuitBreaker('athens', options)).toThrow(
      expect.objectContaining({
        code: 'config.invalid',
        message: `upstream athens: circuit breaker ${what} must be a positive integer, got ${value}`,
      }) as Error,
    );
  });

  test('defaults: 5 failures, 30 s cool-down', () => {
    let clock = 0;
    const breaker = new CircuitBreaker('athens', { now: () => clock });
    for (let i = 0; i < 4; i++) breaker.enter().failure();
    expect(breaker.state).toBe('closed');
    breaker.enter().failure();
    expect(breaker.state).toBe('open');
    clock += 29_999;
    expect(breaker.state).toBe('open');
    clock += 1;
    expect(breaker.state).toBe('half-open');
  });
});
