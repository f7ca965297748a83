import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { isModgateError, ModgateError } from '../../core/errors.ts';
import { unsafeWarnings } from '../../core/unsafe-settings.ts';
import {
  deepFreeze,
  formatProblem,
  joinKeyPath,
  parseYamlWith,
  type YamlProblem,
} from '../../core/yaml-validate.ts';
import { type StateSettings, stateSettings } from '../state/settings.ts';
import {
  type CredentialConfig,
  type GatewayConfigFile,
  gatewayConfigSchema,
  gatewayRulesSchema,
  type LdapConfig,
  RENAMED_CONFIG_KEYS,
  type UpstreamConfig,
} from './schema.ts';
import { resolvePath, resolveSecret } from './secrets.ts';
import type {
  CredentialSettings,
  GatewaySettings,
  IntrospectionSettings,
  RemoteUpstreamSettings,
  SsoSettings,
  UpstreamSettings,
} from './settings.ts';

/**
 * Loads `gateway.yaml`: shape (schema), cross-field rules, then secrets and
 * files. Reports every problem at once with key path and line, as one
 * ModgateError('config.invalid').
 */
export function loadGatewayConfig(file: string): GatewaySettings {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ModgateError(
      'config.invalid',
      `cannot read config ${path}: ${(cause as NodeJS.ErrnoException).code}`,
    );
  }
  return settingsFromYaml(path, text);
}

/** The same as loadGatewayConfig for text already read (tests, embedded defaults). */
export function settingsFromYaml(path: string, text: string): GatewaySettings {
  const parsed = parseYamlWith(text, gatewayConfigSchema, { renamedKeys: RENAMED_CONFIG_KEYS });
  if (!parsed.ok) throw invalid(path, parsed.problems);
  const ruled = gatewayRulesSchema.safeParse(parsed.value);
  if (!ruled.success) {
    throw invalid(
      path,
      ruled.error.issues.map((issue) => ({
        path: joinKeyPath(issue.path),
        line: parsed.lineOf(issue.path),
        message: issue.message,
      })),
    );
  }
  const secretProblems: YamlProblem[] = [];
  const settings = resolveSettings(parsed.value, dirname(path), (keys, message) =>
    secretProblems.push({ path: keys.join('.'), line: parsed.lineOf(keys), message }),
  );
  if (secretProblems.length > 0) throw invalid(path, secretProblems);
  return deepFreeze({
    ...settings,
    unsafeSettings: unsafeWarnings(gatewayConfigSchema, parsed.value, path, parsed.lineOf),
  });
}

function invalid(file: string, problems: readonly YamlProblem[]): ModgateError {
  const lines = problems.map((p) => formatProblem(file, p));
  return new ModgateError('config.invalid', `${file}: ${lines.length} problem(s)\n${lines.join('\n')}`, {
    detail: { problems },
  });
}

type Report = (keys: string[], message: string) => void;

