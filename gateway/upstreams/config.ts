import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { type ConfigCtx, configPath, optionalSecretAt, secretAt, secretRef } from '../config/secrets.ts';

/** The `upstreams:` and `default_upstream:` sections of gateway.yaml: the module proxies behind modgate. */

/** Default time an upstream may stay silent (before headers or mid-body) before modgate gives up with 504. */
export const DEFAULT_UPSTREAM_TIMEOUT = '30s';
/** Default time to connect to an upstream. */
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT = '5s';
/** Default keep-alive pool size per upstream (sockets). */
export const DEFAULT_UPSTREAM_MAX_SOCKETS = 64;
/** Default consecutive upstream failures that open its circuit breaker. */
export const DEFAULT_BREAKER_FAILURES = 5;
/** Default time an open circuit refuses before a probe. */
export const DEFAULT_BREAKER_COOL_DOWN = '30s';

const breakerSchema = z.strictObject({
  /** Consecutive failures (5xx, timeouts, unreachable) that open the circuit. */
  failures: z
    .int()
    .min(1)
    .default(DEFAULT_BREAKER_FAILURES)
    .describe('Consecutive failures (5xx, timeouts, unreachable) that open the circuit.'),
  /** How long an open circuit refuses before it lets a probe through. */
  cool_down: durationMs
    .prefault(DEFAULT_BREAKER_COOL_DOWN)
    .describe('How long an open circuit refuses before letting a probe through.'),
  half_open_probes: z.int().min(1).default(1).describe('Requests let through while half-open.'),
});

const httpUrl = z.url({ protocol: /^https?$/ });

/** What every remote GOPROXY upstream (Athens, Artifactory) shares. */
const remoteFields = {
  /** Time to the first byte of the answer. */
  timeout: durationMs
    .prefault(DEFAULT_UPSTREAM_TIMEOUT)
    .describe(
      'Time to the first byte of the answer, and the longest silence mid-body unless `idle_timeout` is set; then 504.',
    ),
  /** Time to establish the TCP (and TLS) connection. */
  connect_timeout: durationMs
    .prefault(DEFAULT_UPSTREAM_CONNECT_TIMEOUT)
    .describe('Time to establish the TCP (and TLS) connection; then 502.'),
  /** Longest silence in the middle of a body; default: `timeout`. */
  idle_timeout: durationMs
    .optional()
    .describe('Longest silence in the middle of a body (default: `timeout`).'),
  /** Client certificate and key (PEM) for upstreams that require mutual TLS. */
  client_cert: secretRef
    .optional()
    .describe('Client certificate (PEM) for an upstream that requires mutual TLS.'),
  client_key: secretRef.optional().describe('Its private key (PEM).'),
  max_sockets: z
    .int()
    .min(1)
    .default(DEFAULT_UPSTREAM_MAX_SOCKETS)
    .describe('Keep-alive connection pool size to this upstream.'),
  /** Extra CA bundle (PEM) trusted for this upstream, besides the system roots. */
  ca: secretRef.optional().describe('Extra CA (PEM) trusted for this upstream, besides the system roots.'),
  /** Opt-in: allow an http:// URL (credentials and modules cross the network in clear text). */
  allow_insecure_http: z
    .boolean()
    .default(false)
    .meta(unsafe(true, 'credentials and modules may cross the network in clear text'))
    .describe(
      'Opt-in: allow an `http://` URL (credentials and modules cross the network in clear); warned about at start and by check-config.',
    ),
  /** The credential (see `credentials`) used when a route names none. */
  credential: z
    .string()
    .optional()
    .describe('The credential (see `credentials`) sent when a route names none.'),
  circuit_breaker: breakerSchema
    .prefault({})
    .describe('Stops calling a failing upstream: open → 503 with `Retry-After` until a probe succeeds.'),
  /** Another upstream that serves public routes while this one's circuit is open or it is unreachable. */
  fallback: z
    .string()
    .optional()
    .describe(
      "Another upstream that serves public routes while this one's circuit is open or it is unreachable (never private routes).",
    ),
  /** A module this upstream must list (`@v/list`) for modgate to call it ready (/readyz, check-config). */
  probe_module: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A module this upstream must list (`@v/list`) for `/readyz` and check-config to call it ready; without it readiness only warns.',
    ),
};

const upstreamSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z
      .literal('athens')
      .describe(
        '`athens` (GOPROXY protocol at `url`), `artifactory` (`<url>/api/go/<repository>`) or `dir` (a GOPROXY-layout folder served read-only).',
      ),
    url: httpUrl.describe('Base URL; for Athens it may carry a path prefix.'),
    /** Athens' one static basic-auth user (shorthand for a static credential). */
    username: z
      .string()
      .min(1)
      .optional()
      .describe("Athens' one static basic-auth user (shorthand for a `static` credential)."),
    password: secretRef.optional().describe("That user's password."),
    ...remoteFields,
  }),
  z.strictObject({
    kind: z.literal('artifactory'),
    /** The Artifactory base, e.g. https://artifactory.corp.example/artifactory */
    url: httpUrl,
    /** The Go repository key: requests go to <url>/api/go/<repository>/... */
    repository: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be an Artifactory repository key')
      .describe('The Artifactory Go repository key (a virtual repository usually).'),
    /** follow: modgate follows download redirects (credentials only to the same host); disable: asks Artifactory not to redirect. */
    redirects: z
      .enum(['follow', 'disable'])
      .default('follow')
      .describe(
        '`follow`: modgate follows download redirects itself (credentials only to the same host); `disable`: sends `X-JFrog-Download-Redirect-To: None`.',
      ),
    ...remoteFields,
  }),
  z.strictObject({
    kind: z.literal('dir'),
    path: z
      .string()
      .min(1)
      .describe('The folder (GOPROXY layout: `<module>/@v/list`, `<version>.info|.mod|.zip`).'),
  }),
]);

