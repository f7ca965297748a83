import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { secretRef } from '../config/secrets.ts';

/**
 * The `state:` section of gateway.yaml, to be merged into
 * gateway/config/schema.ts. Shape and cross-field rules only; secrets are
 * resolved by gateway/state/settings.ts. Every object is strict.
 *
 * ```yaml
 * state:
 *   kind: redis
 *   sentinels: [10.0.0.1:26379, 10.0.0.2:26379, 10.0.0.3:26379]   # or url: / nodes:
 *   name: modgate
 *   password: env:MODGATE_REDIS_PASSWORD
 *   tls: { ca: file:/etc/ssl/redis-ca.pem }
 *   command_timeout: 250ms
 *   encryption:
 *     keys:                      # the first seals, all open (rotation)
 *       - { id: "2025-06", key: env:MODGATE_STATE_KEY }
 * ```
 */

/** Default `kind`: in-process state, no Redis needed. */
export const DEFAULT_STATE_KIND = 'memory';
/** Default bound on process-local entries (entries), the store itself or Redis's fallback. */
export const DEFAULT_STATE_MAX_ENTRIES = 100_000;
/** Default bound on one Redis call before answering from process-local state. */
export const DEFAULT_STATE_COMMAND_TIMEOUT = '250ms';
/** Default bound on connecting to Redis, TLS and AUTH included. */
export const DEFAULT_STATE_CONNECT_TIMEOUT = '2s';
/** Largest accepted command timeout (milliseconds): every request may wait this long when Redis hangs. */
const MAX_COMMAND_TIMEOUT_MS = 5_000;

/** `host:port`, `[v6]:port`. */
export const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const hostPort = z
  .string()
  .regex(HOST_PORT, 'must be host:port')
  .refine((s) => {
    const port = Number(s.slice(s.lastIndexOf(':') + 1));
    return port >= 1 && port <= 65535;
  }, 'port must be 1-65535');

const timeout = (fallback: string, max: number) =>
  durationMs
    .refine((ms) => ms >= 1, 'must be at least 1ms')
    .refine((ms) => ms <= max, `must be at most ${max}ms`)
    .prefault(fallback);

const encryptionSchema = z.strictObject({
  /** AES-256-GCM keys for values sealed at rest; the first seals, every one opens. */
  keys: z
    .array(
      z.strictObject({
        id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, - or _'),
        /** 32 bytes: 64 hex digits or base64 (`openssl rand -base64 32`). */
        key: secretRef,
      }),
    )
    .min(1)
    .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique'),
});

const maxEntries = z.int().min(1).default(DEFAULT_STATE_MAX_ENTRIES);

const memoryStateSchema = z.strictObject({
  kind: z.literal('memory'),
  max_entries: maxEntries,
  encryption: encryptionSchema.optional(),
});

const redisStateSchema = z
  .strictObject({
    kind: z.literal('redis'),
    /** Standalone: `redis://host:port/db` or `rediss://…`; no credentials in the URL. */
    url: z
      .url({ protocol: /^rediss?$/ })
      .refine((u) => !/^rediss?:\/\/[^/]*@/.test(u), 'must not carry credentials (use username/password)')
      .optional(),
    /** Sentinel: the Sentinels to ask, and the master group `name` they monitor. */
    sentinels: z.array(hostPort).min(1).optional(),
    name: z.string().min(1).optional(),
    sentinel_username: z.string().min(1).optional(),
    sentinel_password: secretRef.optional(),
    /** Database number with Sentinel (a URL carries its own; Cluster has only 0). */
    db: z.int().min(0).max(15).optional(),
    /** Cluster: seed nodes. */
    nodes: z.array(hostPort).min(1).optional(),
    username: z.string().min(1).optional(),
    password: secretRef.optional(),
    /** TLS to Redis and Sentinels; a rediss:// URL turns it on too. */
    tls: z
      .strictObject({
        ca: secretRef.optional(),
        server_name: z.string().min(1).optional(),
        /** Opt-in: accept any certificate (testing only; warned about at start). */
        insecure_skip_verify: z
          .boolean()
          .default(false)
          .meta(
            unsafe(
              true,
              'any certificate is accepted from Redis, which holds lockouts, revocations and tokens',
            ),
          ),
      })
      .optional(),
    command_timeout: timeout(DEFAULT_STATE_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT_MS),
    connect_timeout: timeout(DEFAULT_STATE_CONNECT_TIMEOUT, 60_000),
    /** Bound on the per-process fallback (entries). */
    max_entries: maxEntries,
    encryption: encryptionSchema.optional(),
  })
  .superRefine((redis, ctx) => {
    const chosen = (['url', 'sentinels', 'nodes'] as const).filter((k) => redis[k] !== undefined);
    if (chosen.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: chosen.length === 0 ? [] : [chosen[1] ?? chosen[0]!],
        message:
          chosen.length === 0
            ? 'needs one of url (standalone), sentinels (Sentinel) or nodes (Cluster)'
            : `url, sentinels and nodes exclude each other (found ${chosen.join(', ')})`,
      });
    }
    const sentinelOnly = (['name', 'sentinel_username', 'sentinel_password'] as const).filter(
      (k) => redis[k] !== undefined,
    );
    if (redis.sentinels === undefined) {
      for (const k of sentinelOnly)
        ctx.addIssue({ code: 'custom', path: [k], message: 'only with sentinels' });
      if (redis.db !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['db'],
          message: 'only with sentinels (put it in the url path)',
        });
      }
    } else if (redis.name === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'is required with sentinels (the master group)',
      });
    }
  });

/** `state:` — `kind: memory` (default) or `kind: redis`. */
export const stateConfigSchema = z
  .discriminatedUnion('kind', [memoryStateSchema, redisStateSchema])
  .prefault({ kind: DEFAULT_STATE_KIND });

export type StateConfig = z.output<typeof stateConfigSchema>;
export type RedisStateConfig = Extract<StateConfig, { kind: 'redis' }>;
