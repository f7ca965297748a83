/**
 * Writes docs/configuration.md, the gateway.yaml reference, from the zod
 * schema in gateway/config/schema.ts (`npm run gen:config-docs`): every key,
 * its type, default and whether it is required come from the schema itself
 * (through zod's JSON Schema export); the one-line description of each key
 * comes from DESCRIPTIONS below. A key the schema has and DESCRIPTIONS lacks
 * (or the other way round) is an error, so a new setting cannot ship
 * undocumented; test/config-docs.test.ts fails when the committed file is
 * out of date.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { gatewayConfigSchema, RENAMED_CONFIG_KEYS } from '../gateway/config/schema.ts';

/** The reference, relative to the repository root. */
export const CONFIG_DOCS_PATH = 'docs/configuration.md';

/** What a secret reference looks like (gateway/config/schema.ts `secretRef`). */
const SECRET_PATTERN = '^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$';
/** The default shown for an object that applies, with its keys' defaults, when absent. */
const ON_BY_DEFAULT = 'on';
/** JSON Schema's stand-in for "no upper bound" on integers. */
const NO_MAX = Number.MAX_SAFE_INTEGER;

/**
 * One line per key, by path: `a.b` for nested keys, `<name>` for a map's
 * keys, `[]` for a list's items. For a top-level section, the text is the
 * paragraph under its heading.
 */
