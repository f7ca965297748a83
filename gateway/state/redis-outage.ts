import type { StateLogger } from './memory-store.ts';
import { brief } from './redis-options.ts';
import { type StateOperation, zeroCounters } from './store.ts';

/** After a failed call, skip Redis for this long so a hung Redis cannot slow every request (milliseconds). */
const BREAKER_COOLDOWN_MS = 1_000;
/** While Redis stays unavailable, repeat the warning at most this often (milliseconds). */
const DEGRADED_LOG_INTERVAL_MS = 30_000;

/**
 * RedisStore's bookkeeping of Redis trouble: fallback counters per
 * operation, a circuit breaker, and the operational log of an outage (one
 * warning when it starts, a reminder every 30 s, one line when it ends) so a
 * dead Redis cannot flood the log with one line per request.
 */
export class RedisOutage {
  readonly #logger: StateLogger;
  readonly #where: string;
  readonly #fallbacks = zeroCounters();
  #breakerUntil = 0;
  #since: number | undefined;
  #calls = 0;
  #lastWarning = 0;
  #quiet = false;

  constructor(logger: StateLogger, where: string) {
    this.#logger = logger;
    this.#where = where;
  }

  /** Calls answered locally so far, per operation (a copy). */
  get fallbacks(): Record<StateOperation, number> {
    return { ...this.#fallbacks };
  }

  /** True while the breaker keeps calls away from Redis after a failure. */
  get breakerOpen(): boolean {
    return Date.now() < this.#breakerUntil;
  }

  /** Stops logging (after close); counting goes on. */
  silence(): void {
    this.#quiet = true;
  }

  /**
   * Records a call answered locally. `err` is the failure of a call that was
   * sent (it opens the breaker); undefined when Redis was not even tried.
   * `status` describes the connection for the log.
   */
  failed(op: StateOperation | undefined, err: unknown, status: string): void {
    if (op !== undefined) this.#fallbacks[op] += 1;
    if (err !== undefined) this.#breakerUntil = Date.now() + BREAKER_COOLDOWN_MS;
    if (this.#quiet) return;
    const now = Date.now();
    const reason = err === undefined ? { name: 'unavailable', message: status } : brief(err);
    this.#calls += 1;
    if (this.#since === undefined) {
      this.#since = now;
      this.#calls = 1;
      this.#lastWarning = now;
      this.#logger.warn(
        { where: this.#where, op, err: reason },
        'shared state unavailable; answering from process-local state',
      );
    } else if (now - this.#lastWarning >= DEGRADED_LOG_INTERVAL_MS) {
      this.#lastWarning = now;
      this.#logger.warn(
        { where: this.#where, op, err: reason, fallbackCalls: this.#calls, sinceMs: now - this.#since },
        'shared state still unavailable; answering from process-local state',
      );
    }
  }

  /** Records a call Redis answered; returns true when that ends an outage. */
  succeeded(): boolean {
    if (this.#since === undefined) return false;
    const outageMs = Date.now() - this.#since;
    this.#since = undefined;
    if (!this.#quiet) {
      this.#logger.info(
        { where: this.#where, fallbackCalls: this.#calls, outageMs },
        'shared state available again',
      );
    }
    return true;
  }
}
