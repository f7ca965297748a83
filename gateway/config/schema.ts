import { z } from 'zod';
import { DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS } from '../../auth/introspection.ts';
import { DEFAULT_INTROSPECTION_USER_CLAIM, DEFAULT_OPAQUE_TOKEN_LOGIN } from '../../auth/opaque-token.ts';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import {
  DEFAULT_LOCKOUT_LOCK_MS,
  DEFAULT_LOCKOUT_MAX_FAILURES,
  DEFAULT_LOCKOUT_WINDOW_MS,
} from '../abuse/lockout.ts';
import { formatDuration } from '../abuse/reason.ts';
import {
  DEFAULT_THROTTLE_DELAY_MS,
  DEFAULT_THROTTLE_DURATION_MS,
  DEFAULT_THROTTLE_MAX_USERS,
  DEFAULT_THROTTLE_WINDOW_MS,
  MAX_THROTTLE_DELAY_MS,
} from '../abuse/source-throttle.ts';
import { integritySchema } from '../integrity/config.ts';
import { SUMDB_NAME_RE } from '../protocol/goproxy-path.ts';
import { stateConfigSchema } from '../state/config.ts';

/**
 * The shape of `gateway.yaml`. Types only; validation beyond shape and the
 * resolution of secret references live in gateway/config/load.ts.
 * Every object is strict: unknown keys are errors.
 */

/** Default checksum databases served under `/sumdb/<name>/` (names): the go command's default GOSUMDB. */
export const DEFAULT_CHECKSUM_DATABASES = ['sum.golang.org'];

/** Default listen port for the HTTPS server. */
export const DEFAULT_PORT = 8443;
/** Default time a client gets from connecting until its request headers are complete (TLS handshake included). */
export const DEFAULT_HEADERS_TIMEOUT = '20s';
/** Default lifetime of a verified credential in the auth cache. */
export const DEFAULT_AUTH_CACHE_TTL = '5m';
/** Default time a rejected credential is rejected without a directory call. */
export const DEFAULT_AUTH_NEGATIVE_CACHE_TTL = '10s';
/** Default maximum number of verified credentials kept in the auth cache (entries). */
export const DEFAULT_AUTH_CACHE_MAX_ENTRIES = 10_000;
/** Default timeout for one LDAP operation, connect included. */
export const DEFAULT_LDAP_TIMEOUT = '5s';
/** Default number of pooled LDAP connections (connections). */
export const DEFAULT_LDAP_POOL_SIZE = 4;
/** Default time an upstream may stay silent (before headers or mid-body) before modgate gives up with 504. */
export const DEFAULT_UPSTREAM_TIMEOUT = '30s';
/** Default time to connect to an upstream. */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT = '5s';
/** Default keep-alive pool size per upstream (sockets). */
export const DEFAULT_UPSTREAM_MAX_SOCKETS = 64;

/** Default lifetime of a browser session after SSO login. */
export const DEFAULT_SSO_SESSION_TTL = '8h';
/** Default lifetime of a personal token minted by the set-up page or `modgate login` (30 days). */
export const DEFAULT_SSO_TOKEN_TTL = '720h';
/** Default lifetime of the access tokens `modgate credential` refreshes (GOAUTH). */
export const DEFAULT_SSO_ACCESS_TOKEN_TTL = '1h';
/** Default OIDC scopes asked for at login. */
export const DEFAULT_SSO_SCOPES = ['openid', 'profile'];

/** Default size at which the audit file is rotated. */
export const DEFAULT_AUDIT_ROTATE_SIZE = '100MB';
/** Default number of rotated audit files kept. */
export const DEFAULT_AUDIT_KEEP = 10;
/** Default time in-flight requests get to finish on SIGTERM. */
export const DEFAULT_SHUTDOWN_TIMEOUT = '30s';
/** Default consecutive upstream failures that open its circuit breaker. */
export const DEFAULT_BREAKER_FAILURES = 5;
/** Default time an open circuit refuses before a probe. */
export const DEFAULT_BREAKER_COOL_DOWN = '30s';
/** Default lifetime of a minted Artifactory token. */
export const DEFAULT_TOKEN_EXPIRES_IN = '15m';
/** Default margin before expiry at which a minted token is replaced. */
export const DEFAULT_TOKEN_REFRESH_BEFORE = '60s';
/** Default limit for one token mint. */
export const DEFAULT_TOKEN_TIMEOUT = '10s';
/** Default number of version publish times remembered for `min_age` rules (entries). */
export const DEFAULT_PUBLISH_TIME_CACHE_ENTRIES = 100_000;
/**
 * Default longest reuse of an introspection answer (a duration, derived from
 * auth/introspection.ts DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS so the two
 * cannot drift): a revocation at the IdP takes effect within it.
 */
