import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { secretRef } from '../config/secrets.ts';

/**
 * The `state:` section of gateway.yaml, composed into
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
        id: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, - or _')
          .describe('Key id (1-32 letters, digits, `-`, `_`), stored with each sealed value.'),
        /** 32 bytes: 64 hex digits or base64 (`openssl rand -base64 32`). */
        key: secretRef.describe('32 bytes: 64 hex digits or base64 (`openssl rand -base64 32`).'),
      }),
    )
    .min(1)
    .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique')
    .describe('Keys by id; the first seals, every one opens (rotation: add the new key first).'),
});
const encryption = encryptionSchema
  .optional()
  .describe('Seals values at rest (minted upstream tokens) with AES-256-GCM.');

const maxEntries = z
  .int()
  .min(1)
  .default(DEFAULT_STATE_MAX_ENTRIES)
  .describe(
    'Bound on process-local entries (the memory store itself, or the fallback while Redis is unreachable).',
  );

const memoryStateSchema = z.strictObject({
  kind: z
    .literal('memory')
    .describe('`memory`: one process; `redis`: shared by every process pointing at the same Redis.'),
  max_entries: maxEntries,
  encryption,
});

const redisStateSchema = z
  .strictObject({
    kind: z.literal('redis'),
    /** Standalone: `redis://host:port/db` or `rediss://…`; no credentials in the URL. */
    url: z
      .url({ protocol: /^rediss?$/ })
      .refine((u) => !/^rediss?:\/\/[^/]*@/.test(u), 'must not carry credentials (use username/password)')
      .optional()
      .describe('Standalone Redis: `redis://host:port/db` or `rediss://…` (TLS); no credentials in the URL.'),
    /** Sentinel: the Sentinels to ask, and the master group `name` they monitor. */
    sentinels: z
      .array(hostPort)
      .min(1)
      .optional()
      .describe('Redis Sentinel: the Sentinels to ask (`host:port`).'),
    name: z
      .string()
      .min(1)
      .optional()
      .describe('The master group name the Sentinels monitor (required with `sentinels`).'),
    sentinel_username: z.string().min(1).optional().describe('ACL user for the Sentinels.'),
    sentinel_password: secretRef.optional().describe('Password for the Sentinels.'),
    /** Database number with Sentinel (a URL carries its own; Cluster has only 0). */
    db: z
      .int()
      .min(0)
      .max(15)
      .optional()
      .describe('Database number with Sentinel (a URL carries its own; Cluster has only 0).'),
    /** Cluster: seed nodes. */
    nodes: z.array(hostPort).min(1).optional().describe('Redis Cluster: seed nodes (`host:port`).'),
    username: z.string().min(1).optional().describe('Redis ACL user.'),
    password: secretRef.optional().describe('Redis password.'),
    /** TLS to Redis and Sentinels; a rediss:// URL turns it on too. */
    tls: z
      .strictObject({
        ca: secretRef.optional().describe('Extra CA (PEM) for Redis.'),
        server_name: z
          .string()
          .min(1)
          .optional()
          .describe('Name expected in the Redis certificate, when it differs from the host.'),
        /** Opt-in: accept any certificate (testing only; warned about at start). */
        insecure_skip_verify: z
          .boolean()
          .default(false)
          .meta(
            unsafe(
              true,
              'any certificate is accepted from Redis, which holds lockouts, revocations and tokens',
            ),
          )
          .describe(
            'Opt-in: accept any certificate (testing only); warned about at start and by check-config.',
          ),
      })
      .optional()
      .describe('TLS to Redis and the Sentinels (a `rediss://` URL turns it on too).'),
    command_timeout: timeout(DEFAULT_STATE_COMMAND_TIMEOUT, MAX_COMMAND_TIMEOUT_MS).describe(
      'Bound on one Redis call (at most 5s); on trouble modgate answers from process-local state instead of failing requests, except that revocation checks fail closed (personal tokens get 503; see deployment.md).',
    ),
    connect_timeout: timeout(DEFAULT_STATE_CONNECT_TIMEOUT, 60_000).describe(
      'Bound on connecting to Redis, TLS and AUTH included.',
    ),
    /** Bound on the per-process fallback (entries). */
    max_entries: maxEntries,
    encryption,
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
  .prefault({ kind: DEFAULT_STATE_KIND })
  .describe(
    'Shared state — credential cache, lockouts, rate limits, revocations, minted tokens: in-process (`memory`), or Redis for several processes.',
  );

export type StateConfig = z.output<typeof stateConfigSchema>;
export type RedisStateConfig = Extract<StateConfig, { kind: 'redis' }>;
