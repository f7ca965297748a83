import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { abuseSchema } from '../abuse/config.ts';
import { credentialRules, credentialsSchema } from '../credentials/config.ts';
import { adminSchema, auditSchema, logSchema, metricsSchema } from '../ops/config.ts';
import { ssoRules, ssoSchema } from '../people/sso/config.ts';
import { authSchema, directorySchema } from '../pipeline/auth-config.ts';
import { jwtRules, jwtSchema, personalTokensSchema } from '../pipeline/token-config.ts';
import { SUMDB_NAME_RE } from '../protocol/goproxy-path.ts';
import { stateConfigSchema } from '../state/config.ts';
import { defaultUpstreamSchema, upstreamRules, upstreamsSchema } from '../upstreams/config.ts';
import { listenRules, listenSchema, tlsSchema } from './listen.ts';

/**
 * The shape of `gateway.yaml`, composed of the sections each subsystem owns
 * (`listen`/`tls` in ./listen.ts, `upstreams` in gateway/upstreams/config.ts,
 * …), and its cross-field rules ({@link gatewayRulesSchema}), each owned
 * by its section. The resolution of secret references lives in
 * gateway/config/load.ts. Every object is strict: unknown keys are errors.
 */

/** Default checksum databases served under `/sumdb/<name>/` (names): the go command's default GOSUMDB. */
export const DEFAULT_CHECKSUM_DATABASES = ['sum.golang.org'];
/** Default time in-flight requests get to finish on SIGTERM. */
export const DEFAULT_SHUTDOWN_TIMEOUT = '30s';
/** Default number of version publish times remembered for `min_age` rules (entries). */
export const DEFAULT_PUBLISH_TIME_CACHE_ENTRIES = 100_000;

/**
 * Keys gateway.yaml no longer has, by dotted path, and the key that replaced
 * each: an old key is a validation error naming its new one.
 */
export const RENAMED_CONFIG_KEYS: Readonly<Record<string, string>> = {
  'jwt.introspection.client_id': 'jwt.introspection.modgate_client_id',
};

/**
 * Checksum databases served under `/sumdb/<name>/` (the whole list: name
 * `sum.golang.org` too if you add one); any other name is 404 without
 * asking an upstream.
 */
const checksumDatabasesSchema = z
  .array(z.string().regex(SUMDB_NAME_RE, 'a checksum database host name, e.g. sum.golang.org'))
  .default(DEFAULT_CHECKSUM_DATABASES)
  .describe(
    'Checksum databases served under `/sumdb/<name>/`, the whole list (keep `sum.golang.org` when adding e.g. `sum.golang.google.cn`). Any other name is 404 `checksum database <name> is not served here` without asking an upstream, so modgate is no relay to arbitrary sumdb hosts.',
  );

const policySchema = z
  .strictObject({
    /** The policy file (policies/policy.yaml format), reloaded live when it changes. */
    path: z.string().min(1).describe('The policy file; relative paths are relative to gateway.yaml.'),
    /** Publish times remembered for `min_age` rules (entries). */
    publish_time_cache_entries: z
      .int()
      .min(0)
      .default(DEFAULT_PUBLISH_TIME_CACHE_ENTRIES)
      .describe('Version publish times remembered for `min_age` rules.'),
  })
  .describe(
    'The access policy (rules and routes, see docs/policies.md), reloaded live when the file changes.',
  );

/** Worker processes (node:cluster): auto = one per CPU with Redis state, 1 with in-process state. */
const workersSchema = z
  .union([z.literal('auto'), z.int().min(1).max(256)])
  .default('auto')
  .describe(
    'Worker processes (node:cluster): `auto` = one per CPU with Redis state, 1 with in-process state (which cannot be shared).',
  );

/** On SIGTERM: how long in-flight requests (zip streams included) may take to finish. */
const shutdownTimeoutSchema = durationMs
  .prefault(DEFAULT_SHUTDOWN_TIMEOUT)
  .describe(
    "On SIGTERM: how long in-flight requests (zip streams included) may take to finish before they are cut. Keep the orchestrator's grace period longer.",
  );

/** gateway.yaml's shape, in the order of its reference (docs/configuration.md). */
export const gatewayConfigSchema = z.strictObject({
  listen: listenSchema,
  tls: tlsSchema,
  directory: directorySchema,
  auth: authSchema,
  upstreams: upstreamsSchema,
  default_upstream: defaultUpstreamSchema,
  checksum_databases: checksumDatabasesSchema,
  credentials: credentialsSchema,
  policy: policySchema,
  audit: auditSchema,
  log: logSchema,
  metrics: metricsSchema,
  /** Shared state (caches, lockouts, revocations): in-process, or Redis for several processes. */
  state: stateConfigSchema,
  abuse: abuseSchema,
  jwt: jwtSchema,
  personal_tokens: personalTokensSchema,
  sso: ssoSchema,
  workers: workersSchema,
  admin: adminSchema,
  shutdown_timeout: shutdownTimeoutSchema,
});

export type GatewayConfigFile = z.output<typeof gatewayConfigSchema>;
/**
 * The cross-field rules of a gateway.yaml that has its shape, each owned by
 * its section, reported in this order. A separate step rather than a pipe
 * after the shape: zod pipes on past an unknown key, and these rules must
 * see only a file whose shape is right.
 */
export const gatewayRulesSchema = z.custom<GatewayConfigFile>().superRefine((config, ctx) => {
  upstreamRules(config, ctx);
  credentialRules(config.credentials, ctx);
  ssoRules(
    { sso: config.sso, publicUrl: config.listen.public_url, personalTokens: config.personal_tokens },
    ctx,
  );
  jwtRules(config.jwt, ctx);
  listenRules(config.listen, ctx);
});

export type UpstreamConfig = GatewayConfigFile['upstreams'][string];
export type CredentialConfig = GatewayConfigFile['credentials'][string];
export type LdapConfig = Extract<GatewayConfigFile['directory'], { ldap: unknown }>['ldap'];