function resolveSettings(
  config: GatewayConfigFile,
  baseDir: string,
  report: Report,
): Omit<GatewaySettings, 'unsafeSettings'> {
  const secret = (ref: string, keys: string[]): string => {
    try {
      return resolveSecret(ref, baseDir, keys.join('.'));
    } catch (err) {
      if (!isModgateError(err)) throw err;
      report(keys, err.message.slice(err.message.indexOf(': ') + 2));
      return '';
    }
  };
  const tls =
    'cert' in config.tls
      ? { cert: secret(config.tls.cert, ['tls', 'cert']), key: secret(config.tls.key, ['tls', 'key']) }
      : { behindTlsTerminator: true as const };
  const directory =
    'ldap' in config.directory
      ? { kind: 'ldap' as const, options: ldapOptions(config.directory.ldap, secret) }
      : { kind: 'file' as const, path: resolvePath(config.directory.file.path, baseDir) };
  const upstreams: Record<string, UpstreamSettings> = {};
  for (const [name, up] of Object.entries(config.upstreams)) {
    upstreams[name] =
      up.kind === 'dir'
        ? { kind: 'dir', name, path: resolvePath(up.path, baseDir) }
        : remoteUpstream(name, up, secret);
  }
  const credentials: Record<string, CredentialSettings> = {};
  for (const [name, cred] of Object.entries(config.credentials)) {
    credentials[name] = credentialSettings(name, cred, secret);
  }
  return {
    listen: {
      host: config.listen.host,
      port: config.listen.port,
      publicUrl: config.listen.public_url,
      trustedProxies: config.listen.trusted_proxies,
      headersTimeoutMs: config.listen.headers_timeout,
    },
    abuse: {
      key: config.abuse.key === undefined ? undefined : secret(config.abuse.key, ['abuse', 'key']),
      lockout: {
        maxFailures: config.abuse.lockout.max_failures,
        windowMs: config.abuse.lockout.window,
        lockMs: config.abuse.lockout.lock,
      },
      sourceThrottle: {
        maxUsers: config.abuse.source_throttle.max_users,
        windowMs: config.abuse.source_throttle.window,
        durationMs: config.abuse.source_throttle.duration,
        delayMs: config.abuse.source_throttle.delay,
      },
      rateLimit: { requests: config.abuse.rate_limit.requests, windowMs: config.abuse.rate_limit.window },
      upstreamConcurrency: {
        limit: config.abuse.upstream_concurrency.limit,
        slotTtlMs: config.abuse.upstream_concurrency.slot_ttl,
      },
    },
    tls,
    directory,
    auth: {
      realm: config.auth.realm,
      cacheTtlMs: config.auth.cache_ttl,
      cacheMaxEntries: config.auth.cache_max_entries,
      negativeTtlMs: config.auth.negative_cache_ttl,
      cacheKey:
        config.auth.cache_key === undefined
          ? undefined
          : secret(config.auth.cache_key, ['auth', 'cache_key']),
    },
    upstreams,
    defaultUpstream: config.default_upstream,
    checksumDatabases: config.checksum_databases,
    credentials,
    policy: {
      path: resolvePath(config.policy.path, baseDir),
      publishTimeCacheEntries: config.policy.publish_time_cache_entries,
    },
    audit:
      config.audit.sink === 'file'
        ? {
            sink: 'file',
            path: resolvePath(config.audit.path, baseDir),
            rotateBytes: parseSize(config.audit.rotate_size),
            keep: config.audit.keep,
          }
        : config.audit,
    log: config.log,
    metrics:
      config.metrics === undefined
        ? undefined
        : {
            host: config.metrics.host,
            port: config.metrics.port,
            token:
              config.metrics.token === undefined
                ? undefined
                : secret(config.metrics.token, ['metrics', 'token']),
          },
    shutdownTimeoutMs: config.shutdown_timeout,
    state: stateSettingsOrReport(config, secret, report),
    workers:
      config.workers === 'auto'
        ? config.state.kind === 'redis'
          ? availableParallelism()
          : 1
        : config.workers,
    admin: config.admin === undefined ? undefined : { token: secret(config.admin.token, ['admin', 'token']) },
    jwt:
      config.jwt === undefined
        ? undefined
        : {
            clockSkewMs: config.jwt.clock_skew,
            allowInsecureHttp: config.jwt.allow_insecure_http,
            issuers: config.jwt.issuers.map((i) => ({
              issuer: i.issuer,
              audiences: i.audiences,
              jwksUri: i.jwks_uri,
              algorithms: i.algorithms,
              userClaim: i.user_claim,
              stripSuffix: i.strip_suffix,
            })),
            serviceIdentities: config.jwt.service_identities,
            introspection: introspectionSettings(config.jwt.introspection, secret),
          },
    personalTokens:
      config.personal_tokens === undefined
        ? undefined
        : {
            issuer: config.personal_tokens.issuer,
            keys: config.personal_tokens.keys.map((k, i) => ({
              kid: k.kid,
              pem: secret(k.pem, ['personal_tokens', 'keys', String(i), 'pem']),
            })),
          },
    sso: ssoSettings(config, secret, report),
  };
}

function introspectionSettings(
  introspection: NonNullable<GatewayConfigFile['jwt']>['introspection'],
  secret: Secret,
): IntrospectionSettings | undefined {
  if (introspection === undefined) return undefined;
  return {
    issuer: introspection.issuer,
    modgateClientId: introspection.modgate_client_id,
    clientSecret: secret(introspection.client_secret, ['jwt', 'introspection', 'client_secret']),
    audiences: introspection.audiences,
    clientIds: introspection.client_ids,
    userClaim: introspection.user_claim,
    stripSuffix: introspection.strip_suffix,
    netrcLogin: introspection.netrc_login,
    cacheMaxTtlMs: introspection.cache_max_ttl,
  };
}

/** Minimum length of `sso.session_key` (characters): it keys AES-256-GCM through SHA-256. */
const MIN_SESSION_KEY_CHARS = 32;

function ssoSettings(
  config: GatewayConfigFile,
  secret: (ref: string, keys: string[]) => string,
  report: Report,
): SsoSettings | undefined {
  const sso = config.sso;
  if (sso === undefined || config.listen.public_url === undefined) return undefined;
  const sessionKey = secret(sso.session_key, ['sso', 'session_key']);
  if (sessionKey !== '' && sessionKey.length < MIN_SESSION_KEY_CHARS) {
    report(['sso', 'session_key'], `must be at least ${MIN_SESSION_KEY_CHARS} characters`);
  }
  const publicUrl = config.listen.public_url.replace(/\/+$/, '');
  return {
    issuer: sso.issuer,
    clientId: sso.client_id,
    clientSecret: secret(sso.client_secret, ['sso', 'client_secret']),
    scopes: sso.scopes,
    userClaim: sso.user_claim,
    stripSuffix: sso.strip_suffix,
    sessionKey,
    sessionTtlMs: sso.session_ttl,
    tokenTtlMs: sso.token_ttl,
    accessTokenTtlMs: sso.access_token_ttl,
    allowInsecureHttp: sso.allow_insecure_http,
    redirectUri: `${publicUrl}/login/callback`,
    publicUrl,
  };
}

