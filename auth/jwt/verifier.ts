/**
 * Verifies JWTs issued by the configured identity providers (RFC 7519,
 * RFC 9068 for JWT access tokens) and maps them to a directory user or a
 * configured service identity. Plain values in, a principal out: the
 * gateway's authenticator turns it into an `Identity` with method `jwt`.
 *
 * Order of checks, cheapest and safest first: shape → unverified `iss` picks
 * the issuer (unknown → reject, nothing fetched) → header `alg` against the
 * issuer's allowlist (never `none`, never HMAC: the key is public) →
 * signature with the issuer's JWKS → `iss`, `aud`, `exp`, `nbf` with clock
 * tolerance → subject mapping → directory lookup.
 */

import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { ModgateError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import type { DirectoryUser } from '../directory.ts';
import { type IdpCallObserver, IssuerKeys } from './issuer-keys.ts';
import { fromJoseError, JWT_REASONS } from './jose-errors.ts';
import { ServiceIdentities, type ServiceIdentity } from './service-identity.ts';

/** Public-key JWS algorithms accepted unless an issuer narrows them (RFC 7518 §3.1, RFC 8037). */
export const DEFAULT_ALGORITHMS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
/** Allowed difference between modgate's clock and the IdP's when checking `exp`/`nbf`/`iat` (seconds). */
export const DEFAULT_CLOCK_TOLERANCE_S = 30;
/** Claim naming the directory user, unless an issuer says otherwise. */
export const DEFAULT_USER_CLAIM = 'preferred_username';

/** Message when the token's user is unknown to or disabled in the directory (the two are indistinguishable). */
export const TOKEN_USER_REJECTED = 'token user is unknown or disabled in the directory';
/** Message when the configured user claim is missing or not a string. */
export const TOKEN_USER_CLAIM_MISSING = 'token does not name a user';

/** One trusted issuer. */
export interface JwtIssuerConfig {
  /** Exact `iss` value; also the discovery base. */
  readonly issuer: string;
  /** Accepted `aud` values; a token must carry at least one of them. */
  readonly audiences: readonly string[];
  /** Skip discovery and fetch keys here. */
  readonly jwksUri?: string | undefined;
  /** Allowed `alg` values: a subset of DEFAULT_ALGORITHMS. */
  readonly algorithms?: readonly string[] | undefined;
  /** Claim holding the directory user name (`preferred_username`, `sub`, `email`, ...). */
  readonly userClaim?: string | undefined;
  /** Suffix removed from the claim value before the lookup, e.g. `@corp.example`. */
  readonly stripSuffix?: string | undefined;
}

/** Everything the verifier needs; durations in milliseconds unless named otherwise. */
export interface JwtVerifierOptions {
  readonly issuers: readonly JwtIssuerConfig[];
  readonly serviceIdentities?: readonly ServiceIdentity[] | undefined;
  /** Directory lookup: the user with groups, or undefined when unknown or disabled. */
  readonly lookup: (username: string) => Promise<DirectoryUser | undefined>;
  readonly clockToleranceS?: number | undefined;
  readonly jwksCooldownMs?: number | undefined;
  readonly jwksCacheMaxAgeMs?: number | undefined;
  readonly idpTimeoutMs?: number | undefined;
  /** Allow `http:` issuers. Unsafe outside tests. */
  readonly allowInsecureHttp?: boolean | undefined;
  /** Hears every call to an IdP (discovery, JWKS), for metrics. */
  readonly onIdpCall?: IdpCallObserver | undefined;
}

/** Who a verified token speaks for. */
export interface JwtPrincipal extends Principal {
  /** `user`: a directory user; `service`: a configured service identity (no directory user). */
  readonly kind: 'user' | 'service';
  readonly issuer: string;
  readonly subject: string | undefined;
  /** `exp` in milliseconds since the epoch: a cache of this result must not outlive it. */
  readonly expiresAtMs: number;
}

interface Issuer {
  readonly config: JwtIssuerConfig;
  readonly algorithms: readonly string[];
  readonly keys: IssuerKeys;
}

function reject(reason: string, detail: Record<string, unknown> = {}): ModgateError {
  return new ModgateError('auth.invalid_credentials', reason, { detail });
}

/** Verifies IdP-issued JWTs; one instance per configuration, shared by all requests. */
export class JwtVerifier {
  readonly #issuers: ReadonlyMap<string, Issuer>;
  readonly #services: ServiceIdentities;
  readonly #lookup: JwtVerifierOptions['lookup'];
  readonly #clockToleranceS: number;

  /** Throws `config.invalid` for a disallowed algorithm, a duplicate issuer, no audience, or a non-https URL. */
  constructor(options: JwtVerifierOptions) {
    const issuers = new Map<string, Issuer>();
    for (const config of options.issuers) {
      if (issuers.has(config.issuer)) {
        throw new ModgateError('config.invalid', `issuer ${config.issuer} is configured twice`);
      }
      if (config.audiences.length === 0) {
        throw new ModgateError('config.invalid', `issuer ${config.issuer} needs at least one audience`);
      }
      const algorithms = config.algorithms ?? DEFAULT_ALGORITHMS;
      for (const alg of algorithms) {
        if (!DEFAULT_ALGORITHMS.includes(alg)) {
          throw new ModgateError(
            'config.invalid',
            `issuer ${config.issuer}: algorithm ${alg} is not allowed (public-key algorithms only: ${DEFAULT_ALGORITHMS.join(', ')})`,
          );
        }
      }
      const keys = new IssuerKeys({
        issuer: config.issuer,
        jwksUri: config.jwksUri,
        timeoutMs: options.idpTimeoutMs,
        cooldownMs: options.jwksCooldownMs,
        cacheMaxAgeMs: options.jwksCacheMaxAgeMs,
        allowInsecureHttp: options.allowInsecureHttp,
        onIdpCall: options.onIdpCall,
      });
      issuers.set(config.issuer, { config, algorithms, keys });
    }
    this.#issuers = issuers;
    this.#services = new ServiceIdentities(options.serviceIdentities ?? []);
    this.#lookup = options.lookup;
    this.#clockToleranceS = options.clockToleranceS ?? DEFAULT_CLOCK_TOLERANCE_S;
  }

  /**
   * Verifies `token` and returns who it speaks for. Throws ModgateError:
   * `auth.invalid_credentials` (bad, expired, foreign or unmapped token, user
   * unknown or disabled), `auth.directory_unavailable` (IdP keys or the
   * directory could not be reached).
   */
  async verify(token: string): Promise<JwtPrincipal> {
    let alg: unknown;
    let unverifiedIss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      unverifiedIss = decodeJwt(token).iss;
    } catch (cause) {
      throw new ModgateError('auth.invalid_credentials', JWT_REASONS.malformed, { cause });
    }
    const issuer = typeof unverifiedIss === 'string' ? this.#issuers.get(unverifiedIss) : undefined;
    if (issuer === undefined) throw reject(JWT_REASONS.issuer, { iss: unverifiedIss });
    if (typeof alg !== 'string' || !issuer.algorithms.includes(alg)) {
      throw reject(JWT_REASONS.algorithm, { alg, iss: issuer.config.issuer });
    }

    const detail = { iss: issuer.config.issuer };
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      const getKey = await issuer.keys.keySet();
      ({ payload } = await jwtVerify(token, getKey, {
        issuer: issuer.config.issuer,
        audience: [...issuer.config.audiences],
        algorithms: [...issuer.algorithms],
        clockTolerance: this.#clockToleranceS,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw fromJoseError(err, detail);
    }
    const expiresAtMs = (payload.exp ?? 0) * 1000;
    const subject = payload.sub;

    const service = subject === undefined ? undefined : this.#services.match(issuer.config.issuer, subject);
    if (service !== undefined) {
      return {
        user: service.name,
        groups: service.groups,
        kind: 'service',
        issuer: service.issuer,
        subject,
        expiresAtMs,
      };
    }

    const claim = issuer.config.userClaim ?? DEFAULT_USER_CLAIM;
    const value = payload[claim];
    if (typeof value !== 'string' || value === '')
      throw reject(TOKEN_USER_CLAIM_MISSING, { ...detail, claim });
    const username = stripSuffix(value, issuer.config.stripSuffix);
    const user = await this.#lookup(username);
    if (user === undefined) throw reject(TOKEN_USER_REJECTED, { ...detail, user: username });
    return {
      user: user.user,
      groups: user.groups,
      kind: 'user',
      issuer: issuer.config.issuer,
      subject,
      expiresAtMs,
    };
  }
}

/** `value` without `suffix` when it ends with it (case-insensitive, as domains are). */
export function stripSuffix(value: string, suffix: string | undefined): string {
  if (suffix === undefined || suffix === '') return value;
  return value.length > suffix.length && value.toLowerCase().endsWith(suffix.toLowerCase())
    ? value.slice(0, -suffix.length)
    : value;
}
