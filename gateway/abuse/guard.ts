import { randomBytes } from 'node:crypto';
import type { Identity } from '../../auth/identity.ts';
import { type ErrorCode, isModgateError, ModgateError } from '../../core/errors.ts';
import type { GatewaySettings } from '../config/settings.ts';
import type { StateLogger } from '../state/memory-store.ts';
import type { StateStore } from '../state/store.ts';
import { ConcurrencyLimiter } from './concurrency.ts';
import { Lockout } from './lockout.ts';
import { RateLimiter } from './rate-limit.ts';

/** Bytes of the random per-process HMAC key used when `abuse.key` is not configured. */
const RANDOM_KEY_BYTES = 32;
/**
 * Device logins one source IP may start per window. Each start makes modgate
 * ask the IdP for a device code, unauthenticated; a person runs `modgate
 * login` a few times a day, a NAT of developers a few times a minute.
 */
export const DEVICE_LOGIN_STARTS = 30;
const DEVICE_LOGIN_WINDOW_MS = 60_000;

/**
 * The pipeline's abuse protection, over the shared state store: a lockout
 * check before authentication (a lock earned at another process holds here
 * too), failures counted per user name and source IP, a per-identity rate
 * limit after it, and a cap on concurrent requests per upstream. Refusals are
 * 429/503 with `Retry-After` (via `detail.retryInMs`).
 */
export class AbuseGuard {
  readonly #lockout: Lockout;
  readonly #rate: RateLimiter;
  readonly #slots: ConcurrencyLimiter;
  readonly #deviceStarts: RateLimiter;

  constructor(store: StateStore, settings: GatewaySettings['abuse'], logger: Pick<StateLogger, 'warn'>) {
    const hmacKey = settings.key ?? randomBytes(RANDOM_KEY_BYTES);
    this.#lockout = new Lockout({ store, hmacKey, ...settings.lockout, logger });
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

  /**
   * Refuses when the user name a Basic credential claims (undefined for other
   * or malformed credentials: the IP lock still applies) or the IP is locked.
   */
  async beforeAuthentication(username: string | undefined, ip: string): Promise<void> {
    const status = await this.#lockout.check(username, ip);
    if (status.locked) throw refusal(status.code, status.reason, status.retryAfterS);
  }

  /** Counts a wrong password (unknown users too, so a lock reveals nothing). Other failures do not count. */
  async authenticationFailed(err: unknown, username: string | undefined, ip: string): Promise<void> {
    if (isModgateError(err, 'auth.invalid_credentials')) await this.#lockout.recordFailure(username, ip);
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
