import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';

/**
 * The shape of `gateway.yaml`. Types only; validation beyond shape and the
 * resolution of secret references live in gateway/config/load.ts.
 * Every object is strict: unknown keys are errors.
 */

/** Default listen port for the HTTPS server. */
export const DEFAULT_PORT = 8443;
/** Default lifetime of a verified credential in the auth cache. */
export const DEFAULT_AUTH_CACHE_TTL = '5m';
/** Default maximum number of verified credentials kept in the auth cache (entries). */
export const DEFAULT_AUTH_CACHE_MAX_ENTRIES = 10_000;
/** Default timeout for one LDAP operation, connect included. */
export const DEFAULT_LDAP_TIMEOUT = '5s';
/** Default number of pooled LDAP connections (connections). */
export const DEFAULT_LDAP_POOL_SIZE = 4;
/** Default time an upstream may stay silent (before headers or mid-body) before modgate gives up with 504. */
export const DEFAULT_UPSTREAM_TIMEOUT = '30s';
/** Default keep-alive pool size per upstream (sockets). */
export const DEFAULT_UPSTREAM_MAX_SOCKETS = 64;

/** A secret is only ever a reference: `env:NAME` or `file:/path`. Literal secrets are rejected. */
export const secretRef = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/,
    'must be a reference, env:NAME or file:/path (literal secrets are not allowed)',
  );

const tlsSchema = z.union([
  z.strictObject({ cert: secretRef, key: secretRef }),
  z.strictObject({
    /** Serve plain HTTP because a TLS terminator sits in front. go sends credentials only over https. */
    behind_tls_terminator: z.literal(true),
  }),
]);

const ldapSchema = z.strictObject({
  url: z.string().regex(/^ldaps?:\/\/[^/]+\/?$/, 'must be ldap://host:port or ldaps://host:port'),
  start_tls: z.boolean().default(false),
  ca: secretRef.optional(),
  insecure_skip_verify: z.boolean().default(false),
  bind_dn: z.string().min(1),
  bind_password: secretRef,
  user_base: z.string().min(1),
  user_filter: z.string().includes('{username}', { message: 'must contain {username}' }),
  user_name_attribute: z.string().default('uid'),
  groups: z
    .discriminatedUnion('from', [
      z.strictObject({ from: z.literal('memberOf') }),
      z.strictObject({
        from: z.literal('search'),
        base: z.string().min(1),
        filter: z.string().min(1),
        name_attribute: z.string().default('cn'),
      }),
    ])
    .prefault({ from: 'memberOf' }),
  disabled_filter: z.string().optional(),
  timeout: durationMs.prefault(DEFAULT_LDAP_TIMEOUT),
  pool_size: z.int().min(1).max(64).default(DEFAULT_LDAP_POOL_SIZE),
});

const directorySchema = z.union([
  z.strictObject({ ldap: ldapSchema }),
  z.strictObject({ file: z.strictObject({ path: z.string().min(1) }) }),
]);

const authSchema = z.strictObject({
  realm: z
    .string()
    .regex(/^[\x20-\x7e]+$/)
    .refine((r) => !r.includes('"'), 'must not contain quotes')
    .default('modgate'),
  cache_ttl: durationMs.prefault(DEFAULT_AUTH_CACHE_TTL),
  cache_max_entries: z.int().min(0).default(DEFAULT_AUTH_CACHE_MAX_ENTRIES),
  /** HMAC key for cache keys; random per process when absent. */
  cache_key: secretRef.optional(),
});

const upstreamSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('athens'),
    url: z.url({ protocol: /^https?$/ }),
    username: z.string().min(1).optional(),
    password: secretRef.optional(),
    timeout: durationMs.prefault(DEFAULT_UPSTREAM_TIMEOUT),
    max_sockets: z.int().min(1).default(DEFAULT_UPSTREAM_MAX_SOCKETS),
    /** Opt-in: allow an http:// URL (credentials and modules cross the network in clear text). */
    allow_insecure_http: z.boolean().default(false),
  }),
  z.strictObject({ kind: z.literal('dir'), path: z.string().min(1) }),
]);

const auditSchema = z.discriminatedUnion('sink', [
  z.strictObject({ sink: z.literal('stdout') }),
  z.strictObject({ sink: z.literal('file'), path: z.string().min(1) }),
]);

export const gatewayConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(DEFAULT_PORT),
      /** The URL clients use (for hints and the banner), e.g. https://goproxy.corp. */
      public_url: z.url({ protocol: /^https?$/ }).optional(),
    })
    .prefault({}),
  tls: tlsSchema,
  directory: directorySchema,
  auth: authSchema.prefault({}),
  upstreams: z.record(
    z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'upstream names: lowercase letters, digits, dashes'),
    upstreamSchema,
  ),
  default_upstream: z.string(),
  audit: auditSchema.default({ sink: 'stdout' }),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') })
    .prefault({}),
});

export type GatewayConfigFile = z.output<typeof gatewayConfigSchema>;
export type UpstreamConfig = GatewayConfigFile['upstreams'][string];
export type LdapConfig = z.output<typeof ldapSchema>;
