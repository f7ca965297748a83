import type { DirectoryUser } from '../../auth/directory.ts';
import type { IssuedPat, PersonalTokens } from '../../auth/pat/personal-tokens.ts';
import { type TokenRecord, type TokenRegistry, tokenName } from '../../auth/pat/token-registry.ts';
import { ModgateError } from '../../core/errors.ts';

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

  constructor(tokens: PersonalTokens, registry: TokenRegistry, ttlMs: number) {
    this.#tokens = tokens;
    this.#registry = registry;
    this.#ttlMs = ttlMs;
  }

  /** Lifetime of the tokens this mints (ms). */
  get tokenTtlMs(): number {
    return this.#ttlMs;
  }

  /** Mints a token for `owner` and records it (without the token) in their list. */
  async mint(owner: DirectoryUser, name: string | undefined, via: TokenRecord['via']): Promise<IssuedPat> {
    const issued = await this.#tokens.issue(owner.user, this.#ttlMs);
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
