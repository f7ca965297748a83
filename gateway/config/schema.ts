import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { abuseSchema, abuseSettingsSchema } from '../abuse/config.ts';
import { credentialRules, credentialsSchema, credentialsSettingsSchema } from '../credentials/config.ts';
import { integritySchema } from '../integrity/config.ts';
import {
  adminSchema,
  adminSettingsSchema,
  auditSchema,
  auditSettingsSchema,
  logSchema,
  metricsSchema,
  metricsSettingsSchema,
} from '../ops/config.ts';
import { ssoRules, ssoSchema, ssoSettingsSchema, withPublicUrl } from '../people/sso/config.ts';
import {
  authSchema,
  authSettingsSchema,
  directorySchema,
  directorySettingsSchema,
} from '../pipeline/auth-config.ts';
import {
  jwtRules,
  jwtSchema,
  jwtSettingsSchema,
  personalTokensSchema,
  personalTokensSettingsSchema,
} from '../pipeline/token-config.ts';
import { SUMDB_NAME_RE } from '../protocol/goproxy-path.ts';
import { stateConfigSchema } from '../state/config.ts';
import { stateSettingsSchema } from '../state/settings.ts';
import {
  defaultUpstreamSchema,
  upstreamRules,
  upstreamsSchema,
  upstreamsSettingsSchema,
} from '../upstreams/config.ts';
import { listenRules, listenSchema, listenSettingsSchema, tlsSchema, tlsSettingsSchema } from './listen.ts';
import { configPath } from './secrets.ts';

/**
 * The shape of `gateway.yaml`, composed of the sections each subsystem owns
 * (`listen`/`tls` in ./listen.ts, `upstreams` in gateway/upstreams/config.ts, …).
 * Three steps, each only when the one before found no problem:
 * {@link gatewayConfigSchema} checks the shape (every object strict),
 * {@link gatewayRulesSchema} the cross-field rules, and
 * {@link gatewaySettingsSchema} resolves secrets and paths into the
 * settings (gateway/config/load.ts runs them).
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

/**
 * `integrity:` (gateway/integrity/config.ts, whose keys carry their own
 * descriptions); the section's paragraph is given here, where it is composed.
 */
const integrity = integritySchema.describe(
  'Serve `.mod` and `.zip` only when their go.sum hash (`h1:`) is what the checksum database (public modules) or the first fetch (private routes and `pin` modules) says. Verified files are kept on disk and served from there.',
);

/** `integrity:` with its folders made absolute. */
const integritySettingsSchema = integrity.transform((section) => ({
  ...section,
  cache: { ...section.cache, dir: configPath(section.cache.dir) },
  records_dir: configPath(section.records_dir),
}));

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
  integrity,
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

/**
 * gateway.yaml resolved into the gateway's settings: secrets read, paths made
 * absolute, durations in milliseconds. Sections are resolved in this order,
 * which is the order their problems are reported in.
 */
export const gatewaySettingsSchema = z
  .strictObject({
    tls: tlsSettingsSchema,
    directory: directorySettingsSchema,
    upstreams: upstreamsSettingsSchema,
    credentials: credentialsSettingsSchema,
    listen: listenSettingsSchema,
    abuse: abuseSettingsSchema,
    auth: authSettingsSchema,
    default_upstream: defaultUpstreamSchema,
    checksum_databases: checksumDatabasesSchema,
    integrity: integritySettingsSchema,
    policy: policySchema,
    audit: auditSettingsSchema,
    log: logSchema,
    metrics: metricsSettingsSchema,
    shutdown_timeout: shutdownTimeoutSchema,
    state: stateSettingsSchema,
    workers: workersSchema,
    admin: adminSettingsSchema,
    jwt: jwtSettingsSchema,
    personal_tokens: personalTokensSettingsSchema,
    sso: ssoSettingsSchema,
  })
  .transform((s) => ({
    listen: s.listen,
    abuse: s.abuse,
    tls: s.tls,
    directory: s.directory,
    auth: s.auth,
    upstreams: s.upstreams,
    defaultUpstream: s.default_upstream,
    /** Checksum database names served under `/sumdb/<name>/`. */
    checksumDatabases: s.checksum_databases,
    /** `integrity:` (gateway/integrity/config.ts), folders made absolute. */
    integrity: s.integrity,
    credentials: s.credentials,
    policy: { path: configPath(s.policy.path), publishTimeCacheEntries: s.policy.publish_time_cache_entries },
    audit: s.audit,
    log: s.log,
    metrics: s.metrics,
    shutdownTimeoutMs: s.shutdown_timeout,
    state: s.state,
    /** Worker processes to run; resolved from `auto`. */
    workers: s.workers === 'auto' ? (s.state.kind === 'redis' ? availableParallelism() : 1) : s.workers,
    admin: s.admin,
    jwt: s.jwt,
    personalTokens: s.personal_tokens,
    sso:
      s.sso === undefined || s.listen.publicUrl === undefined
        ? undefined
        : withPublicUrl(s.sso, s.listen.publicUrl),
  }));
