import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { isModgateError, ModgateError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import { basicAuthorization, type CredentialProvider } from './credential.ts';
import { type FormResponse, postForm } from './post-form.ts';
import { type GroupAllowlist, ScopeTemplate } from './scope.ts';
import { MemoryTokenCache, type TokenCache } from './token-cache.ts';

/** "Create Token" of the JFrog Platform Access API, relative to the platform URL. */
export const ARTIFACTORY_TOKENS_PATH = '/access/api/v1/tokens';
/** Default scope template: the union of the subject's (allowed) groups' permissions. */
export const DEFAULT_SCOPE_TEMPLATE = 'applied-permissions/groups:{groups}';
/** Default lifetime asked for a minted token (seconds). */
export const DEFAULT_TOKEN_EXPIRES_IN_S = 15 * 60;
/** Default margin before expiry at which a cached token is minted anew (milliseconds). */
export const DEFAULT_REFRESH_BEFORE_MS = 60_000;
/** Default deadline of one mint request, connect to last byte (milliseconds). */
export const DEFAULT_MINT_TIMEOUT_MS = 10_000;
/** Sockets kept to the token endpoint (sockets). */
const MINT_MAX_SOCKETS = 8;
/** Longest Artifactory error text copied into an error's log detail (characters). */
const MAX_REASON_CHARS = 200;

export interface ArtifactoryTokenOptions {
  /** Credential name in gateway.yaml. */
  readonly name: string;
  /** The JFrog Platform URL (`https://host`, or with a path prefix); the token endpoint is below it. */
  readonly url: URL;
  /** Admin (or identity) token allowed to mint tokens for other users with groups scopes; a secret. */
  readonly adminToken: string;
  /** Default {@link DEFAULT_SCOPE_TEMPLATE}. */
  readonly scope?: string;
  /** Which subject groups may enter `{groups}`; see gateway/credentials/scope.ts. */
  readonly allowedGroups?: GroupAllowlist;
  /** Lifetime asked for each token (seconds); default {@link DEFAULT_TOKEN_EXPIRES_IN_S}. */
  readonly expiresInS?: number;
  /** Mint anew this long before a token expires (milliseconds); default {@link DEFAULT_REFRESH_BEFORE_MS}. */
  readonly refreshBeforeMs?: number;
  /** Deadline of one mint (milliseconds); default {@link DEFAULT_MINT_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Extra CA certificate(s) (PEM) trusted for https besides the system roots. */
  readonly ca?: string;
  /** Allow a plain-http token endpoint, which exposes the admin token on the wire. Opt-in, for tests and labs. */
  readonly allowInsecureHttp?: boolean;
  /** Where tokens wait for reuse; default an in-process {@link MemoryTokenCache}. */
  readonly cache?: TokenCache;
  /** Clock in milliseconds, for tests; also handed to the default cache. */
  readonly now?: () => number;
}

/**
 * Per-user scoped Artifactory tokens (docs/configuration.md `credentials`): for each
 * subject, mints with the admin token a short-lived token for the subject's
 * user name and a scope rendered from the template (JFrog REST APIs,
 * "Create Token": form fields `username`, `scope`, `expires_in`,
 * `refreshable`), and answers `Basic <user>:<token>`, so Artifactory enforces
 * that scope and logs the real user (JFrog: Basic with a token needs the
 * token's subject as user name).
 *
 * Tokens are cached per (user, scope) until `refreshBeforeMs` before expiry;
 * concurrent callers for one key share one mint (no thundering herd, per
 * process). A failed mint is not cached; the next call tries again.
 */
export class ArtifactoryTokenCredential implements CredentialProvider {
  readonly kind = 'artifactory-token';
  readonly name: string;
  readonly scope: ScopeTemplate;
  readonly #tokensUrl: URL;
  readonly #adminAuthorization: string;
  readonly #expiresInS: number;
  readonly #refreshBeforeMs: number;
  readonly #timeoutMs: number;
  readonly #agent: HttpAgent;
  readonly #cache: TokenCache;
  readonly #now: () => number;
  readonly #inFlight = new Map<string, Promise<string>>();
  readonly #what: string;
  #closed = false;

  /** Throws `config.invalid` for a bad URL, lifetime, margin, timeout or scope template. */
  constructor(options: ArtifactoryTokenOptions) {
    const invalid = (what: string) =>
      new ModgateError('config.invalid', `credential ${options.name}: ${what}`);
    this.name = options.name;
    this.#what = `credential ${options.name}: Artifactory token endpoint`;
    const { url } = options;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('url must be http(s)');
    if (url.protocol === 'http:' && options.allowInsecureHttp !== true)
      throw invalid('url is plain http, which exposes the admin token; use https or set allow_insecure_http');
    if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '')
      throw invalid('url must not hold credentials, a query or a fragment');
    this.#tokensUrl = new URL(`${url.origin}${url.pathname.replace(/\/+$/, '')}${ARTIFACTORY_TOKENS_PATH}`);
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(options.adminToken))
      throw invalid('admin token is empty or holds characters a Bearer token cannot');
    this.#adminAuthorization = `Bearer ${options.adminToken}`;
    this.#expiresInS = options.expiresInS ?? DEFAULT_TOKEN_EXPIRES_IN_S;
    this.#refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_MINT_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.#expiresInS) || this.#expiresInS < 1)
      throw invalid('expires_in must be a positive whole number of seconds');
    if (!Number.isSafeInteger(this.#refreshBeforeMs) || this.#refreshBeforeMs < 0)
      throw invalid('refresh_before must not be negative');
    if (this.#refreshBeforeMs >= this.#expiresInS * 1000)
      throw invalid('refresh_before must be shorter than expires_in');
    if (!Number.isSafeInteger(this.#timeoutMs) || this.#timeoutMs < 1)
      throw invalid('timeout must be positive');
    this.scope = new ScopeTemplate({
      name: options.name,
      template: options.scope ?? DEFAULT_SCOPE_TEMPLATE,
      ...(options.allowedGroups === undefined ? {} : { allowedGroups: options.allowedGroups }),
    });
    this.#now = options.now ?? Date.now;
    this.#cache = options.cache ?? new MemoryTokenCache({ now: this.#now });
    const agentOptions = { keepAlive: true, maxSockets: MINT_MAX_SOCKETS };
    this.#agent =
      url.protocol === 'https:'
        ? new HttpsAgent({
            ...agentOptions,
            ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }),
          })
        : new HttpAgent(agentOptions);
  }

  /**
   * `Basic base64(<user>:<token>)` for a token scoped to `subject`. Rejects
   * with `policy.denied` when the subject cannot get a scope (see
   * ScopeTemplate.render), and with the mint's failure otherwise.
   */
  async authorization(subject: Principal, signal?: AbortSignal): Promise<string> {
    if (this.#closed) throw new ModgateError('internal', `credential ${this.name} is closed`);
    const scope = this.scope.render(subject);
    const token = await abortable(this.#token(subject.user, scope), signal, this.name);
    return basicAuthorization(subject.user, token);
  }

  /** Drops the cached token for `subject`, e.g. after Artifactory answered 401 to it (revoked). */
  async forget(subject: Principal): Promise<void> {
    await this.#cache.delete(this.#key(subject.user, this.scope.render(subject)));
  }

  /** Refuses later calls and closes idle sockets; mints in flight fail. The cache is the caller's if it passed one. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#agent.destroy();
  }

  #key(user: string, scope: string): string {
    return JSON.stringify([this.name, user, scope]);
  }

  /** The cached token for (user, scope), or the one mint in flight for it, or a new mint. */
  #token(user: string, scope: string): Promise<string> {
    const key = this.#key(user, scope);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const lookup = (async () => {
      const cached = await this.#cache.get(key);
      if (cached !== undefined) return cached;
      const { token, ttlMs } = await this.#mint(user, scope);
      if (ttlMs >= 1) await this.#cache.set(key, token, ttlMs);
      return token;
    })().finally(() => {
      if (this.#inFlight.get(key) === lookup) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, lookup);
    return lookup;
  }

  /** One Create Token request; the TTL to cache the token for (may be ≤ 0: do not cache). */
  async #mint(user: string, scope: string): Promise<{ token: string; ttlMs: number }> {
    const started = this.#now();
    const res = await postForm(
      this.#tokensUrl,
      { username: user, scope, expires_in: String(this.#expiresInS), refreshable: 'false' },
      {
        what: this.#what,
        agent: this.#agent,
        authorization: this.#adminAuthorization,
        timeoutMs: this.#timeoutMs,
      },
    );
    if (res.status !== 200) throw this.#statusError(res, user, scope);
    const parsed = parseTokenResponse(res.body);
    if (parsed === undefined) {
      throw new ModgateError('upstream.bad_response', `${this.#what} answered without an access token`, {
        detail: { contentType: res.contentType, user, scope },
      });
    }
    const lifetimeMs = (parsed.expiresIn ?? this.#expiresInS) * 1000;
    return {
      token: parsed.accessToken,
      ttlMs: Math.floor(started + lifetimeMs - this.#refreshBeforeMs - this.#now()),
    };
  }

  #statusError(res: FormResponse, user: string, scope: string): ModgateError {
    const { status } = res;
    const detail = { status, reason: artifactoryReason(res.body), user, scope };
    if (status === 401) {
      return new ModgateError(
        'upstream.rejected_credential',
        `${this.#what} rejected modgate's admin token (401); tell the modgate operator`,
        { detail },
      );
    }
    if (status === 403) {
      return new ModgateError(
        'upstream.rejected_credential',
        `${this.#what} refused modgate's admin token a token for this user and scope (403); tell the modgate operator`,
        { detail },
      );
    }
    if (status >= 500)
      return new ModgateError('upstream.bad_response', `${this.#what} failed (${status})`, { detail });
    return new ModgateError(
      'upstream.bad_response',
      `${this.#what} refused to mint a token (${status}); tell the modgate operator`,
      { detail },
    );
  }
}

/** The useful fields of a Create Token answer, or undefined when it has no access token. */
function parseTokenResponse(body: string): { accessToken: string; expiresIn?: number } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null) return undefined;
  const { access_token: accessToken, expires_in: expiresIn } = json as Record<string, unknown>;
  if (typeof accessToken !== 'string' || !/^[\x21-\x7e]+$/.test(accessToken)) return undefined;
  // No expires_in: the token does not expire (or we asked and were not told); keep our own lifetime.
  return typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
    ? { accessToken, expiresIn }
    : { accessToken };
}

/** Artifactory's own error text (`{"errors":[{"message":...}]}`), shortened, for the log. */
function artifactoryReason(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { errors?: { message?: unknown }[] }).errors?.[0]?.message;
    return typeof message === 'string' ? message.slice(0, MAX_REASON_CHARS) : undefined;
  } catch {
    return undefined;
  }
}

/** `promise`, or a rejection as soon as `signal` aborts; the shared work itself goes on for other callers. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, name: string): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      const reason: unknown = signal.reason;
      reject(
        isModgateError(reason)
          ? reason
          : new ModgateError('upstream.timeout', `credential ${name}: gave up waiting for a token`, {
              cause: reason,
            }),
      );
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