export const DESCRIPTIONS: Readonly<Record<string, string>> = {
  listen: 'Where the GOPROXY server listens (https, or http behind a TLS terminator).',
  'listen.host': 'Interface to bind; `0.0.0.0` or `::` for every interface.',
  'listen.port': 'TCP port; `0` picks a free one (tests). `modgate serve --port` overrides it.',
  'listen.public_url':
    'The URL developers put in `GOPROXY`; used in hints and the start banner, and check-config warns when the certificate does not name its host.',
  'listen.trusted_proxies':
    "CIDRs of load balancers whose `X-Forwarded-For` is believed for `source.ip`, lockouts and audit; empty: the socket's peer is the client.",
  'listen.headers_timeout':
    'How long a client may take from connecting to the end of its request headers (the TLS handshake, then the headers, each get this long); a slow or silent connection is then closed with 408 (slowloris). Checked every second.',
  tls: 'The server certificate. Either `cert` + `key`, or `behind_tls_terminator: true`. The go command sends credentials only over https.',
  'tls.cert': 'PEM certificate chain (leaf first).',
  'tls.key': 'PEM private key of the certificate.',
  'tls.behind_tls_terminator':
    'Serve plain http because a TLS terminator (load balancer, ingress) sits in front; warned about at start and by check-config.',
  directory: 'Who the users are: an LDAP directory (`ldap`) or a users file (`file`). Exactly one.',
  'directory.ldap': 'An LDAP directory: passwords are checked by binding as the user.',
  'directory.ldap.url': '`ldap://host:port` or `ldaps://host:port`, nothing after the port.',
  'directory.ldap.start_tls': 'Upgrade an `ldap://` connection with StartTLS before binding.',
  'directory.ldap.ca': 'Extra CA (PEM) trusted for the directory, besides the system roots.',
  'directory.ldap.insecure_skip_verify':
    'Opt-in: accept any certificate from the directory. Never in production; warned about at start and by check-config.',
  'directory.ldap.bind_dn': 'The service account modgate searches with.',
  'directory.ldap.bind_password': "The service account's password.",
  'directory.ldap.user_base': 'Subtree searched for users.',
  'directory.ldap.user_filter':
    'Search filter for one user; `{username}` is replaced by the RFC 4515-escaped name the client sent.',
  'directory.ldap.user_name_attribute':
    'Attribute holding the user name modgate reports (audit, policy `user:`).',
  'directory.ldap.groups': "Where a user's groups come from.",
  'directory.ldap.groups.from':
    '`memberOf`: the attribute on the user entry (memberof overlay, Active Directory); `search`: a group search.',
  'directory.ldap.groups.base': 'Subtree searched for groups.',
  'directory.ldap.groups.filter': "Group search filter; `{dn}` is replaced by the user's escaped DN.",
  'directory.ldap.groups.name_attribute': 'Attribute holding the group name.',
  'directory.ldap.disabled_filter':
    'Entries matching this filter are refused with 403 "user account is disabled" even with the right password.',
  'directory.ldap.timeout': 'Bound on one LDAP operation, connecting included.',
  'directory.ldap.pool_size': 'Pooled connections to the directory, reused across requests.',
  'directory.file': 'A users file: names, argon2id or bcrypt hashes (`modgate hash-password`) and groups.',
  'directory.file.path': 'The users file; relative paths are relative to gateway.yaml.',
  auth: 'Password authentication and its caches.',
  'auth.realm': 'The realm of the `WWW-Authenticate: Basic` challenge sent with every 401.',
  'auth.cache_ttl':
    'A verified credential is trusted this long without asking the directory again: one bind per user per TTL.',
  'auth.cache_max_entries': 'Verified credentials kept per process (least recently used go first).',
  'auth.negative_cache_ttl':
    'A rejected credential is rejected this long without another directory call; `0s` turns it off.',
  'auth.cache_key':
    'HMAC key for cache keys; set the same value in every process that shares state through Redis (random per process otherwise).',
  upstreams:
    'The module proxies behind modgate, by name (lowercase letters, digits, dashes). Policy routes and `default_upstream` refer to these names.',
  'upstreams.<name>.kind':
    '`athens` (GOPROXY protocol at `url`), `artifactory` (`<url>/api/go/<repository>`) or `dir` (a GOPROXY-layout folder served read-only).',
  'upstreams.<name>.url': 'Base URL; for Athens it may carry a path prefix.',
  'upstreams.<name>.username': "Athens' one static basic-auth user (shorthand for a `static` credential).",
  'upstreams.<name>.password': "That user's password.",
  'upstreams.<name>.repository': 'The Artifactory Go repository key (a virtual repository usually).',
  'upstreams.<name>.redirects':
    '`follow`: modgate follows download redirects itself (credentials only to the same host); `disable`: sends `X-JFrog-Download-Redirect-To: None`.',
  'upstreams.<name>.timeout':
    'Time to the first byte of the answer, and the longest silence mid-body unless `idle_timeout` is set; then 504.',
  'upstreams.<name>.connect_timeout': 'Time to establish the TCP (and TLS) connection; then 502.',
  'upstreams.<name>.idle_timeout': 'Longest silence in the middle of a body (default: `timeout`).',
  'upstreams.<name>.client_cert': 'Client certificate (PEM) for an upstream that requires mutual TLS.',
  'upstreams.<name>.client_key': 'Its private key (PEM).',
  'upstreams.<name>.max_sockets': 'Keep-alive connection pool size to this upstream.',
  'upstreams.<name>.ca': 'Extra CA (PEM) trusted for this upstream, besides the system roots.',
  'upstreams.<name>.allow_insecure_http':
    'Opt-in: allow an `http://` URL (credentials and modules cross the network in clear); warned about at start and by check-config.',
  'upstreams.<name>.credential': 'The credential (see `credentials`) sent when a route names none.',
  'upstreams.<name>.circuit_breaker':
    'Stops calling a failing upstream: open → 503 with `Retry-After` until a probe succeeds.',
  'upstreams.<name>.circuit_breaker.failures':
    'Consecutive failures (5xx, timeouts, unreachable) that open the circuit.',
  'upstreams.<name>.circuit_breaker.cool_down':
    'How long an open circuit refuses before letting a probe through.',
  'upstreams.<name>.circuit_breaker.half_open_probes': 'Requests let through while half-open.',
  'upstreams.<name>.fallback':
    "Another upstream that serves public routes while this one's circuit is open or it is unreachable (never private routes).",
  'upstreams.<name>.probe_module':
    'A module this upstream must list (`@v/list`) for `/readyz` and check-config to call it ready; without it readiness only warns.',
  'upstreams.<name>.path': 'The folder (GOPROXY layout: `<module>/@v/list`, `<version>.info|.mod|.zip`).',
  default_upstream: 'The upstream for modules no policy route matches.',
  checksum_databases:
    'Checksum databases served under `/sumdb/<name>/`, the whole list (keep `sum.golang.org` when adding e.g. `sum.golang.google.cn`). Any other name is 404 `checksum database <name> is not served here` without asking an upstream, so modgate is no relay to arbitrary sumdb hosts.',
  integrity:
    'Serve `.mod` and `.zip` only when their go.sum hash (`h1:`) is what the checksum database (public modules) or the first fetch (private routes and `pin` modules) says. Verified files are kept on disk and served from there.',
  'integrity.mode':
    '`enforce`: refuse (502, nothing of the body sent) what does not verify, and (503) what cannot be verified now; `warn`: log, audit and serve it; `off`: forward unchecked.',
  'integrity.checksum_database':
    'The checksum database public modules are verified against, as the go command does (signed tree head, inclusion proof from tiles, consistency with the last accepted tree head).',
  'integrity.checksum_database.name': 'Its name, as in GOSUMDB.',
  'integrity.checksum_database.key': 'Its verifier key (`<name>+<hash>+<key>`), as in GOSUMDB.',
  'integrity.checksum_database.url':
    'Where to ask it; default `https://<name>`. May be an upstream’s `/sumdb/<name>` proxy.',
  'integrity.pin':
    'Modules pinned on first sight although their route is public (GOPRIVATE globs). Private routes are always pinned.',
  'integrity.cache':
    'Verified `.mod` and `.zip` files kept on local disk and served from there; workers share the folder.',
  'integrity.cache.dir': 'The folder (relative paths: from the config file’s folder).',
  'integrity.cache.max_size': 'Size limit, e.g. `10GB`; the least recently used files go first.',
  'integrity.records_dir':
    'Folder of first-seen times and pinned hashes when the state store is in memory. With Redis they are kept in Redis, durable only with AOF or RDB there.',
  credentials:
    'Credentials modgate presents to upstreams, by name; routes pick one per subject. Client credentials never reach an upstream.',
  'credentials.<name>.kind':
    '`static`: one fixed Basic or Bearer credential; `artifactory-token`: a short-lived Artifactory access token minted per user.',
  'credentials.<name>.basic': 'A fixed Basic credential.',
  'credentials.<name>.basic.username': 'User name.',
  'credentials.<name>.basic.password': 'Password.',
  'credentials.<name>.bearer': 'A fixed Bearer token.',
  'credentials.<name>.bearer.token': 'The token.',
  'credentials.<name>.url': 'The JFrog platform base; tokens are minted at `<url>/access/api/v1/tokens`.',
  'credentials.<name>.admin_token': 'An Artifactory token allowed to mint tokens for other users.',
  'credentials.<name>.scope':
    'Scope of minted tokens; `{user}` and `{groups}` (comma-joined, allowlisted) are filled in.',
  'credentials.<name>.allowed_groups':
    'Directory groups that may appear in a scope: a list, or a map directory group → Artifactory group. Others are left out.',
  'credentials.<name>.expires_in': 'Lifetime of a minted token.',
  'credentials.<name>.refresh_before':
    'A token is minted again this long before it expires (one mint per user at a time).',
  'credentials.<name>.timeout': 'Bound on one mint call.',
  'credentials.<name>.ca': 'Extra CA (PEM) trusted for the mint endpoint.',
  'credentials.<name>.allow_insecure_http':
    'Opt-in: mint over plain `http://` (tests only); warned about at start and by check-config.',
  policy: 'The access policy (rules and routes, see docs/policies.md), reloaded live when the file changes.',
  'policy.path': 'The policy file; relative paths are relative to gateway.yaml.',
  'policy.publish_time_cache_entries': 'Version publish times remembered for `min_age` rules.',
  audit: 'The audit trail: one ECS JSON line per request (see docs/operations.md, "The audit log").',
  'audit.sink': '`stdout` (collected by the container runtime) or `file`.',
  'audit.path': 'The audit file.',
  'audit.rotate_size':
    'Rotate when the file passes this size (`500KB`, `100MB`, `1GB`); `0B`: never (logrotate + SIGHUP).',
  'audit.keep': 'Rotated files kept (`audit.log.1` … `audit.log.N`).',
  log: 'The operational log (JSON on stderr; auth events carry `stream: "auth"`).',
  'log.level': 'Least severe level written.',
  metrics: 'Prometheus metrics (`GET /metrics`) on a plain-http listener of their own; off when absent.',
  'metrics.host': 'Interface to bind; keep it private.',
  'metrics.port': 'TCP port (9464 is the Prometheus convention).',
  'metrics.token': 'Optional bearer token the scraper must send.',
  state:
    'Shared state — credential cache, lockouts, rate limits, revocations, minted tokens: in-process (`memory`), or Redis for several processes.',
  'state.kind': '`memory`: one process; `redis`: shared by every process pointing at the same Redis.',
  'state.max_entries':
    'Bound on process-local entries (the memory store itself, or the fallback while Redis is unreachable).',
  'state.encryption': 'Seals values at rest (minted upstream tokens) with AES-256-GCM.',
  'state.encryption.keys': 'Keys by id; the first seals, every one opens (rotation: add the new key first).',
  'state.encryption.keys[].id': 'Key id (1-32 letters, digits, `-`, `_`), stored with each sealed value.',
  'state.encryption.keys[].key': '32 bytes: 64 hex digits or base64 (`openssl rand -base64 32`).',
  'state.url': 'Standalone Redis: `redis://host:port/db` or `rediss://…` (TLS); no credentials in the URL.',
  'state.sentinels': 'Redis Sentinel: the Sentinels to ask (`host:port`).',
  'state.name': 'The master group name the Sentinels monitor (required with `sentinels`).',
  'state.sentinel_username': 'ACL user for the Sentinels.',
  'state.sentinel_password': 'Password for the Sentinels.',
  'state.db': 'Database number with Sentinel (a URL carries its own; Cluster has only 0).',
  'state.nodes': 'Redis Cluster: seed nodes (`host:port`).',
  'state.username': 'Redis ACL user.',
  'state.password': 'Redis password.',
  'state.tls': 'TLS to Redis and the Sentinels (a `rediss://` URL turns it on too).',
  'state.tls.ca': 'Extra CA (PEM) for Redis.',
  'state.tls.server_name': 'Name expected in the Redis certificate, when it differs from the host.',
  'state.tls.insecure_skip_verify':
    'Opt-in: accept any certificate (testing only); warned about at start and by check-config.',
  'state.command_timeout':
    'Bound on one Redis call (at most 5s); on trouble modgate answers from process-local state instead of failing requests, except that revocation checks fail closed (personal tokens get 503; see deployment.md).',
  'state.connect_timeout': 'Bound on connecting to Redis, TLS and AUTH included.',
  abuse:
    'Abuse protection: failed-login lockout per user name, a throttle on addresses that fail for many user names, per-identity rate limit, concurrent upstream requests. All on by default, with the values below; a source address is never refused as such: a credential that verifies, or is in the verified cache, passes whoever shares its address.',
  'abuse.key':
    'HMAC key for user names in state keys; the same in every process (random per process when absent).',
  'abuse.lockout':
    'Too many failed logins for one user name, from any address → that name is refused (429 `too many failed logins for <user>`, `Retry-After`), even with the right password, until the lock ends. A warning in the operational log when a lock engages.',
  'abuse.lockout.max_failures':
    'Failed logins for one user name within `window` that lock it (unknown names count the same).',
  'abuse.lockout.window': 'The window failures are counted in.',
  'abuse.lockout.lock': 'How long a lock lasts.',
  'abuse.source_throttle':
    'Failed password logins for many user names from one address (password spraying) → for `duration`, its failed logins wait `delay` and answer 429 `invalid username or password; failed logins from <ip> are throttled for …`; its logins that verify pass at once. A warning in the operational log when a throttle engages. (Replaces `abuse.lockout.ip_max_failures`, which locked the address for everyone.)',
  'abuse.source_throttle.max_users':
    'Distinct user names whose password logins failed from one address within `window` that throttle it; one name failing again and again counts once.',
  'abuse.source_throttle.window': 'The window names are counted in.',
  'abuse.source_throttle.duration': 'How long an address stays throttled.',
  'abuse.source_throttle.delay':
    'How long a failed login from a throttled address waits before its answer (at most `10s`; `0s`: no wait, only the 429).',
  'abuse.rate_limit': 'Requests per identity → 429 with `Retry-After` beyond it.',
  'abuse.rate_limit.requests': 'Requests allowed per window.',
  'abuse.rate_limit.window': 'The window.',
  'abuse.upstream_concurrency': 'Concurrent requests per upstream, across processes → 503 beyond it.',
  'abuse.upstream_concurrency.limit': 'Concurrent requests per upstream.',
  'abuse.upstream_concurrency.slot_ttl': 'A slot held longer (a crashed process) is freed after this.',
  jwt: 'IdP-issued access tokens: JWTs, as `Authorization: Bearer` or as the Basic password (netrc), and opaque tokens as `Authorization: Bearer` or as the Basic password of `introspection.netrc_login`, checked at the IdP (`introspection`). The user must exist and be enabled in the directory, unless the token is a service identity’s. Needs `issuers`, `introspection` or both.',
  'jwt.clock_skew': 'Tolerance for `exp`/`nbf`/`iat`.',
  'jwt.allow_insecure_http':
    'Opt-in: issuers (discovery, JWKS, introspection) over plain http — tests only; warned about at start and by check-config.',
  'jwt.issuers': 'Accepted JWT issuers.',
  'jwt.issuers[].issuer': 'The issuer URL (`iss`); its OIDC discovery document names the JWKS.',
  'jwt.issuers[].audiences': 'Accepted `aud` values (usually the gateway URL or a client id).',
  'jwt.issuers[].jwks_uri': 'The JWKS URL, when it is not to be taken from discovery.',
  'jwt.issuers[].algorithms':
    'Accepted signature algorithms (default: the asymmetric ones the JWKS keys allow).',
  'jwt.issuers[].user_claim': 'The claim naming the directory user.',
  'jwt.issuers[].strip_suffix': 'Removed from the claim value first (e.g. `@corp.example`).',
  'jwt.introspection':
    'Opaque access tokens (`Authorization: Bearer`, or the Basic password after `netrc_login`), described by the IdP’s RFC 7662 introspection endpoint; answers are cached by token hash until the token expires, at most `cache_max_ttl`. Needs `audiences`, `client_ids` or both: the IdP calls active a token it issued to any of its clients, and only those meant for modgate may open it.',
  'jwt.introspection.issuer':
    "The IdP's issuer URL; its OIDC discovery document names the introspection endpoint. Service identities of this issuer apply to its tokens.",
  'jwt.introspection.modgate_client_id':
    "modgate's own client id at the IdP, with which it authenticates to the introspection endpoint (formerly `client_id`). Not to be confused with `client_ids`, the clients whose tokens are accepted.",
  'jwt.introspection.client_secret': "The secret of modgate's own client (`modgate_client_id`).",
  'jwt.introspection.audiences':
    'Accepted `aud` values of the introspection response (a string or a list; one match is enough). When set, a token without an accepted `aud` is refused: 401 `token was not issued for modgate`.',
  'jwt.introspection.client_ids':
    'Accepted `client_id` values: the clients (CLI, CI, login) whose tokens are meant for modgate. When set, a token of any other client is refused: 401 `token was not issued for modgate`. With `audiences` too, a token must match both.',
  'jwt.introspection.user_claim':
    'The member of the introspection response naming the directory user (`username`, `sub`, `email`, …); no fallback to another member.',
  'jwt.introspection.strip_suffix': 'Removed from the claim value first (e.g. `@corp.example`).',
  'jwt.introspection.netrc_login':
    'The Basic user name that says "the password is a token": `machine <host> login oauth2accesstoken password <token>` in a netrc (go ≤1.23 cannot send Bearer). An opaque password after it is introspected, a JWT or personal token verified as such, and it is never a directory password; after any other name, a password that is neither a JWT nor a personal token is a directory password.',
  'jwt.introspection.cache_max_ttl':
    'Longest reuse of an answer: a token revoked at the IdP is refused within this time.',
  'jwt.service_identities':
    'Workload identities (CI) accepted without a directory user. An opaque token’s subject is its `sub`, or its `client_id` when it has no `sub` (client credentials).',
  'jwt.service_identities[].issuer': 'The issuer of their tokens.',
  'jwt.service_identities[].subject':
    'The `sub` to accept, exact or a glob: `*` matches any run of characters, `/` and `:` included (e.g. `repo:corp/*:ref:refs/heads/main`), `?` one character.',
  'jwt.service_identities[].name': 'The user name modgate gives it (audit, policy `user:`).',
  'jwt.service_identities[].groups': 'Its groups (policy `group:`).',
  personal_tokens: 'modgate personal access tokens (`mgp_…`), sent as the Basic password.',
  'personal_tokens.issuer': "`iss`/`aud` of the tokens: this gateway's public URL.",
  'personal_tokens.keys': 'Signing keys; the first signs, all verify (rotation: add the new key first).',
  'personal_tokens.keys[].kid': 'Key id, carried in each token.',
  'personal_tokens.keys[].pem': 'The private key (PEM).',
  sso: 'Browser single sign-on against an OIDC provider, for the token set-up page and `modgate login`; needs `listen.public_url` and `personal_tokens`.',
  'sso.issuer': "The IdP's issuer URL (OIDC discovery).",
  'sso.client_id': "modgate's client id at the IdP.",
  'sso.client_secret': "modgate's client secret.",
  'sso.scopes': 'Scopes asked for at login.',
  'sso.user_claim': 'The ID-token claim naming the directory user.',
  'sso.strip_suffix': 'Removed from the claim value first (e.g. `@corp.example`).',
  'sso.session_key': 'Seals session cookies (AES-GCM); at least 32 characters, the same in every process.',
  'sso.session_ttl': 'Lifetime of a browser session.',
  'sso.token_ttl':
    'Lifetime of the personal tokens people mint (at most 90 days), and of a `modgate credential` sign-in.',
  'sso.access_token_ttl':
    'Lifetime of the access tokens `modgate credential` (GOAUTH) refreshes from a sign-in; at most `sso.token_ttl`.',
  'sso.allow_insecure_http':
    'Opt-in: an IdP over plain http — tests only; warned about at start and by check-config.',
  workers:
    'Worker processes (node:cluster): `auto` = one per CPU with Redis state, 1 with in-process state (which cannot be shared).',
  admin: 'The admin API (`POST`/`DELETE /_modgate/admin/revoke`); off when absent.',
  'admin.token': 'The bearer token the admin API requires.',
  shutdown_timeout:
    "On SIGTERM: how long in-flight requests (zip streams included) may take to finish before they are cut. Keep the orchestrator's grace period longer.",
};