export const upstreamsSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'upstream names: lowercase letters, digits, dashes'),
    upstreamSchema,
  )
  .describe(
    'The module proxies behind modgate, by name (lowercase letters, digits, dashes). Policy routes and `default_upstream` refer to these names.',
  );

export const defaultUpstreamSchema = z.string().describe('The upstream for modules no policy route matches.');

type UpstreamsConfig = z.output<typeof upstreamsSchema>;
const plainHttp = 'is plain http; set allow_insecure_http: true to accept that';

/** Cross-field rules of `upstreams:` and `default_upstream:` (run once the whole file has its shape). */
export function upstreamRules(
  config: { upstreams: UpstreamsConfig; default_upstream: string; credentials: Record<string, unknown> },
  ctx: ConfigCtx,
): void {
  const at = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (!(config.default_upstream in config.upstreams)) {
    at(
      ['default_upstream'],
      `names no upstream (defined: ${Object.keys(config.upstreams).join(', ') || 'none'})`,
    );
  }
  const credentialNames = Object.keys(config.credentials);
  for (const [name, up] of Object.entries(config.upstreams)) {
    if (up.kind === 'dir') continue;
    if (up.url.startsWith('http:') && !up.allow_insecure_http) at(['upstreams', name, 'url'], plainHttp);
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
}

type RemoteConfig = Extract<UpstreamsConfig[string], { kind: 'athens' | 'artifactory' }>;

/** An upstream that speaks the GOPROXY protocol over HTTP, with its secrets read; durations in milliseconds. */
function remoteUpstream(name: string, up: RemoteConfig, ctx: ConfigCtx) {
  const base = up.url.replace(/\/+$/, '');
  return {
    kind: up.kind,
    name,
    /** Where GOPROXY paths are appended: Athens' root (or prefix), or <artifactory>/api/go/<repository>. */
    url: new URL(up.kind === 'artifactory' ? `${base}/api/go/${up.repository}` : base),
    /** Athens' one static basic-auth user, if it has one (shorthand for a static credential). */
    basicAuth:
      up.kind === 'athens' && up.username !== undefined && up.password !== undefined
        ? { username: up.username, password: secretAt(ctx, up.password, [name, 'password']) }
        : undefined,
    /** Name of the credential used when a route names none. */
    credential: up.credential,
    timeoutMs: up.timeout,
    connectTimeoutMs: up.connect_timeout,
    idleTimeoutMs: up.idle_timeout ?? up.timeout,
    maxSockets: up.max_sockets,
    /** Extra CA certificates (PEM) trusted besides the system roots. */
    ca: optionalSecretAt(ctx, up.ca, [name, 'ca']),
    /** Client certificate and key (PEM) for mutual TLS. */
    clientCert:
      up.client_cert === undefined || up.client_key === undefined
        ? undefined
        : {
            cert: secretAt(ctx, up.client_cert, [name, 'client_cert']),
            key: secretAt(ctx, up.client_key, [name, 'client_key']),
          },
    /** Artifactory only: `disable` sends `X-JFrog-Download-Redirect-To: None`. */
    redirects: up.kind === 'artifactory' ? up.redirects : ('follow' as const),
    breaker: {
      failures: up.circuit_breaker.failures,
      coolDownMs: up.circuit_breaker.cool_down,
      halfOpenProbes: up.circuit_breaker.half_open_probes,
    },
    fallback: up.fallback,
    /** A module the upstream must list for readiness, if configured. */
    probeModule: up.probe_module,
  };
}

/** One upstream as the forwarding code takes it. */
const upstreamSettings = (name: string, up: UpstreamsConfig[string], ctx: ConfigCtx) =>
  up.kind === 'dir'
    ? { kind: 'dir' as const, name, path: configPath(up.path) }
    : remoteUpstream(name, up, ctx);

/** `upstreams:` by name, with secrets read and folders made absolute. */
export const upstreamsSettingsSchema = upstreamsSchema.transform((upstreams, ctx) =>
  Object.fromEntries(Object.entries(upstreams).map(([name, up]) => [name, upstreamSettings(name, up, ctx)])),
);

export type UpstreamSettings = Readonly<z.output<typeof upstreamsSettingsSchema>[string]>;
/** An upstream that speaks the GOPROXY protocol over HTTP: Athens, or an Artifactory Go repository. */
export type RemoteUpstreamSettings = Exclude<UpstreamSettings, { kind: 'dir' }>;
