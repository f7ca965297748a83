import { ModgateError } from '../../core/errors.ts';
import { checkPositiveInteger } from '../../core/positive.ts';

/** Default consecutive failures that open the circuit (failures). */
export const DEFAULT_FAILURE_THRESHOLD = 5;
/** Default time the circuit stays open before probing (milliseconds). */
export const DEFAULT_COOL_DOWN_MS = 30_000;
/** Default requests let through at once while half-open (requests). */
export const DEFAULT_HALF_OPEN_PROBES = 1;

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit; default {@link DEFAULT_FAILURE_THRESHOLD}. */
  failureThreshold?: number;
  /** How long the circuit stays open before it lets probes through (milliseconds); default {@link DEFAULT_COOL_DOWN_MS}. */
  coolDownMs?: number;
  /** Probes in flight at once while half-open; default {@link DEFAULT_HALF_OPEN_PROBES}. */
  halfOpenProbes?: number;
  /** Called on every state change, for the log and metrics. */
  onStateChange?: (change: StateChange) => void;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

export interface StateChange {
  readonly upstream: string;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Consecutive failures when the change happened. */
  readonly failures: number;
}

/**
 * The right to send one request, taken from {@link CircuitBreaker.enter}.
 * Settle it exactly once: `success` (the upstream answered, a 404 included),
 * `failure` (5xx, timeout, unreachable: the caller decides) or `release`
 * (no verdict, e.g. the client went away). Later calls are ignored.
 */
export interface Permit {
  success(): void;
  failure(): void;
  release(): void;
}

/** What the breaker knows, for readiness and metrics. */
export interface CircuitSnapshot {
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  /** Milliseconds until an open circuit lets probes through; 0 unless open. */
  readonly retryInMs: number;
  readonly probesInFlight: number;
}

/**
 * A circuit breaker for one upstream (Nygard, "Release It!", Circuit
 * Breaker): closed until `failureThreshold` consecutive failures, then open
 * for `coolDownMs` (every request fails fast with `upstream.unreachable`),
 * then half-open: up to `halfOpenProbes` requests go through; the first
 * success closes the circuit, a failure opens it for another cool-down.
 *
 * Verdicts of requests let through before the last state change are
 * ignored, so a slow failure from before a probe cannot re-open a circuit the
 * probe just closed. A probe never settled within `coolDownMs` is presumed
 * lost and frees its slot, so a leaked permit cannot wedge the circuit.
 */
export class CircuitBreaker {
  readonly upstream: string;
  readonly #threshold: number;
  readonly #coolDownMs: number;
  readonly #maxProbes: number;
  readonly #onStateChange: ((change: StateChange) => void) | undefined;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  /** Bumped on every state change; permits from an older generation carry no verdict. */
  #generation = 0;
  #failures = 0;
  #openedAt = 0;
  /** Start times of the half-open probes in flight, by probe id. */
  readonly #probes = new Map<number, number>();
  #nextProbe = 0;

  constructor(upstream: string, options: CircuitBreakerOptions = {}) {
    this.upstream = upstream;
    this.#threshold = options.failureThreshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.#coolDownMs = options.coolDownMs ?? DEFAULT_COOL_DOWN_MS;
    this.#maxProbes = options.halfOpenProbes ?? DEFAULT_HALF_OPEN_PROBES;
    positive(upstream, 'failure threshold', this.#threshold);
    positive(upstream, 'cool-down', this.#coolDownMs);
    positive(upstream, 'half-open probes', this.#maxProbes);
    this.#onStateChange = options.onStateChange;
    this.#now = options.now ?? Date.now;
  }

  /** The state now; an open circuit whose cool-down has passed reads as half-open. */
  get state(): CircuitState {
    this.#tick();
    return this.#state;
  }

  snapshot(): CircuitSnapshot {
    this.#tick();
    return {
      state: this.#state,
      consecutiveFailures: this.#failures,
      retryInMs: this.#retryInMs(),
      probesInFlight: this.#probes.size,
    };
  }

  /**
   * A permit for one request, or `upstream.circuit_open` (503) when the circuit is
   * open (or half-open with every probe slot taken): fail fast instead of
   * waiting for an upstream known to be failing.
   */
  enter(): Permit {
    this.#tick();
    const generation = this.#generation;
    if (this.#state === 'closed') {
      return this.#permit(
        () => generation === this.#generation && this.#succeeded(),
        () => generation === this.#generation && this.#failed(),
        () => {},
      );
    }
    if (this.#state === 'open' || this.#probes.size >= this.#maxProbes) throw this.#openError();
    const id = this.#nextProbe++;
    this.#probes.set(id, this.#now());
    const own = () => generation === this.#generation && this.#probes.delete(id);
    return this.#permit(
      () => own() && this.#succeeded(),
      () => own() && this.#failed(),
      () => own(),
    );
  }

  /**
   * Runs `fn` under a permit. `isFailure` decides whether a thrown error
   * counts against the upstream (default: every error); a resolved value is
   * a success.
   */
  async run<T>(fn: () => Promise<T>, isFailure: (err: unknown) => boolean = () => true): Promise<T> {
    const permit = this.enter();
    try {
      const value = await fn();
      permit.success();
      return value;
    } catch (err) {
      if (isFailure(err)) permit.failure();
      else permit.success();
      throw err;
    }
  }

  #permit(success: () => unknown, failure: () => unknown, release: () => unknown): Permit {
    let settled = false;
    const once = (verdict: () => unknown) => () => {
      if (settled) return;
      settled = true;
      verdict();
    };
    return { success: once(success), failure: once(failure), release: once(release) };
  }

  #succeeded(): void {
    this.#failures = 0;
    if (this.#state !== 'closed') this.#move('closed');
  }

  #failed(): void {
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.#threshold) {
      this.#openedAt = this.#now();
      this.#move('open');
    }
  }

  /** Time-driven transitions: open → half-open after the cool-down; lost probes free their slots. */
  #tick(): void {
    const now = this.#now();
    if (this.#state === 'open' && now - this.#openedAt >= this.#coolDownMs) this.#move('half-open');
    if (this.#state === 'half-open') {
      for (const [id, since] of this.#probes) if (now - since >= this.#coolDownMs) this.#probes.delete(id);
    }
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    this.#generation += 1;
    this.#probes.clear();
    this.#onStateChange?.({ upstream: this.upstream, from, to, failures: this.#failures });
  }

  #retryInMs(): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.#coolDownMs - this.#now()) : 0;
  }

  #openError(): ModgateError {
    const retryInMs = this.#retryInMs();
    const seconds = Math.max(1, Math.ceil(retryInMs / 1000));
    return new ModgateError(
      'upstream.circuit_open',
      `upstream ${this.upstream} is failing; circuit open, retrying in ${seconds}s`,
      { detail: { circuit: this.#state, retryInMs, consecutiveFailures: this.#failures } },
    );
  }
}

function positive(upstream: string, what: string, n: number): void {
  checkPositiveInteger(`upstream ${upstream}: circuit breaker ${what}`, n, { code: 'config.invalid' });
}
