import type { StateLogger } from '../state/memory-store.ts';
import { checkPositive, type StateKey, type StateStore, stateKey } from '../state/store.ts';
import { TimedMarkers } from './markers.ts';
import { retryAfterSeconds, shownName } from './reason.ts';
import { SubjectHasher } from './subject-key.ts';

/** Default failed logins for one user name within the window that lock it (failures). */
export const DEFAULT_LOCKOUT_MAX_FAILURES = 10;
/** Default window in which failures are counted (milliseconds): 5 min. */
export const DEFAULT_LOCKOUT_WINDOW_MS = 5 * 60_000;
/** Default time a lock lasts (milliseconds): 15 min. */
export const DEFAULT_LOCKOUT_LOCK_MS = 15 * 60_000;

/** Namespace of lock markers: values whose TTL is the lock. */
const LOCK_NAMESPACE = 'lockout';
/** Namespace of failure counters: fixed windows (one kind of operation per namespace, see store.ts). */
const COUNT_NAMESPACE = 'lockout-count';
/** HMAC purpose label of usernames (see SubjectHasher). */
const USER_PURPOSE = 'lockout-user';

/** The refusal code for a locked login (429 with `Retry-After`). */
export const LOCKED_OUT_CODE = 'auth.locked_out';

export type LockoutStatus =
  | { readonly locked: false }
  | {
      readonly locked: true;
      /** Whole seconds until the lock ends, for `Retry-After` (≥ 1). */
      readonly retryAfterS: number;
      readonly code: typeof LOCKED_OUT_CODE;
      /** The one-line reason the go command prints; names the username as sent. */
      readonly reason: string;
    };

/** What {@link Lockout.recordFailure} counted. */
export interface FailureRecord {
  /** Failures of the user name in the current window, this one included (absent when the store failed). */
  readonly failures: number | undefined;
  /** The lock this failure (re)set (its count is at or above the threshold), or `{ locked: false }`. */
  readonly status: LockoutStatus;
  /**
   * True for the one failure, across processes, whose count reached the
   * threshold: the moment the lock engages (the counter is atomic).
   */
  readonly engaged: boolean;
}

export interface LockoutOptions {
  readonly store: StateStore;
  /**
   * Key of the HMAC that turns usernames into state-key ids, so no username
   * (let alone a password) is stored. The same in every process sharing the store.
   */
  readonly hmacKey: string | Uint8Array;
  /** Failures per username within `windowMs` that lock it; default {@link DEFAULT_LOCKOUT_MAX_FAILURES}. */
  readonly maxFailures?: number;
  /** Window in which failures are counted (milliseconds); default {@link DEFAULT_LOCKOUT_WINDOW_MS}. */
  readonly windowMs?: number;
  /** How long a lock lasts (milliseconds); default {@link DEFAULT_LOCKOUT_LOCK_MS}. */
  readonly lockMs?: number;
  /** Whether a successful login resets that username's failure count; default true (see `recordSuccess`). */
  readonly resetOnSuccess?: boolean;
  /** Where a store that throws is reported. */
  readonly logger?: Pick<StateLogger, 'warn'>;
  /** Clock in milliseconds, for tests. */
  readonly now?: () => number;
}

/** The state keys of one user name. */
interface Subject {
  /** Shown in the reason: the username as sent. */
  readonly shown: string;
  readonly lockKey: StateKey;
  readonly countKey: StateKey;
}

/**
 * Failed-login lockout per user name, shared by every process on the store:
 * `maxFailures` failures within `windowMs` lock the user name for `lockMs`,
 * whatever address they came from, and the lock refuses the right password
 * too (regulation as Authelia does it). Source addresses are never locked:
 * see SourceThrottle.
 *
 * Use: `check` before verifying a credential (refuse with 429 when locked, so
 * a locked account costs no directory call); `recordFailure` after a wrong
 * credential, for unknown usernames too so a lock reveals nothing about who
 * exists; `recordSuccess` after a directory verification succeeded.
 *
 * State: a fixed-window counter (`lockout-count` namespace, counted
 * atomically with `incrementWindow`) and a lock marker (`lockout` namespace,
 * see TimedMarkers). Usernames appear only as HMACs, NFC-normalised and
 * lower-cased first so `Alice` and `alice` share a count.
 *
 * A count at or above the threshold (re)sets the lock, so once a lock has
 * expired, a failure in a window that still holds `maxFailures` failures
 * locks again: the rule is "N failures in the window", not "N since the lock".
 *
 * Store trouble: locks this instance set or saw are still enforced, failures
 * go uncounted; no call rejects.
 */