type JsonSchema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

/** One documented key. `when` lists the variants (`kind: athens`) it belongs to; empty: always. */
interface Row {
  path: string;
  types: string[];
  defaults: string[];
  required: boolean;
  when: string[];
}

/** The schema as JSON Schema (input side: durations are strings), durations marked as such. */
function jsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string; out?: { _zod: { def: { type: string } } } };
      // core/duration.ts durationMs: a string piped into a transform.
      if (def.type === 'pipe' && def.out?._zod.def.type === 'transform') ctx.jsonSchema.format = 'duration';
    },
  }) as JsonSchema;
}

const variantsOf = (node: JsonSchema) => node.oneOf ?? node.anyOf;
const isObject = (node: JsonSchema) => node.type === 'object' && node.properties !== undefined;

/** The `key: value` that tells a variant apart (kind, sink, from), if it has one. */
function discriminator(node: JsonSchema): string | undefined {
  for (const [key, prop] of Object.entries(node.properties ?? {})) {
    if (prop.const !== undefined && node.required?.includes(key)) return `${key}: ${String(prop.const)}`;
  }
  return undefined;
}

function typeOf(node: JsonSchema): string {
  const variants = variantsOf(node);
  if (variants !== undefined) return [...new Set(variants.map(typeOf))].join(' or ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.enum !== undefined) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (node.format === 'duration') return 'duration';
  if (node.pattern === SECRET_PATTERN) return 'secret ref';
  if (node.format === 'uri') return 'URL';
  switch (node.type) {
    case 'integer': {
      const max = node.maximum === undefined || node.maximum >= NO_MAX ? undefined : node.maximum;
      if (node.minimum !== undefined && max !== undefined) return `integer ${node.minimum}–${max}`;
      if (node.minimum !== undefined) return `integer ≥ ${node.minimum}`;
      return max === undefined ? 'integer' : `integer ≤ ${max}`;
    }
    case 'array':
      return `list of ${node.items === undefined ? 'values' : plural(typeOf(node.items))}`;
    case 'object':
      if (node.properties !== undefined) return 'object';
      return `map of ${typeof node.additionalProperties === 'object' ? plural(typeOf(node.additionalProperties)) : 'values'}`;
    default:
      return node.type ?? 'any';
  }
}

function plural(type: string): string {
  return /^(string|integer|object|URL|duration|secret ref)$/.test(type) ? `${type}s` : type;
}

function defaultOf(node: JsonSchema): string | undefined {
  const value = node.default;
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    // `{}`: on, every key below has its own default.
    return entries.length === 0
      ? ON_BY_DEFAULT
      : entries.map(([k, v]) => `\`${k}: ${String(v)}\``).join(', ');
  }
  return `\`${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}\``;
}

