import type { StateLogger } from '../state/memory-store.ts';
import { checkPositive, type StateStore, stateKey } from '../state/store.ts';
import { TimedMarkers } from './markers.ts';
import { retryAfterSeconds, shownName } from './reason.ts';
import { SubjectHasher } from './subject-key.ts';

/** Default distinct user names failing from one source within the window that throttle it (names). */
export const DEFAULT_THROTTLE_MAX_USERS = 10;
/** Default window in which those names are counted (milliseconds): 5 min. */
export const DEFAULT_THROTTLE_WINDOW_MS = 5 * 60_000;
/** Default time a source stays throttled (milliseconds): 15 min. */
export const DEFAULT_THROTTLE_DURATION_MS = 15 * 60_000;
/**
 * Default wait before a failed login from a throttled source is answered
 * (milliseconds): 2 s, so a client that waits for each answer guesses at
 * most one password per 2 s; a correct credential is answered at once.
 */
export const DEFAULT_THROTTLE_DELAY_MS = 2_000;
/** Longest configurable wait (milliseconds): 10 s; each waiting answer holds a connection. */
export const MAX_THROTTLE_DELAY_MS = 10_000;

/** Namespace of throttle markers: values whose TTL is the throttle. */
const THROTTLE_NAMESPACE = 'throttle';
/** Namespace of the per-source counters of distinct failing names (fixed windows). */
const NAMES_NAMESPACE = 'throttle-names';
/** Namespace of the per-source, per-name counters that tell a new name from a repeated one (fixed windows). */
const SEEN_NAMESPACE = 'throttle-seen';
/** HMAC purpose label of usernames (see SubjectHasher); unlinkable to the lockout's ids. */
const USER_PURPOSE = 'throttle-user';

/** The refusal code for a failed login from a throttled source (429 with `Retry-After`). */
export const THROTTLED_CODE = 'auth.throttled';

export type ThrottleStatus =
  | { readonly throttled: false }
  | {
      readonly throttled: true;
      /**
       * True for the one failure, across processes, whose new name reached
       * the threshold: the moment the throttle engages (the counter is atomic).
       */
      readonly engaged: boolean;
      /** Whole seconds until the throttle ends, for `Retry-After` (≥ 1). */
      readonly retryAfterS: number;
      readonly code: typeof THROTTLED_CODE;
      /** The one-line reason the go command prints; names the source address. */
      readonly reason: string;
    };

/** What {@link SourceThrottle.recordFailure} counted. */
export interface ThrottleRecord {
  /** Distinct names failed from the source in its window, when this failure was a new one (else absent). */
  readonly names: number | undefined;
  readonly status: ThrottleStatus;
}

export interface SourceThrottleOptions {
  readonly store: StateStore;
  /** Key of the HMAC that turns usernames into state-key ids; the same in every process sharing the store. */
  readonly hmacKey: string | Uint8Array;
  /** Distinct user names failing from one source within `windowMs` that throttle it; default {@link DEFAULT_THROTTLE_MAX_USERS}. */
  readonly maxUsers?: number;
  /** Window in which names are counted (milliseconds); default {@link DEFAULT_THROTTLE_WINDOW_MS}. */
  readonly windowMs?: number;
  /** How long a source stays throttled (milliseconds); default {@link DEFAULT_THROTTLE_DURATION_MS}. */
  readonly durationMs?: number;
  /** Where a store that throws is reported. */
  readonly logger?: Pick<StateLogger, 'warn'>;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/**
 * Detects password spraying from one source address, shared by every
 * process on the store: when failed logins for `maxUsers` distinct user
 * names come from one address within `windowMs`, the address is throttled
 * for `durationMs`. The same name failing again and again (a job with a
 * stale password) counts once: that is the user lockout's business.
 *
 * A throttle never refuses a credential that verifies: the pipeline asks it
 * only after a login failed (see AbuseGuard), so people sharing the address
 * (an office NAT, CI runners, a Kubernetes node) keep working while an
 * attacker or a broken job beside them fails.
 *
 * State: per source and name a window counter (`throttle-seen`) whose first
 * count marks a new name, per source a window counter of new names
 * (`throttle-names`), and a throttle marker (`throttle`, see TimedMarkers).
 * Usernames appear only as HMACs; addresses as given (pass `clientIp`'s answer).
 */
export class SourceThrottle {
  readonly #hasher: SubjectHasher;
  readonly #maxUsers: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #markers: TimedMarkers;

  /** Throws `config.invalid` for a short HMAC key and `internal` for a limit that is not a positive integer. */
  constructor(options: SourceThrottleOptions) {
    this.#hasher = new SubjectHasher(options.hmacKey);
    this.#maxUsers = options.maxUsers ?? DEFAULT_THROTTLE_MAX_USERS;
    this.#windowMs = options.windowMs ?? DEFAULT_THROTTLE_WINDOW_MS;
    const durationMs = options.durationMs ?? DEFAULT_THROTTLE_DURATION_MS;
    checkPositive('throttle maxUsers', this.#maxUsers);
    checkPositive('throttle windowMs', this.#windowMs);
    checkPositive('throttle durationMs', durationMs);
    this.#now = options.now ?? Date.now;
    this.#markers = new TimedMarkers({
      store: options.store,
      ttlMs: durationMs,
      label: 'throttle',
      logger: options.logger,
      now: this.#now,
    });
  }

  /** The window names are counted in (milliseconds). */
  get windowMs(): number {
    return this.#windowMs;
  }

  /**
   * Counts a failed login as `username` from `ip` and says whether the
   * source is throttled now (this failure may be the one that throttles it).
   * An empty `ip` is never throttled. Never rejects.
   */
  async recordFailure(username: string, ip: string): Promise<ThrottleRecord> {
    if (ip === '') return { names: undefined, status: { throttled: false } };
    const name = this.#hasher.id(USER_PURPOSE, username.normalize('NFC').toLowerCase());
    const throttleKey = stateKey(THROTTLE_NAMESPACE, ip);
    const [seen, before] = await Promise.all([
      this.#markers.count(stateKey(SEEN_NAMESPACE, `${name}@${ip}`), this.#windowMs),
      this.#markers.end(throttleKey),
    ]);
    const names =
      seen === 1 ? await this.#markers.count(stateKey(NAMES_NAMESPACE, ip), this.#windowMs) : undefined;
    if (names !== undefined && names >= this.#maxUsers) {
      const end = await this.#markers.set(throttleKey);
      return { names, status: this.#throttled(ip, end, names === this.#maxUsers) };
    }
    return {
      names,
      status: before === undefined ? { throttled: false } : this.#throttled(ip, before, false),
    };
  }

  #throttled(ip: string, end: number, engaged: boolean): ThrottleStatus {
    const retryAfterS = retryAfterSeconds(end - this.#now());
    return {
      throttled: true,
      engaged,
      retryAfterS,
      code: THROTTLED_CODE,
      reason: `invalid username or password; failed logins from ${shownName(ip)} are throttled for ${retryAfterS}s`,
    };
  }
}
