import type { StateLogger } from '../state/memory-store.ts';
import { checkPositive, type StateKey, type StateStore, stateKey } from '../state/store.ts';
import { retryAfterSeconds, shownName } from './reason.ts';
import { SubjectHasher } from './subject-key.ts';

/** Default failed logins within the window that lock a username or a source IP (failures). */
export const DEFAULT_LOCKOUT_MAX_FAILURES = 10;
/** Default window in which failures are counted (milliseconds): 5 min. */
export const DEFAULT_LOCKOUT_WINDOW_MS = 5 * 60_000;
/** Default time a lock lasts (milliseconds): 15 min. */
export const DEFAULT_LOCKOUT_LOCK_MS = 15 * 60_000;
/** Locks remembered in process for a store that throws (entries); the oldest go first. */
const MAX_REMEMBERED_LOCKS = 10_000;

/** Namespace of lock markers: values whose TTL is the lock. */
const LOCK_NAMESPACE = 'lockout';
/** Namespace of failure counters: fixed windows (one kind of operation per namespace, see store.ts). */
const COUNT_NAMESPACE = 'lockout-count';
/** HMAC purpose label of usernames (see SubjectHasher). */
const USER_PURPOSE = 'lockout-user';

/** What a lock is on: the username tried, or the client IP it came from. */
export type LockScope = 'user' | 'ip';

/** The refusal code for a locked login (429 with `Retry-After`). */
export const LOCKED_OUT_CODE = 'auth.locked_out';

export type LockoutStatus =
  | { readonly locked: false }
  | {
      readonly locked: true;
      readonly scope: LockScope;
      /** Whole seconds until the lock ends, for `Retry-After` (≥ 1). */
      readonly retryAfterS: number;
      readonly code: typeof LOCKED_OUT_CODE;
      /** The one-line reason the go command prints; names the username as sent, or the IP. */
      readonly reason: string;
    };

/** What {@link Lockout.recordFailure} counted. */
export interface FailureRecord {
  /** Failures in the current window, this one included, per scope counted (absent when the store failed). */
  readonly failures: Readonly<Partial<Record<LockScope, number>>>;
  /** The lock this failure started (its count reached the threshold), or `{ locked: false }`. */
  readonly status: LockoutStatus;
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
  /**
   * Failures per source IP within `windowMs` that lock it; default `maxFailures`.
   * Raise it when many users share an IP (NAT, a CI farm) so one bad
   * credential cannot lock them all.
   */
  readonly ipMaxFailures?: number;
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

interface Subject {
  readonly scope: LockScope;
  /** Shown in the reason: the username as sent, or the IP. */
  readonly shown: string;
  readonly lockKey: StateKey;
  readonly countKey: StateKey;
  readonly maxFailures: number;
}

/**
 * Failed-login lockout per username and per source IP,
 * shared by every process on the store: `maxFailures` failures within
 * `windowMs` lock the username (or the IP) for `lockMs`.
 *
 * Use: `check` before verifying a credential (refuse with 429 when locked, so
 * a locked account costs no directory call); `recordFailure` after a wrong
 * credential, for unknown usernames too so a lock reveals nothing about who
 * exists; `recordSuccess` after a directory verification succeeded.
 *
 * State: per scope a fixed-window counter (`lockout-count` namespace, counted
 * atomically with `incrementWindow`) and a lock marker (`lockout` namespace, a
 * value holding the lock's end in epoch milliseconds, TTL `lockMs`). Usernames
 * appear only as HMACs, NFC-normalised and lower-cased first so `Alice` and
 * `alice` share a count. IPs appear as given; pass `clientIp`'s answer.
 *
 * A count at or above the threshold (re)sets the lock, so once a lock has
 * expired, a failure in a window that still holds `maxFailures` failures
 * locks again: the rule is "N failures in the window", not "N since the lock".
 *
 * Store trouble: stores do not reject when their backend is down (RedisStore
 * answers from its per-process copy, which has every lock this process set or
 * saw). Should a store throw anyway, the call does not: locks this instance
 * set or saw are kept in process and still enforced, failures go uncounted.
 */
export class Lockout {
  readonly #store: StateStore;
  readonly #hasher: SubjectHasher;
  readonly #maxFailures: number;
  readonly #ipMaxFailures: number;
  readonly #windowMs: number;
  readonly #lockMs: number;
  readonly #resetOnSuccess: boolean;
  readonly #logger: Pick<StateLogger, 'warn'> | undefined;
  readonly #now: () => number;
  /** Lock key → end (epoch ms) of locks this instance set or saw; consulted only when the store throws. */
  readonly #remembered = new Map<string, number>();

