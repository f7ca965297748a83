import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { optionalSecretAt, secretRef } from '../config/secrets.ts';
import {
  DEFAULT_LOCKOUT_LOCK_MS,
  DEFAULT_LOCKOUT_MAX_FAILURES,
  DEFAULT_LOCKOUT_WINDOW_MS,
} from './lockout.ts';
import { formatDuration } from './reason.ts';
import {
  DEFAULT_THROTTLE_DELAY_MS,
  DEFAULT_THROTTLE_DURATION_MS,
  DEFAULT_THROTTLE_MAX_USERS,
  DEFAULT_THROTTLE_WINDOW_MS,
  MAX_THROTTLE_DELAY_MS,
} from './source-throttle.ts';

/** The `abuse:` section of gateway.yaml: lockout, source throttle, rate limit, upstream concurrency. */

/** A duration of at least 1ms, `fallbackMs` when absent. */
const positiveDuration = (fallbackMs: number) =>
  durationMs.refine((ms) => ms >= 1, 'must be at least 1ms').prefault(formatDuration(fallbackMs));

/** Abuse protection: failed-login lockout, per-identity rate limit, concurrent upstream requests. */
export const abuseSchema = z
  .strictObject({
    /** HMAC key for user names in state keys; the same in every process (random per process when absent). */
    key: secretRef
      .optional()
      .describe(
        'HMAC key for user names in state keys; the same in every process (random per process when absent).',
      ),
    /** Per user name: failures that lock it, from wherever they came. */
    lockout: z
      .strictObject({
        max_failures: z
          .int()
          .min(1)
          .default(DEFAULT_LOCKOUT_MAX_FAILURES)
          .describe(
            'Failed logins for one user name within `window` that lock it (unknown names count the same).',
          ),
        window: positiveDuration(DEFAULT_LOCKOUT_WINDOW_MS).describe('The window failures are counted in.'),
        lock: positiveDuration(DEFAULT_LOCKOUT_LOCK_MS).describe('How long a lock lasts.'),
      })
      .prefault({})
      .describe(
        'Too many failed logins for one user name, from any address → that name is refused (429 `too many failed logins for <user>`, `Retry-After`), even with the right password, until the lock ends. A warning in the operational log when a lock engages.',
      ),
    /** Per source address: failed password logins for many user names slow its failures down (never its successes). */
    source_throttle: z
      .strictObject({
        max_users: z
          .int()
          .min(1)
          .default(DEFAULT_THROTTLE_MAX_USERS)
          .describe(
            'Distinct user names whose password logins failed from one address within `window` that throttle it; one name failing again and again counts once.',
          ),
        window: positiveDuration(DEFAULT_THROTTLE_WINDOW_MS).describe('The window names are counted in.'),
        duration: positiveDuration(DEFAULT_THROTTLE_DURATION_MS).describe(
          'How long an address stays throttled.',
        ),
        delay: durationMs
          .refine(
            (ms) => ms <= MAX_THROTTLE_DELAY_MS,
            `must be at most ${formatDuration(MAX_THROTTLE_DELAY_MS)}`,
          )
          .prefault(formatDuration(DEFAULT_THROTTLE_DELAY_MS))
          .describe(
            'How long a failed login from a throttled address waits before its answer (at most `10s`; `0s`: no wait, only the 429).',
          ),
      })
      .prefault({})
      .describe(
        'Failed password logins for many user names from one address (password spraying) → for `duration`, its failed logins wait `delay` and answer 429 `invalid username or password; failed logins from <ip> are throttled for …`; its logins that verify pass at once. A warning in the operational log when a throttle engages. (Replaces `abuse.lockout.ip_max_failures`, which locked the address for everyone.)',
      ),
    rate_limit: z
      .strictObject({
        requests: z.int().min(1).default(6000).describe('Requests allowed per window.'),
        window: durationMs.prefault('1m').describe('The window.'),
      })
      .prefault({})
      .describe('Requests per identity → 429 with `Retry-After` beyond it.'),
    upstream_concurrency: z
      .strictObject({
        limit: z.int().min(1).default(256).describe('Concurrent requests per upstream.'),
        slot_ttl: durationMs
          .prefault('10m')
          .describe('A slot held longer (a crashed process) is freed after this.'),
      })
      .prefault({})
      .describe('Concurrent requests per upstream, across processes → 503 beyond it.'),
  })
  .prefault({})
  .describe(
    'Abuse protection: failed-login lockout per user name, a throttle on addresses that fail for many user names, per-identity rate limit, concurrent upstream requests. All on by default, with the values below; a source address is never refused as such: a credential that verifies, or is in the verified cache, passes whoever shares its address.',
  );

/** `abuse:` with its key read; durations in milliseconds. */
export const abuseSettingsSchema = abuseSchema.transform((abuse, ctx) => ({
  key: optionalSecretAt(ctx, abuse.key, ['key']),
  lockout: {
    maxFailures: abuse.lockout.max_failures,
    windowMs: abuse.lockout.window,
    lockMs: abuse.lockout.lock,
  },
  sourceThrottle: {
    maxUsers: abuse.source_throttle.max_users,
    windowMs: abuse.source_throttle.window,
    durationMs: abuse.source_throttle.duration,
    delayMs: abuse.source_throttle.delay,
  },
  rateLimit: { requests: abuse.rate_limit.requests, windowMs: abuse.rate_limit.window },
  upstreamConcurrency: {
    limit: abuse.upstream_concurrency.limit,
    slotTtlMs: abuse.upstream_concurrency.slot_ttl,
  },
}));

export type AbuseSettings = z.output<typeof abuseSettingsSchema>;
