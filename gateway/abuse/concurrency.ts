import type { StateLogger } from '../state/memory-store.ts';
import { checkPositive, type Lease, type StateStore, stateKey } from '../state/store.ts';

/** Default concurrent requests to one upstream across all processes (requests). */
export const DEFAULT_UPSTREAM_CONCURRENCY = 64;
/**
 * Default time a slot is held at most when its holder never releases it (a
 * crashed process) (milliseconds): 10 min. Keep it above the longest
 * upstream request, a large zip download included; a request that outlives
 * it keeps running but no longer counts.
 */
export const DEFAULT_UPSTREAM_SLOT_TTL_MS = 10 * 60_000;
/** Default `Retry-After` for a refusal (seconds): when a slot frees is unknown, and requests are short. */
export const DEFAULT_BUSY_RETRY_AFTER_S = 1;

/** Namespace of the per-upstream semaphores. */
const NAMESPACE = 'upstream-slots';

/** The refusal code when an upstream is at its cap (503 with `Retry-After`). */
export const UPSTREAM_BUSY_CODE = 'upstream.busy';

/** A refusal: the upstream is at its cap. */
export interface Busy {
  readonly admitted: false;
  /** Whole seconds for `Retry-After` (≥ 1). */
  readonly retryAfterS: number;
  readonly code: typeof UPSTREAM_BUSY_CODE;
  /** The one-line reason the go command prints. */
  readonly reason: string;
  readonly limit: number;
}

export type Admission =
  | {
      readonly admitted: true;
      /** Frees the slot: call it once the upstream exchange is over (idempotent; never rejects). */
      readonly release: () => Promise<void>;
    }
  | Busy;

export interface ConcurrencyLimiterOptions {
  readonly store: StateStore;
  /** Cap per upstream without an entry in `limits`; default {@link DEFAULT_UPSTREAM_CONCURRENCY}. */
  readonly limit?: number;
  /** Cap by upstream name. */
  readonly limits?: Readonly<Record<string, number>>;
  /** Longest a slot is held without release (milliseconds); default {@link DEFAULT_UPSTREAM_SLOT_TTL_MS}. */
  readonly slotTtlMs?: number;
  /** `Retry-After` of a refusal (seconds); default {@link DEFAULT_BUSY_RETRY_AFTER_S}. */
  readonly retryAfterS?: number;
  /** Where a store that throws is reported. */
  readonly logger?: Pick<StateLogger, 'warn'>;
}

/**
 * A cap on concurrent requests to each upstream across every process sharing
 * the store, on the store's semaphore (`acquire`): a request
 * takes a slot before it goes upstream and gives it back when the exchange is
 * over (response streamed, client gone, or error). A slot whose process died
 * frees itself after `slotTtlMs`.
 *
 * Release exactly once: `release` is idempotent, and `run` releases in a
 * `finally`. When the store falls back to process-local state the cap holds
 * per process until it is back (see StateStore.acquire). A store that throws
 * admits the request (logged): the cap protects upstreams, it is no access rule.
 */
export class ConcurrencyLimiter {
  readonly #store: StateStore;
  readonly #limit: number;
  readonly #limits: ReadonlyMap<string, number>;
  readonly #slotTtlMs: number;
  readonly #retryAfterS: number;
  readonly #logger: Pick<StateLogger, 'warn'> | undefined;
  readonly #held = new Map<string, number>();

  /** Throws `internal` for a limit, TTL or Retry-After that is not a positive integer. */
  constructor(options: ConcurrencyLimiterOptions) {
    this.#store = options.store;
    this.#limit = options.limit ?? DEFAULT_UPSTREAM_CONCURRENCY;
    this.#limits = new Map(Object.entries(options.limits ?? {}));
    this.#slotTtlMs = options.slotTtlMs ?? DEFAULT_UPSTREAM_SLOT_TTL_MS;
    this.#retryAfterS = options.retryAfterS ?? DEFAULT_BUSY_RETRY_AFTER_S;
    checkPositive('concurrency limit', this.#limit);
    for (const [name, limit] of this.#limits) checkPositive(`concurrency limit of ${name}`, limit);
    checkPositive('concurrency slotTtlMs', this.#slotTtlMs);
    checkPositive('concurrency retryAfterS', this.#retryAfterS);
    this.#logger = options.logger;
  }

  /** The cap of `upstream`. */
  limitOf(upstream: string): number {
    return this.#limits.get(upstream) ?? this.#limit;
  }

  /** Slots this process holds on `upstream` now, for metrics. */
  held(upstream: string): number {
    return this.#held.get(upstream) ?? 0;
  }

  /** Takes a slot on `upstream`, or says it is at its cap. Never rejects. */
  async enter(upstream: string): Promise<Admission> {
    const limit = this.limitOf(upstream);
    let lease: Lease | undefined;
    try {
      lease = await this.#store.acquire(stateKey(NAMESPACE, upstream), limit, this.#slotTtlMs);
      if (lease === undefined) return this.#busy(upstream, limit);
    } catch (err) {
      this.#logger?.warn(
        { err, op: 'acquire', upstream },
        'concurrency: state store failed; request let through',
      );
    }
    this.#held.set(upstream, this.held(upstream) + 1);
    const taken = lease;
    let released = false;
    return {
      admitted: true,
      release: async () => {
        if (released) return;
        released = true;
        const left = this.held(upstream) - 1;
        if (left > 0) this.#held.set(upstream, left);
        else this.#held.delete(upstream);
        try {
          await taken?.release();
        } catch (err) {
          // The slot then frees with its TTL.
          this.#logger?.warn({ err, op: 'release', upstream }, 'concurrency: state store failed to release');
        }
      },
    };
  }

  /**
   * Runs `work` holding a slot on `upstream` and releases it when `work`
   * settles, whether it resolves or throws (the error is rethrown). For a
   * streamed response, `work` must settle only once the stream has ended.
   */
  async run<T>(upstream: string, work: () => Promise<T>): Promise<{ admitted: true; value: T } | Busy> {
    const admission = await this.enter(upstream);
    if (!admission.admitted) return admission;
    try {
      return { admitted: true, value: await work() };
    } finally {
      await admission.release();
    }
  }

  #busy(upstream: string, limit: number): Busy {
    return {
      admitted: false,
      retryAfterS: this.#retryAfterS,
      code: UPSTREAM_BUSY_CODE,
      limit,
      reason: `upstream ${upstream} is at its concurrency limit (${limit}); try again in ${this.#retryAfterS}s`,
    };
  }
}