  /** Throws `config.invalid` for a short HMAC key and `internal` for a limit that is not a positive integer. */
  constructor(options: LockoutOptions) {
    this.#store = options.store;
    this.#hasher = new SubjectHasher(options.hmacKey);
    this.#maxFailures = options.maxFailures ?? DEFAULT_LOCKOUT_MAX_FAILURES;
    this.#ipMaxFailures = options.ipMaxFailures ?? this.#maxFailures;
    this.#windowMs = options.windowMs ?? DEFAULT_LOCKOUT_WINDOW_MS;
    this.#lockMs = options.lockMs ?? DEFAULT_LOCKOUT_LOCK_MS;
    checkPositive('lockout maxFailures', this.#maxFailures);
    checkPositive('lockout ipMaxFailures', this.#ipMaxFailures);
    checkPositive('lockout windowMs', this.#windowMs);
    checkPositive('lockout lockMs', this.#lockMs);
    this.#resetOnSuccess = options.resetOnSuccess ?? true;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Whether a login as `username` from `ip` is refused now: one `get` per
   * scope, in parallel. When both are locked the longer lock is reported
   * (the user lock on a tie), since that is when a retry can succeed. Either
   * argument may be absent (a bearer token has no username). Never rejects.
   */
  async check(username: string | undefined, ip: string | undefined): Promise<LockoutStatus> {
    const subjects = this.#subjects(username, ip);
    const ends = await Promise.all(subjects.map((s) => this.#lockEnd(s)));
    let worst: { subject: Subject; end: number } | undefined;
    for (const [i, subject] of subjects.entries()) {
      const end = ends[i];
      if (end !== undefined && (worst === undefined || end > worst.end)) worst = { subject, end };
    }
    return worst === undefined ? { locked: false } : this.#locked(worst.subject, worst.end);
  }

  /**
   * Counts a failed login (wrong password, unknown user, bad token) against
   * `username` and `ip`, atomically across processes, and locks each scope
   * whose count reaches its threshold. Do not count missing credentials or a
   * directory that is down. Never rejects.
   */
  async recordFailure(username: string | undefined, ip: string | undefined): Promise<FailureRecord> {
    const subjects = this.#subjects(username, ip);
    const counts = await Promise.all(subjects.map((s) => this.#count(s)));
    const failures: Partial<Record<LockScope, number>> = {};
    const reached: Subject[] = [];
    for (const [i, subject] of subjects.entries()) {
      const count = counts[i];
      if (count === undefined) continue;
      failures[subject.scope] = count;
      if (count >= subject.maxFailures) reached.push(subject);
    }
    const end = this.#now() + this.#lockMs;
    await Promise.all(reached.map((subject) => this.#lock(subject, end)));
    const [first] = reached;
    return { failures, status: first === undefined ? { locked: false } : this.#locked(first, end) };
  }

  /**
   * After a directory verified `username`'s credential (not on every cached
   * request: it costs a store call): resets that username's failure count
   * when `resetOnSuccess` is on, so a user who mistyped a few times starts
   * afresh. Only the owner's password can do that, so it gives an attacker
   * nothing. It never clears a lock, and never the IP's count: otherwise one
   * valid account would let an attacker reset the IP count between guesses at
   * other accounts. Never rejects.
   */
  async recordSuccess(username: string): Promise<void> {
    if (!this.#resetOnSuccess) return;
    const [subject] = this.#subjects(username, undefined);
    if (subject !== undefined) await this.#safely('delete', () => this.#store.delete(subject.countKey));
  }

  /** Lifts the locks and failure counts of `username` and/or `ip` (an operator's unlock). Never rejects. */
  async unlock(username: string | undefined, ip: string | undefined): Promise<void> {
    const subjects = this.#subjects(username, ip);
    await Promise.all(
      subjects.flatMap((s) => {
        this.#remembered.delete(s.lockKey);
        return [s.lockKey, s.countKey].map((key) => this.#safely('delete', () => this.#store.delete(key)));
      }),
    );
  }

  #subjects(username: string | undefined, ip: string | undefined): Subject[] {
    const subjects: Subject[] = [];
    if (username !== undefined) {
      const id = `user:${this.#hasher.id(USER_PURPOSE, username.normalize('NFC').toLowerCase())}`;
      subjects.push({
        scope: 'user',
        shown: shownName(username),
        lockKey: stateKey(LOCK_NAMESPACE, id),
        countKey: stateKey(COUNT_NAMESPACE, id),
        maxFailures: this.#maxFailures,
      });
    }
    if (ip !== undefined && ip !== '') {
      subjects.push({
        scope: 'ip',
        shown: shownName(ip),
        lockKey: stateKey(LOCK_NAMESPACE, `ip:${ip}`),
        countKey: stateKey(COUNT_NAMESPACE, `ip:${ip}`),
        maxFailures: this.#ipMaxFailures,
      });
    }
    return subjects;
  }

  /** The end (epoch ms) of the subject's lock, or undefined when it is not locked. */
  async #lockEnd(subject: Subject): Promise<number | undefined> {
    let value: string | undefined;
    try {
      value = await this.#store.get(subject.lockKey);
    } catch (err) {
      this.#logger?.warn({ err, op: 'get' }, 'lockout: state store failed; using locks known in process');
      return this.#rememberedEnd(subject.lockKey);
    }
    if (value === undefined) return undefined;
    const now = this.#now();
    const stored = Number(value);
    // A marker that cannot be read still means locked; the clamp absorbs clock skew between processes.
    const end = Number.isFinite(stored)
      ? Math.min(Math.max(stored, now + 1), now + this.#lockMs)
      : now + this.#lockMs;
    this.#remember(subject.lockKey, end);
    return end;
  }

  async #count(subject: Subject): Promise<number | undefined> {
    try {
      return (await this.#store.incrementWindow(subject.countKey, this.#windowMs)).count;
    } catch (err) {
      this.#logger?.warn({ err, op: 'incrementWindow' }, 'lockout: state store failed; failure not counted');
      return undefined;
    }
  }

  async #lock(subject: Subject, end: number): Promise<void> {
    this.#remember(subject.lockKey, end);
    await this.#safely('set', () => this.#store.set(subject.lockKey, String(end), this.#lockMs));
  }

  #locked(subject: Subject, end: number): LockoutStatus {
    const retryAfterS = retryAfterSeconds(end - this.#now());
    const who = subject.scope === 'user' ? `for ${subject.shown}` : `from ${subject.shown}`;
    return {
      locked: true,
      scope: subject.scope,
      retryAfterS,
      code: LOCKED_OUT_CODE,
      reason: `too many failed logins ${who}; try again in ${retryAfterS}s`,
    };
  }

  #remember(key: string, end: number): void {
    this.#remembered.delete(key);
    if (this.#remembered.size >= MAX_REMEMBERED_LOCKS) {
      const oldest = this.#remembered.keys().next().value;
      if (oldest !== undefined) this.#remembered.delete(oldest);
    }
    this.#remembered.set(key, end);
  }

  #rememberedEnd(key: string): number | undefined {
    const end = this.#remembered.get(key);
    if (end === undefined || end > this.#now()) return end;
    this.#remembered.delete(key);
    return undefined;
  }

  async #safely(op: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.#logger?.warn({ err, op }, 'lockout: state store failed');
    }
  }
}
