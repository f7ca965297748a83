import type { DirectoryUser } from '../../auth/directory.ts';
import type { IssuedPat, PatClaims, PatScope, PersonalTokens } from '../../auth/pat/personal-tokens.ts';
import { type TokenRecord, type TokenRegistry, tokenName } from '../../auth/pat/token-registry.ts';
import { ModgateError } from '../../core/errors.ts';

/** How refreshed access tokens are made: their lifetime, and who may still have one. */
export interface Refreshing {
  readonly accessTtlMs: number;
  readonly lookup: (user: string) => Promise<DirectoryUser | undefined>;
}

/** Label of a token minted without one. */
const DEFAULT_TOKEN_NAME = 'personal token';

/**
 * Personal tokens as their owners see them: mint one for yourself, list
 * yours, revoke one of yours. Used by the set-up page (browser session) and
 * by `modgate login` / `logout` (device grant, or the token itself).
 *
 * Owners are directory users that the caller has already established (SSO
 * login mapped to an enabled directory user). Tokens carry no groups: the
 * owner's groups are looked up at use time (gateway/pipeline/token-verifiers.ts).
 */
export class SelfService {
  readonly #tokens: PersonalTokens;
  readonly #registry: TokenRegistry;
  readonly #ttlMs: number;
  readonly #refreshing: Refreshing;

  constructor(tokens: PersonalTokens, registry: TokenRegistry, ttlMs: number, refreshing: Refreshing) {
    this.#tokens = tokens;
    this.#registry = registry;
    this.#ttlMs = ttlMs;
    this.#refreshing = refreshing;
  }

  /** Lifetime of the tokens this mints (ms). */
  get tokenTtlMs(): number {
    return this.#ttlMs;
  }

  /** Mints a token for `owner` and records it (without the token) in their list. */
  async mint(
    owner: DirectoryUser,
    name: string | undefined,
    via: TokenRecord['via'],
    scopes: readonly PatScope[] = ['goproxy:read'],
  ): Promise<IssuedPat> {
    const issued = await this.#tokens.issue(owner.user, this.#ttlMs, scopes);
    await this.#registry.add({
      jti: issued.jti,
      owner: issued.owner,
      name: tokenName(name, DEFAULT_TOKEN_NAME),
      scopes: issued.scopes,
      issuedAtMs: issued.issuedAtMs,
      expiresAtMs: issued.expiresAtMs,
      via,
    });
    return issued;
  }

  /**
   * A sign-in for `modgate credential`: a refresh token (listed, revocable,
   * living as long as any personal token) and a first short-lived access token from it.
   */
  async mintRefreshable(
    owner: DirectoryUser,
    name: string | undefined,
    via: TokenRecord['via'],
  ): Promise<{ refresh: IssuedPat; access: IssuedPat }> {
    const refresh = await this.mint(owner, name, via, ['token:refresh']);
    return { refresh, access: await this.#access(refresh) };
  }

  /**
   * A new short-lived access token from a refresh token: the refresh token
   * must verify (not revoked, not expired) and its owner be an enabled
   * directory user now. The access token dies with its refresh token.
   */
  async refresh(refreshToken: string): Promise<IssuedPat> {
    const claims = await this.#tokens.verify(refreshToken);
    if (!claims.scopes.includes('token:refresh')) {
      throw new ModgateError(
        'auth.invalid_credentials',
        'this token cannot refresh; sign in with modgate login',
      );
    }
    if ((await this.#refreshing.lookup(claims.owner)) === undefined) {
      throw new ModgateError(
        'auth.invalid_credentials',
        'the token owner is unknown or disabled in the directory',
      );
    }
    return this.#access(claims);
  }

  async #access(refresh: Pick<PatClaims, 'owner' | 'jti' | 'expiresAtMs'>): Promise<IssuedPat> {
    const left = refresh.expiresAtMs - Date.now();
    const ttl = Math.min(this.#refreshing.accessTtlMs, left);
    if (ttl < 1_000)
      throw new ModgateError('auth.invalid_credentials', 'the sign-in has expired; run modgate login');
    return this.#tokens.issue(refresh.owner, ttl, ['goproxy:read'], refresh.jti);
  }

  list(owner: string): Promise<TokenRecord[]> {
    return this.#registry.list(owner);
  }

  /** Revokes the owner's token `jti`; `request.invalid` when they have none by that id. */
  async revoke(owner: string, jti: string): Promise<TokenRecord> {
    const record = await this.#registry.remove(owner, jti);
    if (record === undefined) throw new ModgateError('request.invalid', 'no such token');
    await this.#tokens.revoke(record);
    return record;
  }

  /**
   * Revokes the token presented (`modgate logout`): it proves itself, so no
   * other login is needed. Throws what verification throws for a bad token.
   */
  async revokePresented(token: string): Promise<TokenRecord | { jti: string; owner: string }> {
    const claims = await this.#tokens.verify(token);
    await this.#tokens.revoke(claims);
    return (
      (await this.#registry.remove(claims.owner, claims.jti)) ?? { jti: claims.jti, owner: claims.owner }
    );
  }
}