function ldapOptions(ldap: LdapConfig, secret: (ref: string, keys: string[]) => string) {
  const keys = (k: string) => ['directory', 'ldap', k];
  return {
    url: ldap.url,
    startTls: ldap.start_tls,
    tls: {
      ca: ldap.ca === undefined ? undefined : secret(ldap.ca, keys('ca')),
      insecureSkipVerify: ldap.insecure_skip_verify,
    },
    bindDn: ldap.bind_dn,
    bindPassword: secret(ldap.bind_password, keys('bind_password')),
    userBase: ldap.user_base,
    userFilter: ldap.user_filter,
    userNameAttribute: ldap.user_name_attribute,
    groups:
      ldap.groups.from === 'memberOf'
        ? { from: 'memberOf' as const }
        : {
            from: 'search' as const,
            base: ldap.groups.base,
            filter: ldap.groups.filter,
            nameAttribute: ldap.groups.name_attribute,
          },
    disabledFilter: ldap.disabled_filter,
    timeoutMs: ldap.timeout,
    poolSize: ldap.pool_size,
  };
}

type Secret = (ref: string, keys: string[]) => string;

function remoteUpstream(
  name: string,
  up: Extract<UpstreamConfig, { kind: 'athens' | 'artifactory' }>,
  secret: Secret,
): RemoteUpstreamSettings {
  const base = up.url.replace(/\/+$/, '');
  return {
    kind: up.kind,
    name,
    url: new URL(up.kind === 'artifactory' ? `${base}/api/go/${up.repository}` : base),
    basicAuth:
      up.kind === 'athens' && up.username !== undefined && up.password !== undefined
        ? { username: up.username, password: secret(up.password, ['upstreams', name, 'password']) }
        : undefined,
    credential: up.credential,
    timeoutMs: up.timeout,
    connectTimeoutMs: up.connect_timeout,
    idleTimeoutMs: up.idle_timeout ?? up.timeout,
    maxSockets: up.max_sockets,
    ca: up.ca === undefined ? undefined : secret(up.ca, ['upstreams', name, 'ca']),
    clientCert:
      up.client_cert === undefined || up.client_key === undefined
        ? undefined
        : {
            cert: secret(up.client_cert, ['upstreams', name, 'client_cert']),
            key: secret(up.client_key, ['upstreams', name, 'client_key']),
          },
    redirects: up.kind === 'artifactory' ? up.redirects : 'follow',
    breaker: {
      failures: up.circuit_breaker.failures,
      coolDownMs: up.circuit_breaker.cool_down,
      halfOpenProbes: up.circuit_breaker.half_open_probes,
    },
    fallback: up.fallback,
    probeModule: up.probe_module,
  };
}

function credentialSettings(name: string, cred: CredentialConfig, secret: Secret): CredentialSettings {
  const keys = (k: string) => ['credentials', name, k];
  if (cred.kind === 'static') {
    return cred.basic
      ? {
          kind: 'static',
          name,
          scheme: 'basic',
          username: cred.basic.username,
          password: secret(cred.basic.password, keys('basic')),
        }
      : { kind: 'static', name, scheme: 'bearer', token: secret(cred.bearer?.token ?? '', keys('bearer')) };
  }
  return {
    kind: 'artifactory-token',
    name,
    url: new URL(cred.url),
    adminToken: secret(cred.admin_token, keys('admin_token')),
    scope: cred.scope,
    allowedGroups: cred.allowed_groups,
    expiresInS: Math.round(cred.expires_in / 1000),
    refreshBeforeMs: cred.refresh_before,
    timeoutMs: cred.timeout,
    ca: cred.ca === undefined ? undefined : secret(cred.ca, keys('ca')),
    allowInsecureHttp: cred.allow_insecure_http,
  };
}

const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 } as const;

/** `100MB` → bytes (the schema checked the shape). */
function parseSize(text: string): number {
  const m = /^(\d+)(B|KB|MB|GB)$/.exec(text);
  return m ? Number(m[1]) * SIZE_UNITS[m[2] as keyof typeof SIZE_UNITS] : 0;
}

/** The state settings; a bad encryption key is reported like any other secret problem. */
function stateSettingsOrReport(config: GatewayConfigFile, secret: Secret, report: Report): StateSettings {
  try {
    return stateSettings(config.state, secret);
  } catch (err) {
    if (!isModgateError(err)) throw err;
    report(['state', 'encryption'], err.message);
    return { kind: 'memory', maxEntries: 1, sealingKeys: [] };
  }
}