export const DEFAULT_INTROSPECTION_CACHE_MAX_TTL = `${DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS / 60_000}m`;

/** A secret is only ever a reference: `env:NAME` or `file:/path`. Literal secrets are rejected. */
export const secretRef = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/,
    'must be a reference, env:NAME or file:/path (literal secrets are not allowed)',
  );

/** A duration of at least 1ms, `fallbackMs` when absent. */
const positiveDuration = (fallbackMs: number) =>
  durationMs.refine((ms) => ms >= 1, 'must be at least 1ms').prefault(formatDuration(fallbackMs));

const tlsSchema = z.union([
  z.strictObject({ cert: secretRef, key: secretRef }),
  z.strictObject({
    /** Serve plain HTTP because a TLS terminator sits in front. go sends credentials only over https. */
    behind_tls_terminator: z
      .literal(true)
      .meta(
        unsafe(true, 'plain http: a TLS terminator must sit in front, go sends credentials only over https'),
      ),
  }),
]);

const ldapSchema = z.strictObject({
  url: z.string().regex(/^ldaps?:\/\/[^/]+\/?$/, 'must be ldap://host:port or ldaps://host:port'),
  start_tls: z.boolean().default(false),
  ca: secretRef.optional(),
  insecure_skip_verify: z
    .boolean()
    .default(false)
    .meta(unsafe(true, "any certificate is accepted from the directory that checks users' passwords")),
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
  /** A rejected credential is rejected this long without asking the directory again; 0s = off. */
  negative_cache_ttl: durationMs.prefault(DEFAULT_AUTH_NEGATIVE_CACHE_TTL),
  /** HMAC key for cache keys; random per process when absent. */
  cache_key: secretRef.optional(),
});

const breakerSchema = z.strictObject({
  /** Consecutive failures (5xx, timeouts, unreachable) that open the circuit. */
  failures: z.int().min(1).default(DEFAULT_BREAKER_FAILURES),
  /** How long an open circuit refuses before it lets a probe through. */
  cool_down: durationMs.prefault(DEFAULT_BREAKER_COOL_DOWN),
  half_open_probes: z.int().min(1).default(1),
});

/** What every remote GOPROXY upstream (Athens, Artifactory) shares. */
const remoteFields = {
  /** Time to the first byte of the answer. */
  timeout: durationMs.prefault(DEFAULT_UPSTREAM_TIMEOUT),
  /** Time to establish the TCP (and TLS) connection. */
  connect_timeout: durationMs.prefault(DEFAULT_UPSTREAM_CONNECT_TIMEOUT),
  /** Longest silence in the middle of a body; default: `timeout`. */
  idle_timeout: durationMs.optional(),
  /** Client certificate and key (PEM) for upstreams that require mutual TLS. */
  client_cert: secretRef.optional(),
  client_key: secretRef.optional(),
  max_sockets: z.int().min(1).default(DEFAULT_UPSTREAM_MAX_SOCKETS),
  /** Extra CA bundle (PEM) trusted for this upstream, besides the system roots. */
  ca: secretRef.optional(),
  /** Opt-in: allow an http:// URL (credentials and modules cross the network in clear text). */
  allow_insecure_http: z
    .boolean()
    .default(false)
    .meta(unsafe(true, 'credentials and modules may cross the network in clear text')),
  /** The credential (see `credentials`) used when a route names none. */
  credential: z.string().optional(),
  circuit_breaker: breakerSchema.prefault({}),
  /** Another upstream that serves public routes while this one's circuit is open or it is unreachable. */
  fallback: z.string().optional(),
  /** A module this upstream must list (`@v/list`) for modgate to call it ready (/readyz, check-config). */
  probe_module: z.string().min(1).optional(),
};

const upstreamSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('athens'),
    url: z.url({ protocol: /^https?$/ }),
    /** Athens' one static basic-auth user (shorthand for a static credential). */
    username: z.string().min(1).optional(),
    password: secretRef.optional(),
    ...remoteFields,
  }),
  z.strictObject({
    kind: z.literal('artifactory'),
    /** The Artifactory base, e.g. https://artifactory.corp.example/artifactory */
    url: z.url({ protocol: /^https?$/ }),
    /** The Go repository key: requests go to <url>/api/go/<repository>/... */
    repository: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be an Artifactory repository key'),
    /** follow: modgate follows download redirects (credentials only to the same host); disable: asks Artifactory not to redirect. */
    redirects: z.enum(['follow', 'disable']).default('follow'),
    ...remoteFields,
  }),
  z.strictObject({ kind: z.literal('dir'), path: z.string().min(1) }),
]);

const credentialSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('static'),
    basic: z.strictObject({ username: z.string().min(1), password: secretRef }).optional(),
    bearer: z.strictObject({ token: secretRef }).optional(),
  }),
  z.strictObject({
    kind: z.literal('artifactory-token'),
    /** The platform base; tokens are minted at <url>/access/api/v1/tokens. */
    url: z.url({ protocol: /^https?$/ }),
    admin_token: secretRef,
    /** Scope template; {user} and {groups} (comma-joined, allowlisted) are filled in. */
    scope: z.string().min(1).default('applied-permissions/groups:{groups}'),
    /** Directory groups that may appear in a scope: a list, or a map directory group → Artifactory group. */
    allowed_groups: z.union([z.array(z.string().min(1)), z.record(z.string(), z.string().min(1))]).optional(),
    expires_in: durationMs.prefault(DEFAULT_TOKEN_EXPIRES_IN),
    refresh_before: durationMs.prefault(DEFAULT_TOKEN_REFRESH_BEFORE),
    timeout: durationMs.prefault(DEFAULT_TOKEN_TIMEOUT),
    ca: secretRef.optional(),
    allow_insecure_http: z
      .boolean()
      .default(false)
      .meta(unsafe(true, 'the admin token and minted tokens may cross the network in clear text')),
  }),
]);

const auditSchema = z.discriminatedUnion('sink', [
  z.strictObject({ sink: z.literal('stdout') }),
  z.strictObject({
    sink: z.literal('file'),
    path: z.string().min(1),
    /** Rotate when the file passes this size, e.g. 100MB; 0 = never (use logrotate + SIGHUP). */
    rotate_size: z
      .string()
      .regex(/^\d+(B|KB|MB|GB)$/, 'a size such as 500KB, 100MB or 1GB (0B = never)')
      .default(DEFAULT_AUDIT_ROTATE_SIZE),
    /** Rotated files kept (audit.log.1 … audit.log.N). */
    keep: z.int().min(0).max(1000).default(DEFAULT_AUDIT_KEEP),
  }),
]);

/**
 * Keys gateway.yaml no longer has, by dotted path, and the key that replaced
 * each: an old key is a validation error naming its new one.
 */
export const RENAMED_CONFIG_KEYS: Readonly<Record<string, string>> = {
  'jwt.introspection.client_id': 'jwt.introspection.modgate_client_id',
};

