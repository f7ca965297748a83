import type { StateLogger } from '../state/memory-store.ts';
import { checkPositive, type StateStore, stateKey } from '../state/store.ts';
import { formatDuration, retryAfterSeconds, shownName } from './reason.ts';
import { SubjectHasher } from './subject-key.ts';

/** Default requests one identity may make per window (requests). */
export const DEFAULT_RATE_LIMIT_REQUESTS = 600;
/** Default rate-limit window (milliseconds): 1 min. */
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;

/** Namespace of the per-identity window counters. */
const NAMESPACE = 'rate-limit';
/** HMAC purpose label of identities (see SubjectHasher). */
const PURPOSE = 'rate-limit-identity';

/** The refusal code for a request over the limit (429 with `Retry-After`). */
export const RATE_LIMITED_CODE = 'request.rate_limited';

export type RateDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** Whole seconds until the window ends, for `Retry-After` (≥ 1). */
      readonly retryAfterS: number;
      readonly code: typeof RATE_LIMITED_CODE;
      /** The one-line reason the go command prints. */
      readonly reason: string;
    };

export interface RateLimiterOptions {
  readonly store: StateStore;
  /** Key of the HMAC that turns identities into state-key ids; the same in every process sharing the store. */
  readonly hmacKey: string | Uint8Array;
  /** Requests allowed per identity per window; default {@link DEFAULT_RATE_LIMIT_REQUESTS}. */
  readonly requestsPerWindow?: number;
  /** Window length (milliseconds); default {@link DEFAULT_RATE_LIMIT_WINDOW_MS}. */
  readonly windowMs?: number;
  /** Where a store that throws is reported. */
  readonly logger?: Pick<StateLogger, 'warn'>;
  /** The state-key namespace of the counters; one per kind of limit, so their subjects never share a counter. */
  readonly namespace?: string;
}

/**
 * A per-identity request rate limit: at most
 * `requestsPerWindow` requests per authenticated identity in each fixed
 * window of `windowMs`, counted atomically across processes with the store's
 * `incrementWindow`. The window starts at the identity's first request, so
 * a burst at a window's end and the next one's start may let through up to
 * twice the limit within `windowMs`; in exchange a check costs one store call.
 *
 * Refused requests count too (they arrive; one INCR each), which does not
 * lengthen the window. Identities appear in the store only as HMACs.
 *
 * A store that throws lets the request through (logged): a rate limit is
 * protection against overload, not an access rule.
 */
export class RateLimiter {
  readonly #store: StateStore;
  readonly #hasher: SubjectHasher;
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #logger: Pick<StateLogger, 'warn'> | undefined;
  readonly #namespace: string;

  /** Throws `config.invalid` for a short HMAC key and `internal` for a limit that is not a positive integer. */
  constructor(options: RateLimiterOptions) {
    this.#store = options.store;
    this.#hasher = new SubjectHasher(options.hmacKey);
    this.#limit = options.requestsPerWindow ?? DEFAULT_RATE_LIMIT_REQUESTS;
    this.#windowMs = options.windowMs ?? DEFAULT_RATE_LIMIT_WINDOW_MS;
    checkPositive('rate limit requestsPerWindow', this.#limit);
    checkPositive('rate limit windowMs', this.#windowMs);
    this.#logger = options.logger;
    this.#namespace = options.namespace ?? NAMESPACE;
  }

  /**
   * Counts one request by `identity` (the authenticated subject, e.g. a
   * username; also shown in the reason) and says whether it may go on. Never rejects.
   */
  async take(identity: string): Promise<RateDecision> {
    const key = stateKey(this.#namespace, this.#hasher.id(PURPOSE, identity));
    let window: { count: number; resetInMs: number };
    try {
      window = await this.#store.incrementWindow(key, this.#windowMs);
    } catch (err) {
      this.#logger?.warn(
        { err, op: 'incrementWindow' },
        'rate limit: state store failed; request let through',
      );
      return { allowed: true };
    }
    if (window.count <= this.#limit) return { allowed: true };
    const retryAfterS = retryAfterSeconds(window.resetInMs);
    return {
      allowed: false,
      retryAfterS,
      code: RATE_LIMITED_CODE,
      reason:
        `rate limit exceeded for ${shownName(identity)} ` +
        `(${this.#limit} requests per ${formatDuration(this.#windowMs)}); try again in ${retryAfterS}s`,
    };
  }
}
