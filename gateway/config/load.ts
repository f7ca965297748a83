import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { DEFAULT_PAT_MAX_TTL_MS } from '../../auth/pat/personal-tokens.ts';
import { isModgateError, ModgateError } from '../../core/errors.ts';
import { unsafeWarnings } from '../../core/unsafe-settings.ts';
import { deepFreeze, formatProblem, parseYamlWith, type YamlProblem } from '../../core/yaml-validate.ts';
import { TrustedProxies } from '../pipeline/client-ip.ts';
import { type StateSettings, stateSettings } from '../state/settings.ts';
import {
  type CredentialConfig,
  type GatewayConfigFile,
  gatewayConfigSchema,
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

type LineOf = (path: readonly PropertyKey[]) => number | undefined;

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
  const problems = crossCheck(parsed.value, parsed.lineOf);
  if (problems.length > 0) throw invalid(path, problems);
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

function crossCheck(config: GatewayConfigFile, lineOf: LineOf): YamlProblem[] {
  const problems: YamlProblem[] = [];
  const at = (path: PropertyKey[], message: string) =>
    problems.push({ path: path.join('.'), line: lineOf(path), message });
  if (!(config.default_upstream in config.upstreams)) {
    at(
      ['default_upstream'],
      `names no upstream (defined: ${Object.keys(config.upstreams).join(', ') || 'none'})`,
    );
  }
  const credentialNames = Object.keys(config.credentials);
  for (const [name, up] of Object.entries(config.upstreams)) {
    if (up.kind === 'dir') continue;
    if (up.url.startsWith('http:') && !up.allow_insecure_http) {
      at(['upstreams', name, 'url'], 'is plain http; set allow_insecure_http: true to accept that');
    }
    if (up.kind === 'athens' && (up.username === undefined) !== (up.password === undefined)) {
      at(['upstreams', name], 'username and password go together');
    }
    if ((up.client_cert === undefined) !== (up.client_key === undefined)) {
      at(['upstreams', name], 'client_cert and client_key go together');
    }
    if (up.credential !== undefined && !(up.credential in config.credentials)) {
      at(
        ['upstreams', name, 'credential'],
        `names no credential (defined: ${credentialNames.join(', ') || 'none'})`,
      );
    }
    if (up.fallback !== undefined && (up.fallback === name || !(up.fallback in config.upstreams))) {
      at(['upstreams', name, 'fallback'], 'must name another upstream');
    }
  }
  for (const [name, cred] of Object.entries(config.credentials)) {
    if (cred.kind === 'static' && (cred.basic === undefined) === (cred.bearer === undefined)) {
      at(['credentials', name], 'a static credential has exactly one of basic or bearer');
    }
    if (cred.kind === 'artifactory-token' && cred.url.startsWith('http:') && !cred.allow_insecure_http) {
      at(['credentials', name, 'url'], 'is plain http; set allow_insecure_http: true to accept that');
    }
  }
  if (config.sso !== undefined) {
    if (config.listen.public_url === undefined) {
      at(['sso'], 'needs listen.public_url (the IdP redirects the browser back to it)');
    }
    if (config.personal_tokens === undefined) {
      at(['sso'], 'needs personal_tokens (login ends in a personal token)');
    }
    if (config.sso.access_token_ttl > config.sso.token_ttl) {
      at(['sso', 'access_token_ttl'], 'is longer than sso.token_ttl, the sign-in it is refreshed from');
    }
    if (config.sso.token_ttl > DEFAULT_PAT_MAX_TTL_MS) {
      at(
        ['sso', 'token_ttl'],
        `is longer than personal tokens may live (${DEFAULT_PAT_MAX_TTL_MS / 3_600_000}h)`,
      );
    }
    if (config.sso.issuer.startsWith('http:') && !config.sso.allow_insecure_http) {
      at(['sso', 'issuer'], 'is plain http; set allow_insecure_http: true to accept that');
    }
  }
  const jwt = config.jwt;
  if (jwt !== undefined) {
    if (jwt.issuers.length === 0 && jwt.introspection === undefined) {
      at(['jwt'], 'needs issuers (JWTs) or introspection (opaque tokens)');
    }
    if (jwt.introspection?.issuer.startsWith('http:') && !jwt.allow_insecure_http) {
      at(
        ['jwt', 'introspection', 'issuer'],
        'is plain http; set jwt.allow_insecure_http: true to accept that',
      );
    }
    if (
      jwt.introspection !== undefined &&
      jwt.introspection.audiences.length === 0 &&
      jwt.introspection.client_ids.length === 0
    ) {
      at(
        ['jwt', 'introspection'],
        'needs audiences or client_ids: without them, a token the IdP issued to any of its clients is accepted',
      );
    }
  }
  for (const p of TrustedProxies.problems(config.listen.trusted_proxies)) {
    at(['listen', 'trusted_proxies', p.index], p.message);
  }
  return problems;
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
    integrity: {
      ...config.integrity,
      cache: { ...config.integrity.cache, dir: resolvePath(config.integrity.cache.dir, baseDir) },
      records_dir: resolvePath(config.integrity.records_dir, baseDir),
    },
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
