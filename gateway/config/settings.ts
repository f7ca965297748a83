import type { ServiceIdentity } from '../../auth/jwt/service-identity.ts';
import type { JwtIssuerConfig } from '../../auth/jwt/verifier.ts';
import type { LdapDirectoryOptions } from '../../auth/ldap-directory.ts';
import type { IntegrityConfig } from '../integrity/config.ts';
import type { StateSettings } from '../state/settings.ts';

/**
 * The gateway's runtime settings: `gateway.yaml` validated, defaults applied,
 * secrets resolved, paths made absolute, durations in milliseconds. Frozen.
 */
export interface GatewaySettings {
  readonly listen: {
    readonly host: string;
    readonly port: number;
    readonly publicUrl: string | undefined;
    readonly trustedProxies: readonly string[];
    /** From connecting until the request headers are complete (ms). */
    readonly headersTimeoutMs: number;
  };
  readonly abuse: {
    readonly key: string | undefined;
    readonly lockout: {
      readonly maxFailures: number;
      readonly windowMs: number;
      readonly lockMs: number;
    };
    readonly sourceThrottle: {
      readonly maxUsers: number;
      readonly windowMs: number;
      readonly durationMs: number;
      readonly delayMs: number;
    };
    readonly rateLimit: { readonly requests: number; readonly windowMs: number };
    readonly upstreamConcurrency: { readonly limit: number; readonly slotTtlMs: number };
  };
  readonly tls: { readonly cert: string; readonly key: string } | { readonly behindTlsTerminator: true };
  readonly directory:
    | { readonly kind: 'ldap'; readonly options: LdapDirectoryOptions }
    | { readonly kind: 'file'; readonly path: string };
  readonly auth: {
    readonly realm: string;
    readonly cacheTtlMs: number;
    readonly cacheMaxEntries: number;
    readonly negativeTtlMs: number;
    readonly cacheKey: string | undefined;
  };
  readonly upstreams: Readonly<Record<string, UpstreamSettings>>;
  readonly defaultUpstream: string;
  /** One warning line (`file:line: warning: unsafe setting …`) per opt-in unsafe setting that is on. */
  readonly unsafeSettings: readonly string[];
  /** Checksum database names served under `/sumdb/<name>/`. */
  readonly checksumDatabases: readonly string[];
  /** `integrity:` (gateway/integrity/config.ts), folders made absolute. */
  readonly integrity: IntegrityConfig;
  readonly credentials: Readonly<Record<string, CredentialSettings>>;
  readonly policy: { readonly path: string; readonly publishTimeCacheEntries: number };
  readonly audit:
    | { readonly sink: 'stdout' }
    | { readonly sink: 'file'; readonly path: string; readonly rotateBytes: number; readonly keep: number };
  readonly log: { readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
  readonly metrics:
    | { readonly host: string; readonly port: number; readonly token: string | undefined }
    | undefined;
  readonly shutdownTimeoutMs: number;
  readonly state: StateSettings;
  /** Worker processes to run; resolved from `auto`. */
  readonly workers: number;
  readonly admin: { readonly token: string } | undefined;
  readonly jwt:
    | {
        readonly clockSkewMs: number;
        readonly allowInsecureHttp: boolean;
        readonly issuers: readonly JwtIssuerConfig[];
        readonly serviceIdentities: readonly ServiceIdentity[];
        /** Opaque access tokens checked at the IdP, if configured. */
        readonly introspection: IntrospectionSettings | undefined;
      }
    | undefined;
  readonly personalTokens:
    | { readonly issuer: string; readonly keys: readonly { kid: string; pem: string }[] }
    | undefined;
  readonly sso: SsoSettings | undefined;
}

/** RFC 7662 introspection of opaque access tokens; see `jwt.introspection` in gateway/config/schema.ts. */
export interface IntrospectionSettings {
  readonly issuer: string;
  /** modgate's own client at the IdP (client authentication at the introspection endpoint). */
  readonly modgateClientId: string;
  readonly clientSecret: string;
  /** Accepted `aud` values; empty: `aud` is not checked. */
  readonly audiences: readonly string[];
  /** Accepted `client_id` values; empty: `client_id` is not checked. At least one of the two lists is non-empty. */
  readonly clientIds: readonly string[];
  /** Member of the introspection response naming the directory user. */
  readonly userClaim: string;
  readonly stripSuffix: string | undefined;
  /** The Basic user name (netrc `login`) whose password is an opaque token. */
  readonly netrcLogin: string;
  /** Longest reuse of an answer (ms). */
  readonly cacheMaxTtlMs: number;
}

/** Single sign-on for people (browser login, `modgate login`); see `sso:` in gateway/config/schema.ts. */
export interface SsoSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly userClaim: string;
  readonly stripSuffix: string | undefined;
  readonly sessionKey: string;
  readonly sessionTtlMs: number;
  readonly tokenTtlMs: number;
  /** Lifetime of the access tokens `modgate credential` refreshes from a sign-in. */
  readonly accessTokenTtlMs: number;
  readonly allowInsecureHttp: boolean;
  /** Where the browser comes back after login: `<listen.public_url>/login/callback`. */
  readonly redirectUri: string;
  /** modgate's public base URL (`listen.public_url`), without a trailing slash. */
  readonly publicUrl: string;
}

export type UpstreamSettings =
  | RemoteUpstreamSettings
  | { readonly kind: 'dir'; readonly name: string; readonly path: string };

/** An upstream that speaks the GOPROXY protocol over HTTP: Athens, or an Artifactory Go repository. */
export interface RemoteUpstreamSettings {
  readonly kind: 'athens' | 'artifactory';
  readonly name: string;
  /** Where GOPROXY paths are appended: Athens' root (or prefix), or <artifactory>/api/go/<repository>. */
  readonly url: URL;
  /** Athens' one static basic-auth user, if it has one (shorthand for a static credential). */
  readonly basicAuth: { readonly username: string; readonly password: string } | undefined;
  /** Name of the credential used when a route names none. */
  readonly credential: string | undefined;
  /** Time to the first byte of the answer. */
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Longest silence mid-body. */
  readonly idleTimeoutMs: number;
  readonly maxSockets: number;
  /** Extra CA certificates (PEM) trusted besides the system roots. */
  readonly ca: string | undefined;
  /** Client certificate and key (PEM) for mutual TLS. */
  readonly clientCert: { readonly cert: string; readonly key: string } | undefined;
  /** Artifactory only: `disable` sends `X-JFrog-Download-Redirect-To: None`. */
  readonly redirects: 'follow' | 'disable';
  readonly breaker: {
    readonly failures: number;
    readonly coolDownMs: number;
    readonly halfOpenProbes: number;
  };
  readonly fallback: string | undefined;
  /** A module the upstream must list for readiness, if configured. */
  readonly probeModule: string | undefined;
}

export type CredentialSettings =
  | {
      readonly kind: 'static';
      readonly name: string;
      readonly scheme: 'basic';
      readonly username: string;
      readonly password: string;
    }
  | { readonly kind: 'static'; readonly name: string; readonly scheme: 'bearer'; readonly token: string }
  | {
      readonly kind: 'artifactory-token';
      readonly name: string;
      readonly url: URL;
      readonly adminToken: string;
      readonly scope: string;
      readonly allowedGroups: readonly string[] | Readonly<Record<string, string>> | undefined;
      readonly expiresInS: number;
      readonly refreshBeforeMs: number;
      readonly timeoutMs: number;
      readonly ca: string | undefined;
      readonly allowInsecureHttp: boolean;
    };
