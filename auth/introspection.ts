/**
 * RFC 7662 token introspection for opaque access tokens, with
 * `openid-client` (client authentication with modgate's client id and
 * secret). Answers are cached by SHA-256 of the token until the token's
 * `exp`, but at most `cacheMaxTtlMs` (so a revocation at the IdP takes
 * effect within that time) and in at most `maxEntries` entries. Inactive
 * tokens are cached briefly too, so garbage tokens cannot make modgate
 * hammer the IdP.
 */
import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { BoundedMap } from '../core/bounded-map.ts';
import { ModgateError } from '../core/errors.ts';
import type { IdpCallObserver } from './jwt/issuer-keys.ts';

/**
 * Longest time an active answer is reused, whatever the token's `exp`
 * (milliseconds; 5 minutes). gateway.yaml's `jwt.introspection.cache_max_ttl`
 * default is derived from it.
 */
export const DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS = 5 * 60_000;
/** How long an inactive answer is reused (milliseconds). */
export const INACTIVE_CACHE_TTL_MS = 10_000;
/** Most cached answers; the oldest go first. */
export const DEFAULT_INTROSPECTION_CACHE_ENTRIES = 10_000;
/** Timeout of one discovery or introspection request (milliseconds). */
export const DEFAULT_INTROSPECTION_TIMEOUT_MS = 5_000;

/** Reasons a client sees. */
export const INTROSPECTION_REASONS = {
  inactive: 'token is not active',
  unavailable: 'identity provider is unavailable',
} as const;

export interface IntrospectionOptions {
  /** Issuer to discover (`/.well-known/openid-configuration`, else RFC 8414 metadata). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly cacheMaxTtlMs?: number | undefined;
  readonly maxEntries?: number | undefined;
  readonly timeoutMs?: number | undefined;
  /** Allow `http:` endpoints. Unsafe outside tests. */
  readonly allowInsecureHttp?: boolean | undefined;
  readonly now?: (() => number) | undefined;
  /** Hears every discovery and introspection call with its duration, for metrics. */
  readonly onIdpCall?: IdpCallObserver | undefined;
}

/** An active token as the IdP described it (RFC 7662 §2.2). */
export interface IntrospectedToken {
  readonly subject: string | undefined;
  /** RFC 7662 `username`, when the IdP gives one. */
  readonly username: string | undefined;
  readonly clientId: string | undefined;
  /** RFC 7662 `aud` (a string or a list of strings), as a list; empty when absent. */
  readonly audiences: readonly string[];
  readonly scope: string | undefined;
  /** `exp` in milliseconds since the epoch, if the IdP gave one. */
  readonly expiresAtMs: number | undefined;
  /** Every member of the response, for claim mapping. */
  readonly claims: Readonly<Record<string, unknown>>;
}

type Entry = { readonly token: IntrospectedToken | undefined; readonly until: number };

/** Introspects opaque tokens at one IdP, with a cache. */
export class TokenIntrospector {
  readonly #options: IntrospectionOptions;
  readonly #now: () => number;
  readonly #cache: BoundedMap<string, Entry>;
  readonly #inFlight = new Map<string, Promise<Entry>>();
  #config: Promise<oidc.Configuration> | undefined;

  constructor(options: IntrospectionOptions) {
    this.#options = options;
    this.#cache = new BoundedMap(options.maxEntries ?? DEFAULT_INTROSPECTION_CACHE_ENTRIES);
    this.#now = options.now ?? Date.now;
  }

  /**
   * The active token's description. Throws `auth.invalid_credentials`
   * (inactive, unknown, revoked or expired token) or
   * `auth.directory_unavailable` (the IdP could not answer).
   */
  async introspect(token: string): Promise<IntrospectedToken> {
    const key = createHash('sha256').update(token).digest('hex');
    let entry = this.#cache.get(key);
    if (entry !== undefined && entry.until <= this.#now()) {
      this.#cache.delete(key);
      entry = undefined;
    }
    if (entry === undefined) {
      let pending = this.#inFlight.get(key);
      if (pending === undefined) {
        pending = this.#ask(token).finally(() => this.#inFlight.delete(key));
        this.#inFlight.set(key, pending);
      }
      entry = await pending;
      this.#remember(key, entry);
    }
    if (entry.token === undefined) {
      throw new ModgateError('auth.invalid_credentials', INTROSPECTION_REASONS.inactive);
    }
    return entry.token;
  }

  async #ask(token: string): Promise<Entry> {
    let response: oidc.IntrospectionResponse;
    try {
      const config = await this.#configuration();
      response = await this.#timed('introspection', () => oidc.tokenIntrospection(config, token));
    } catch (cause) {
      this.#config = undefined;
      throw new ModgateError('auth.directory_unavailable', INTROSPECTION_REASONS.unavailable, {
        cause,
        detail: { issuer: this.#options.issuer },
      });
    }
    const now = this.#now();
    const expiresAtMs = typeof response.exp === 'number' ? response.exp * 1000 : undefined;
    if (response.active !== true || (expiresAtMs !== undefined && expiresAtMs <= now)) {
      return { token: undefined, until: now + INACTIVE_CACHE_TTL_MS };
    }
    const maxTtl = this.#options.cacheMaxTtlMs ?? DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return {
      token: {
        subject: str(response.sub),
        username: str(response.username),
        clientId: str(response.client_id),
        audiences: audienceList(response.aud),
        scope: str(response.scope),
        expiresAtMs,
        claims: { ...response },
      },
      until: Math.min(now + maxTtl, expiresAtMs ?? Number.POSITIVE_INFINITY),
    };
  }

  #remember(key: string, entry: Entry): void {
    this.#cache.set(key, entry);
  }

  /** Cached answers now held (for tests and metrics). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  #configuration(): Promise<oidc.Configuration> {
    this.#config ??= this.#timed('discovery', () =>
      oidc.discovery(
        new URL(this.#options.issuer),
        this.#options.clientId,
        this.#options.clientSecret,
        undefined,
        {
          timeout: Math.ceil((this.#options.timeoutMs ?? DEFAULT_INTROSPECTION_TIMEOUT_MS) / 1000),
          ...(this.#options.allowInsecureHttp === true ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      ),
    );
    return this.#config;
  }

  /** Runs one IdP call and reports its duration and whether it answered. */
  async #timed<T>(call: 'discovery' | 'introspection', run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      this.#options.onIdpCall?.(call, performance.now() - started, true);
      return result;
    } catch (err) {
      this.#options.onIdpCall?.(call, performance.now() - started, false);
      throw err;
    }
  }
}

/** `aud` as RFC 7662 §2.2 allows it (one string or an array of strings) → its strings; anything else → none. */
export function audienceList(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) return aud.filter((a): a is string => typeof a === 'string');
  return [];
}