export class Lockout {
  readonly #hasher: SubjectHasher;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #resetOnSuccess: boolean;
  readonly #now: () => number;
  readonly #markers: TimedMarkers;

  /** Throws `config.invalid` for a short HMAC key and `internal` for a limit that is not a positive integer. */
  constructor(options: LockoutOptions) {
    this.#hasher = new SubjectHasher(options.hmacKey);
    this.#maxFailures = options.maxFailures ?? DEFAULT_LOCKOUT_MAX_FAILURES;
    this.#windowMs = options.windowMs ?? DEFAULT_LOCKOUT_WINDOW_MS;
    const lockMs = options.lockMs ?? DEFAULT_LOCKOUT_LOCK_MS;
    checkPositive('lockout maxFailures', this.#maxFailures);
    checkPositive('lockout windowMs', this.#windowMs);
    checkPositive('lockout lockMs', lockMs);
    this.#resetOnSuccess = options.resetOnSuccess ?? true;
    this.#now = options.now ?? Date.now;
    this.#markers = new TimedMarkers({
      store: options.store,
      ttlMs: lockMs,
      label: 'lockout',
      logger: options.logger,
      now: this.#now,
    });
  }

  /** Whether a login as `username` is refused now: one `get`. Never rejects. */
  async check(username: string): Promise<LockoutStatus> {
    const subject = this.#subject(username);
    const end = await this.#markers.end(subject.lockKey);
    return end === undefined ? { locked: false } : this.#locked(subject, end);
  }

  /**
   * Counts a failed login (wrong password, unknown user, bad token) against
   * `username`, atomically across processes, and locks it when its count
   * reaches the threshold. Do not count missing credentials or a directory
   * that is down. Never rejects.
   */
  async recordFailure(username: string): Promise<FailureRecord> {
    const subject = this.#subject(username);
    const failures = await this.#markers.count(subject.countKey, this.#windowMs);
    if (failures === undefined || failures < this.#maxFailures) {
      return { failures, status: { locked: false }, engaged: false };
    }
    const end = await this.#markers.set(subject.lockKey);
    return { failures, status: this.#locked(subject, end), engaged: failures === this.#maxFailures };
  }

  /**
   * After a directory verified `username`'s credential (not on every cached
   * request: it costs a store call): resets that username's failure count
   * when `resetOnSuccess` is on, so a user who mistyped a few times starts
   * afresh. Only the owner's password can do that, so it gives an attacker
   * nothing. It never clears a lock. Never rejects.
   */
  async recordSuccess(username: string): Promise<void> {
    if (!this.#resetOnSuccess) return;
    const { countKey } = this.#subject(username);
    await this.#markers.delete(countKey);
  }

  /** Lifts the lock and failure count of `username` (an operator's unlock). Never rejects. */
  async unlock(username: string): Promise<void> {
    const subject = this.#subject(username);
    await Promise.all([this.#markers.delete(subject.lockKey), this.#markers.delete(subject.countKey)]);
  }

  #subject(username: string): Subject {
    const id = `user:${this.#hasher.id(USER_PURPOSE, username.normalize('NFC').toLowerCase())}`;
    return {
      shown: shownName(username),
      lockKey: stateKey(LOCK_NAMESPACE, id),
      countKey: stateKey(COUNT_NAMESPACE, id),
    };
  }

  #locked(subject: Subject, end: number): LockoutStatus {
    const retryAfterS = retryAfterSeconds(end - this.#now());
    return {
      locked: true,
      retryAfterS,
      code: LOCKED_OUT_CODE,
      reason: `too many failed logins for ${subject.shown}; try again in ${retryAfterS}s`,
    };
  }
}