export const gatewayConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.int().min(0).max(65535).default(DEFAULT_PORT),
      /** The URL clients use (for hints and the banner), e.g. https://goproxy.corp. */
      public_url: z.url({ protocol: /^https?$/ }).optional(),
      /** Load balancers whose X-Forwarded-For is believed (CIDRs); empty: the socket peer is the client. */
      trusted_proxies: z.array(z.string().min(1)).default([]),
      /** Slow or silent clients (slowloris) are cut after this; 1s to 5m (Node's whole-request timeout). */
      headers_timeout: durationMs
        .refine((ms) => ms >= 1000, 'must be at least 1s')
        .refine((ms) => ms <= 300_000, 'must be at most 5m')
        .prefault(DEFAULT_HEADERS_TIMEOUT),
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
  /**
   * Checksum databases served under `/sumdb/<name>/` (the whole list: name
   * `sum.golang.org` too if you add one); any other name is 404 without
   * asking an upstream.
   */
  checksum_databases: z
    .array(z.string().regex(SUMDB_NAME_RE, 'a checksum database host name, e.g. sum.golang.org'))
    .default(DEFAULT_CHECKSUM_DATABASES),
  integrity: integritySchema,
  credentials: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'credential names: lowercase letters, digits, dashes'),
      credentialSchema,
    )
    .default({}),
  policy: z.strictObject({
    /** The policy file (policies/policy.yaml format), reloaded live when it changes. */
    path: z.string().min(1),
    /** Publish times remembered for `min_age` rules (entries). */
    publish_time_cache_entries: z.int().min(0).default(DEFAULT_PUBLISH_TIME_CACHE_ENTRIES),
  }),
  audit: auditSchema.default({ sink: 'stdout' }),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') })
    .prefault({}),
  /** Prometheus metrics on a listener of their own (plain http; keep it on a private interface). */
  metrics: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.int().min(0).max(65535),
      /** Optional bearer token the scraper must send. */
      token: secretRef.optional(),
    })
    .optional(),
  /** Shared state (caches, lockouts, revocations): in-process, or Redis for several processes. */
  state: stateConfigSchema,
  /** Abuse protection: failed-login lockout, per-identity rate limit, concurrent upstream requests. */
  abuse: z
    .strictObject({
      /** HMAC key for user names in state keys; the same in every process (random per process when absent). */
      key: secretRef.optional(),
      /** Per user name: failures that lock it, from wherever they came. */
      lockout: z
        .strictObject({
          max_failures: z.int().min(1).default(DEFAULT_LOCKOUT_MAX_FAILURES),
          window: positiveDuration(DEFAULT_LOCKOUT_WINDOW_MS),
          lock: positiveDuration(DEFAULT_LOCKOUT_LOCK_MS),
        })
        .prefault({}),
      /** Per source address: failed password logins for many user names slow its failures down (never its successes). */
      source_throttle: z
        .strictObject({
          max_users: z.int().min(1).default(DEFAULT_THROTTLE_MAX_USERS),
          window: positiveDuration(DEFAULT_THROTTLE_WINDOW_MS),
          duration: positiveDuration(DEFAULT_THROTTLE_DURATION_MS),
          delay: durationMs
            .refine(
              (ms) => ms <= MAX_THROTTLE_DELAY_MS,
              `must be at most ${formatDuration(MAX_THROTTLE_DELAY_MS)}`,
            )
            .prefault(formatDuration(DEFAULT_THROTTLE_DELAY_MS)),
        })
        .prefault({}),
      rate_limit: z
        .strictObject({ requests: z.int().min(1).default(6000), window: durationMs.prefault('1m') })
        .prefault({}),
      upstream_concurrency: z
        .strictObject({ limit: z.int().min(1).default(256), slot_ttl: durationMs.prefault('10m') })
        .prefault({}),
    })
    .prefault({}),
  /**
   * IdP-issued access tokens, mapped to directory users or service identities:
   * JWTs (Bearer, or as the Basic password) verified with the issuers' keys,
   * and opaque Bearer tokens checked at the IdP (RFC 7662 introspection).
   */
  jwt: z
    .strictObject({
      clock_skew: durationMs.prefault('30s'),
      /** Opt-in: issuers (discovery, JWKS) over plain http — tests only. */
      allow_insecure_http: z
        .boolean()
        .default(false)
        .meta(unsafe(true, 'token signing keys and introspection answers may be forged on the network')),
      issuers: z
        .array(
          z.strictObject({
            issuer: z.url(),
            audiences: z.array(z.string().min(1)).min(1),
            jwks_uri: z.url().optional(),
            algorithms: z.array(z.string().min(1)).optional(),
            /** The claim naming the directory user. */
            user_claim: z.string().min(1).default('preferred_username'),
            strip_suffix: z.string().min(1).optional(),
          }),
        )
        .default([]),
      /** Opaque access tokens (Bearer): described by the IdP's RFC 7662 introspection endpoint. */
      introspection: z
        .strictObject({
          /** The IdP's issuer URL; discovery names the introspection endpoint. */
          issuer: z.url(),
          /**
           * modgate's own client at the IdP, which authenticates to the
           * introspection endpoint (with `client_secret`); not one of `client_ids`.
           */
          modgate_client_id: z.string().min(1),
          client_secret: secretRef,
          /**
           * Accepted `aud` values of the introspection response. With
           * `client_ids`: at least one of the two lists is required (load.ts),
           * and a token must match every list given.
           */
          audiences: z.array(z.string().min(1)).default([]),
          /** Accepted `client_id` values: the clients whose tokens are meant for modgate. */
          client_ids: z.array(z.string().min(1)).default([]),
          /** The member of the introspection response naming the directory user. */
          user_claim: z.string().min(1).default(DEFAULT_INTROSPECTION_USER_CLAIM),
          strip_suffix: z.string().min(1).optional(),
          /** The Basic user name (netrc `login`) whose password is an opaque token, not a directory password. */
          netrc_login: z.string().min(1).default(DEFAULT_OPAQUE_TOKEN_LOGIN),
          /** Longest reuse of an answer (never past the token's `exp`). */
          cache_max_ttl: durationMs.prefault(DEFAULT_INTROSPECTION_CACHE_MAX_TTL),
        })
        .optional(),
      /** Workload identities (CI) accepted without a directory user. */
      service_identities: z
        .array(
          z.strictObject({
            issuer: z.url(),
            subject: z.string().min(1),
            name: z.string().min(1),
            groups: z.array(z.string().min(1)).default([]),
          }),
        )
        .default([]),
    })
    .optional(),
  /** modgate personal access tokens (sent as the Basic password); verification keys, the first one signs. */
  personal_tokens: z
    .strictObject({
      /** iss/aud of the tokens: this gateway's public URL. */
      issuer: z.url(),
      keys: z.array(z.strictObject({ kid: z.string().min(1), pem: secretRef })).min(1),
    })
    .optional(),
  /**
   * Single sign-on for people: browser login (authorization code + PKCE) to
   * the set-up page, and the device grant behind `modgate login`. Both end in
   * a personal token, so `personal_tokens` and `listen.public_url` are required.
   */
  sso: z
    .strictObject({
      /** The IdP's issuer URL (OIDC discovery). */
      issuer: z.url(),
      client_id: z.string().min(1),
      client_secret: secretRef,
      scopes: z.array(z.string().min(1)).default(DEFAULT_SSO_SCOPES),
      /** The ID-token claim naming the directory user. */
      user_claim: z.string().min(1).default('preferred_username'),
      strip_suffix: z.string().min(1).optional(),
      /** Seals session cookies (AES-GCM); at least 32 characters, the same in every process. */
      session_key: secretRef,
      session_ttl: durationMs.prefault(DEFAULT_SSO_SESSION_TTL),
      /** Lifetime of the personal tokens people mint (at most the personal-token maximum, 90 days). */
      token_ttl: durationMs.prefault(DEFAULT_SSO_TOKEN_TTL),
      access_token_ttl: durationMs.prefault(DEFAULT_SSO_ACCESS_TOKEN_TTL),
      /** Opt-in: an IdP over plain http — tests only. */
      allow_insecure_http: z
        .boolean()
        .default(false)
        .meta(
          unsafe(true, 'login codes, ID tokens and the client secret may cross the network in clear text'),
        ),
    })
    .optional(),
  /** Worker processes (node:cluster): auto = one per CPU with Redis state, 1 with in-process state. */
  workers: z.union([z.literal('auto'), z.int().min(1).max(256)]).default('auto'),
  /** The admin API (`POST /_modgate/admin/revoke`), enabled by a bearer token. */
  admin: z.strictObject({ token: secretRef }).optional(),
  /** On SIGTERM: how long in-flight requests (zip streams included) may take to finish. */
  shutdown_timeout: durationMs.prefault(DEFAULT_SHUTDOWN_TIMEOUT),
});

export type GatewayConfigFile = z.output<typeof gatewayConfigSchema>;
export type UpstreamConfig = GatewayConfigFile['upstreams'][string];
export type CredentialConfig = GatewayConfigFile['credentials'][string];
export type LdapConfig = z.output<typeof ldapSchema>;
