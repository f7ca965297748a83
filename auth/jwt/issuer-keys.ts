/**
 * The signing keys of one trusted issuer: OIDC discovery
 * (`<issuer>/.well-known/openid-configuration`, OpenID Connect Discovery 1.0
 * §4) to find `jwks_uri`, then jose's remote JWKS with a refetch cooldown so
 * tokens with unknown `kid`s cannot make modgate hammer the IdP.
 */
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from 'jose';
import { ModgateError } from '../../core/errors.ts';
import { JWT_REASONS } from './jose-errors.ts';

/** Timeout of one discovery or JWKS request (milliseconds). */
export const DEFAULT_IDP_TIMEOUT_MS = 5_000;
/** Least time between two JWKS fetches triggered by an unknown `kid` (milliseconds). */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** Age after which a fetched JWKS is fetched again on next use (milliseconds). */
export const DEFAULT_JWKS_CACHE_MAX_AGE_MS = 600_000;
/** Least time between two discovery attempts after one failed (milliseconds). */
export const DEFAULT_DISCOVERY_RETRY_MS = 10_000;

/** How keys of one issuer are found and cached. */
export interface IssuerKeysOptions {
  /** Exact issuer identifier (`iss`). */
  readonly issuer: string;
  /** Skip discovery and use this JWKS URL. */
  readonly jwksUri?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly cooldownMs?: number | undefined;
  readonly cacheMaxAgeMs?: number | undefined;
  readonly discoveryRetryMs?: number | undefined;
  /** Allow `http:` issuer and JWKS URLs. Unsafe outside tests: keys could be swapped in transit. */
  readonly allowInsecureHttp?: boolean | undefined;
  readonly now?: (() => number) | undefined;
  /** Hears every call to the IdP (discovery, JWKS) with its duration, for metrics. */
  readonly onIdpCall?: IdpCallObserver | undefined;
}

/** The kinds of IdP call modgate makes: OIDC discovery, JWKS, RFC 7662 introspection. */
export type IdpCall = 'discovery' | 'jwks' | 'introspection';

/** Reports one IdP call: which kind, how long it took (ms), whether it answered (200). */
export type IdpCallObserver = (call: IdpCall, ms: number, ok: boolean) => void;

/** `fetch`, timed for `observe`. */
function timedFetch(call: 'discovery' | 'jwks', observe: IdpCallObserver | undefined): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    try {
      const res = await fetch(input, init);
      observe?.(call, performance.now() - started, res.status === 200);
      return res;
    } catch (err) {
      observe?.(call, performance.now() - started, false);
      throw err;
    }
  };
}

function idpUnavailable(why: string, detail: Record<string, unknown>, cause?: unknown): ModgateError {
  return new ModgateError('auth.directory_unavailable', JWT_REASONS.idpUnavailable, {
    cause,
    detail: { why, ...detail },
  });
}

/** Resolves and caches the key set of one issuer; `getKey` is what jose's `jwtVerify` takes. */
export class IssuerKeys {
  readonly #options: IssuerKeysOptions;
  readonly #now: () => number;
  #keys: Promise<JWTVerifyGetKey> | undefined;
  #failedAt = Number.NEGATIVE_INFINITY;
  #lastError: ModgateError | undefined;

  constructor(options: IssuerKeysOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    if (options.jwksUri !== undefined) this.#checkUrl(options.jwksUri, 'jwks_uri');
    this.#checkUrl(options.issuer, 'issuer');
  }

  /** The remote key set, discovering `jwks_uri` on first use; a failed discovery is retried after a pause. */
  keySet(): Promise<JWTVerifyGetKey> {
    if (this.#keys !== undefined) return this.#keys;
    const retryMs = this.#options.discoveryRetryMs ?? DEFAULT_DISCOVERY_RETRY_MS;
    if (this.#lastError !== undefined && this.#now() - this.#failedAt < retryMs) {
      return Promise.reject(this.#lastError);
    }
    const keys = this.#discover().then(
      (jwksUri) =>
        createRemoteJWKSet(new URL(jwksUri), {
          timeoutDuration: this.#options.timeoutMs ?? DEFAULT_IDP_TIMEOUT_MS,
          cooldownDuration: this.#options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
          cacheMaxAge: this.#options.cacheMaxAgeMs ?? DEFAULT_JWKS_CACHE_MAX_AGE_MS,
          [customFetch]: timedFetch('jwks', this.#options.onIdpCall),
        }),
      (err: unknown) => {
        this.#keys = undefined;
        this.#failedAt = this.#now();
        this.#lastError =
          err instanceof ModgateError
            ? err
            : idpUnavailable('discovery failed', { issuer: this.#options.issuer }, err);
        throw this.#lastError;
      },
    );
    this.#keys = keys;
    return keys;
  }

  async #discover(): Promise<string> {
    if (this.#options.jwksUri !== undefined) return this.#options.jwksUri;
    const issuer = this.#options.issuer;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await timedFetch('discovery', this.#options.onIdpCall)(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? DEFAULT_IDP_TIMEOUT_MS),
    });
    if (res.status !== 200) throw idpUnavailable('discovery answered non-200', { url, status: res.status });
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OIDC Discovery §4.3: the issuer in the document must equal the one configured.
    if (doc.issuer !== issuer)
      throw idpUnavailable('discovery issuer mismatch', { url, announced: doc.issuer });
    if (typeof doc.jwks_uri !== 'string') throw idpUnavailable('discovery without jwks_uri', { url });
    this.#checkUrl(doc.jwks_uri, 'jwks_uri', true);
    return doc.jwks_uri;
  }

  #checkUrl(text: string, what: string, discovered = false): void {
    let url: URL;
    try {
      url = new URL(text);
    } catch (cause) {
      throw new ModgateError('config.invalid', `${what} "${text}" is not a URL`, { cause });
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && this.#options.allowInsecureHttp === true))
      return;
    if (discovered) throw idpUnavailable(`discovered ${what} is not https`, { url: text });
    throw new ModgateError(
      'config.invalid',
      `${what} "${text}" must be https (allow_insecure_http is for tests only)`,
    );
  }
}
