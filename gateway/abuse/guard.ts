import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Identity } from '../../auth/identity.ts';
import { type ErrorCode, isModgateError, ModgateError } from '../../core/errors.ts';
import type { GatewaySettings } from '../config/settings.ts';
import type { StateLogger } from '../state/memory-store.ts';
import type { StateStore } from '../state/store.ts';
import { ConcurrencyLimiter } from './concurrency.ts';
import { Lockout } from './lockout.ts';
import { RateLimiter } from './rate-limit.ts';
import { formatDuration, shownName } from './reason.ts';
import { SourceThrottle } from './source-throttle.ts';

/** Bytes of the random per-process HMAC key used when `abuse.key` is not configured. */
const RANDOM_KEY_BYTES = 32;
/**
 * Device logins one source IP may start per window. Each start makes modgate
 * ask the IdP for a device code, unauthenticated; a person runs `modgate
 * login` a few times a day, a NAT of developers a few times a minute.
 */
export const DEVICE_LOGIN_STARTS = 30;
const DEVICE_LOGIN_WINDOW_MS = 60_000;

/** A login that failed, as abuse protection sees it. */
export interface FailedLogin {
  /** The user name a Basic credential claimed; undefined for Bearer and malformed credentials. */
  readonly username: string | undefined;
  /** The client address (`clientIp`'s answer). */
  readonly ip: string;
  /** True for a directory password (the only credential that can be sprayed); false for tokens. */
  readonly password: boolean;
}

/**
 * The pipeline's abuse protection, over the shared state store: a user
 * lockout check before authentication (a lock earned at another process
 * holds here too), failures counted per user name and, for passwords, per
 * source address (SourceThrottle), a per-identity rate limit after
 * authentication, and a cap on concurrent requests per upstream. Refusals are
 * 429/503 with `Retry-After` (via `detail.retryInMs`). A lock or throttle
 * that engages is one warning line in the operational log.
 *
 * A source address is never refused as such: only logins that failed are
 * answered differently (slowly, 429) from a throttled source, so a
 * credential that verifies, or is in the verified cache, works whoever
 * shares its address. The price: a sprayer is slowed, not cut off (the user
 * lockout still caps guesses per name); the warning names its address.
 */
export class AbuseGuard {
  readonly #lockout: Lockout;
  readonly #throttle: SourceThrottle;
  readonly #throttleDelayMs: number;
  readonly #rate: RateLimiter;
  readonly #slots: ConcurrencyLimiter;
  readonly #deviceStarts: RateLimiter;
  readonly #logger: Pick<StateLogger, 'warn'>;

  constructor(store: StateStore, settings: GatewaySettings['abuse'], logger: Pick<StateLogger, 'warn'>) {
    const hmacKey = settings.key ?? randomBytes(RANDOM_KEY_BYTES);
    this.#logger = logger;
    this.#lockout = new Lockout({ store, hmacKey, ...settings.lockout, logger });
    const { delayMs, ...throttle } = settings.sourceThrottle;
    this.#throttle = new SourceThrottle({ store, hmacKey, ...throttle, logger });
    this.#throttleDelayMs = delayMs;
    this.#rate = new RateLimiter({
      store,
      hmacKey,
      requestsPerWindow: settings.rateLimit.requests,
      windowMs: settings.rateLimit.windowMs,
      logger,
    });
    this.#slots = new ConcurrencyLimiter({ store, ...settings.upstreamConcurrency, logger });
    this.#deviceStarts = new RateLimiter({
      store,
      hmacKey,
      requestsPerWindow: DEVICE_LOGIN_STARTS,
      windowMs: DEVICE_LOGIN_WINDOW_MS,
      logger,
      namespace: 'device-login-starts',
    });
  }

  /** Refuses (429) a device login start from `ip` beyond {@link DEVICE_LOGIN_STARTS} per window. */
  async deviceLoginStart(ip: string): Promise<void> {
    const verdict = await this.#deviceStarts.take(ip);
    if (!verdict.allowed) throw refusal(verdict.code, verdict.reason, verdict.retryAfterS);
  }

  /** Refuses (429) when the user name a Basic credential claims is locked; nothing else is checked here. */
  async beforeAuthentication(username: string | undefined): Promise<void> {
    if (username === undefined) return;
    const status = await this.#lockout.check(username);
    if (status.locked) throw refusal(status.code, status.reason, status.retryAfterS);
  }

  /**
   * Counts a wrong credential (unknown users too, so a lock reveals nothing)
   * and returns the error to answer with: `err` itself, or, for a password
   * from a throttled source, `auth.throttled` once the throttle delay has
   * passed. Other failures (directory down, malformed) count nowhere.
   */
  async authenticationFailed(err: ModgateError, login: FailedLogin): Promise<ModgateError> {
    const username = login.username;
    if (!isModgateError(err, 'auth.invalid_credentials') || username === undefined) return err;
    const [lock, throttle] = await Promise.all([
      this.#lockout.recordFailure(username),
      login.password ? this.#throttle.recordFailure(username, login.ip) : undefined,
    ]);
    if (lock.engaged && lock.status.locked) {
      this.#logger.warn(
        { event: 'abuse.user_locked', user: username, ip: login.ip, failures: lock.failures },
        `lockout: ${shownName(username)} locked for ${lock.status.retryAfterS}s after ` +
          `${lock.failures} failed logins (the last from ${shownName(login.ip)})`,
      );
    }
    const status = throttle?.status;
    if (!status?.throttled) return err;
    if (status.engaged) {
      this.#logger.warn(
        { event: 'abuse.source_throttled', ip: login.ip, users: throttle?.names },
        `throttle: failed logins for ${throttle?.names} user names from ${shownName(login.ip)} ` +
          `within ${formatDuration(this.#throttle.windowMs)}; for ${status.retryAfterS}s its failed ` +
          `logins wait ${formatDuration(this.#throttleDelayMs)} and answer 429 (credentials that verify still pass)`,
      );
    }
    if (this.#throttleDelayMs > 0) await delay(this.#throttleDelayMs);
    return new ModgateError(status.code, status.reason, {
      cause: err,
      detail: { retryInMs: status.retryAfterS * 1000 },
    });
  }

  async rateLimit(identity: Identity): Promise<void> {
    const verdict = await this.#rate.take(identity.user);
    if (!verdict.allowed) throw refusal(verdict.code, verdict.reason, verdict.retryAfterS);
  }

  /** A slot of the upstream's concurrency cap; call the returned function when the response is over. */
  async enterUpstream(upstream: string): Promise<() => void> {
    const slot = await this.#slots.enter(upstream);
    if (!slot.admitted) throw refusal(slot.code, slot.reason, slot.retryAfterS);
    return () => void slot.release();
  }
}

function refusal(code: ErrorCode, reason: string, retryAfterS: number): ModgateError {
  return new ModgateError(code, reason, { detail: { retryInMs: retryAfterS * 1000 } });
}