/** Collects rows for `node` at `path`, merging keys that several variants share. */
function collect(
  node: JsonSchema,
  path: string,
  required: boolean,
  when: string[],
  rows: Map<string, Row>,
): void {
  const variants = variantsOf(node);
  if (variants?.every(isObject)) {
    // A union of objects (directory: ldap | file, upstream kinds): one row for the key, then each variant's keys.
    if (!/(<name>|\[\])$/.test(path)) {
      add(rows, { path, types: ['object'], defaults: opt(defaultOf(node)), required, when });
    }
    const tags = variants.map((v) => discriminator(v) ?? (v.required ?? []).join(' + '));
    for (const [i, variant] of variants.entries()) collectObject(variant, path, [...when, tags[i]!], rows);
    // A key every variant has needs no "with".
    for (const row of rows.values()) {
      if (row.path.startsWith(`${path}.`) && tags.every((t) => row.when.includes(t))) {
        row.when = row.when.filter((w) => !tags.includes(w));
      }
    }
    return;
  }
  add(rows, { path, types: [typeOf(node)], defaults: opt(defaultOf(node)), required, when });
  if (isObject(node)) collectObject(node, path, when, rows);
  else if (node.type === 'object' && typeof node.additionalProperties === 'object') {
    collect(node.additionalProperties, `${path}.<name>`, false, when, rows);
  } else if (node.type === 'array' && node.items !== undefined && isObject(node.items)) {
    collectObject(node.items, `${path}[]`, when, rows);
  }
}

function collectObject(node: JsonSchema, path: string, when: string[], rows: Map<string, Row>): void {
  for (const [key, prop] of Object.entries(node.properties ?? {})) {
    collect(prop, path === '' ? key : `${path}.${key}`, node.required?.includes(key) ?? false, when, rows);
  }
}

const opt = (s: string | undefined) => (s === undefined ? [] : [s]);

/** Adds a row, or merges it into the row of the same path from another variant. */
function add(rows: Map<string, Row>, row: Row): void {
  const seen = rows.get(row.path);
  if (seen === undefined) {
    rows.set(row.path, row);
    return;
  }
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  seen.types = union(seen.types, row.types);
  seen.defaults = union(seen.defaults, row.defaults);
  seen.required &&= row.required;
  seen.when = union(seen.when, row.when);
}

/** Variant discriminators read as one alternatives list (`athens` | `artifactory` | `dir`). */
function typeText(types: string[]): string {
  return types.join(types.every((t) => /^`[^`]*`$/.test(t)) ? ' | ' : ' or ');
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function describe(descriptions: Readonly<Record<string, string>>, path: string): string {
  const text = descriptions[path];
  if (text === undefined) throw new Error(`no description for gateway.yaml key ${path}`);
  return text;
}

/**
 * The whole of docs/configuration.md for `config` (gateway.yaml's schema by
 * default). Throws when a key of the schema and `descriptions` disagree.
 */
export function renderConfigReference(
  config: z.ZodType = gatewayConfigSchema,
  descriptions: Readonly<Record<string, string>> = DESCRIPTIONS,
): string {
  const schema = jsonSchema(config);
  const rows = new Map<string, Row>();
  collectObject(schema, '', [], rows);
  const documented = new Set(rows.keys());
  const missing = [...documented].filter((p) => !(p in descriptions));
  const extra = Object.keys(descriptions).filter((p) => !documented.has(p));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      [
        'scripts/gen-config-docs.ts DESCRIPTIONS is out of step with gateway/config/schema.ts:',
        ...missing.map((p) => `  no description for ${p}`),
        ...extra.map((p) => `  description for ${p}, which the schema no longer has`),
      ].join('\n'),
    );
  }
  const out: string[] = [
    '# Configuration reference: `gateway.yaml`',
    '',
    '<!-- Generated by `npm run gen:config-docs` (scripts/gen-config-docs.ts) from',
    '     gateway/config/schema.ts. Do not edit by hand: test/config-docs.test.ts',
    '     fails when this file and the schema disagree. -->',
    '',
    'modgate reads one YAML file, `modgate serve --config gateway.yaml` (or',
    '`$MODGATE_CONFIG` for `check-config`). It is validated once at start: every',
    'problem is reported at once with its key path and line, unknown keys are',
    'errors, and nothing starts until it is valid. `modgate check-config` runs',
    'the same validation and then tries every dependency. The README shows a',
    'complete example; this page lists every key.',
    '',
    'Value types:',
    '',
    '- **secret ref** — never the secret itself: `env:NAME` (an environment',
    '  variable) or `file:/path` (the file, trailing newline removed; relative',
    '  paths are relative to gateway.yaml). Literal secrets are rejected.',
    '- **duration** — Go style: `500ms`, `30s`, `5m`, `1h30m`, `72h`.',
    '- **URL** — absolute; `http://` upstreams and issuers need their',
    '  `allow_insecure_http` opt-in.',
    '- `<name>` stands for a name you choose (lowercase letters, digits, dashes);',
    '  `[]` for each item of a list.',
    '',
    'Default "—" means the key is optional and off (or taken from elsewhere, as',
    'described) when absent; "on" means an object applies when absent, with the',
    'defaults of its keys; **required** keys have no default.',
    '',
  ];
  for (const key of Object.keys(schema.properties ?? {})) {
    const section = [...rows.values()].filter((r) => r.path === key || r.path.startsWith(`${key}.`));
    const own = rows.get(key);
    const required = schema.required?.includes(key) ?? false;
    out.push(`## \`${key}\``, '');
    const leaf = section.length === 1 && own !== undefined;
    if (!leaf) {
      // A section that applies with its keys' defaults says so in its own description.
      const defaults = own?.defaults.filter((d) => d !== ON_BY_DEFAULT) ?? [];
      const status = required
        ? 'Required.'
        : defaults.length
          ? `Default: ${defaults.join('; ')}.`
          : 'Optional.';
      out.push(`${describe(descriptions, key)} ${status}`, '');
    }
    const shown = leaf ? section : section.filter((r) => r.path !== key);
    const withWhen = shown.some((r) => r.when.length > 0);
    out.push(
      `| key | type | default | ${withWhen ? 'with | ' : ''}description |`,
      `| --- | --- | --- | ${withWhen ? '--- | ' : ''}--- |`,
    );
    for (const row of shown) {
      const dflt = row.defaults.length > 0 ? row.defaults.join('; ') : row.required ? '**required**' : '—';
      const when = withWhen ? ` ${row.when.map((w) => `\`${w}\``).join(', ')} |` : '';
      out.push(
        `| \`${row.path}\` | ${cell(typeText(row.types))} | ${cell(dflt)} |${when} ${cell(describe(descriptions, row.path))} |`,
      );
    }
    out.push('');
  }
  out.push(
    '## Renamed keys',
    '',
    'An old key is refused with its line and the key that replaced it.',
    '',
    '| old key | new key |',
    '| --- | --- |',
    ...Object.entries(RENAMED_CONFIG_KEYS).map(([old, now]) => `| \`${old}\` | \`${now}\` |`),
    '',
  );
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = new URL(`../${CONFIG_DOCS_PATH}`, import.meta.url);
  await writeFile(target, renderConfigReference());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
