import { isModgateError, ModgateError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import { decodeUser } from './cached-lookup.ts';
import { type Directory, type DirectoryUser, INVALID_CREDENTIALS } from './directory.ts';
import type { Identity } from './identity.ts';
import { type CredentialShape, credentialShape } from './jwt/credential-shape.ts';
import { NegativeCache } from './negative-cache.ts';
import { type SharedCache, VerifiedCache } from './verified-cache.ts';

export interface AuthenticatorOptions {
  readonly directory: Directory;
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
  /** HMAC key for the verified-credential cache; random per process when undefined. */
  readonly cacheKey: string | undefined;
  /** A cache shared by every gateway process (needs the same `cacheKey` in each). */
  readonly sharedCache?: SharedCache;
  /** How long a rejected credential is rejected without asking the directory again (ms); 0 = off. */
  readonly negativeTtlMs?: number;
  /** Refuses revoked users, however they authenticated. */
  readonly revocations?: RevocationCheck;
  /** Token verifiers (each resolves the token's user with groups from the directory); absent = not accepted. */
  readonly tokens?: TokenVerifiers;
  /** The Basic user name whose password is a token, not a directory password (see CredentialShapeOptions). */
  readonly tokenLogin?: string | undefined;
}

/** Verifies a token and names its user, with the directory's groups (or a configured service identity's). */
export type TokenVerifier = (token: string) => Promise<Principal>;

export interface TokenVerifiers {
  readonly jwt?: TokenVerifier;
  readonly pat?: TokenVerifier;
  /** Opaque IdP access tokens (RFC 7662 introspection). */
  readonly opaque?: TokenVerifier;
}

/** Why a token of each kind is refused when no verifier for it is configured. */
const NOT_ACCEPTED = {
  jwt: 'JWTs are not accepted here (no issuer configured)',
  pat: 'personal tokens are not enabled',
  oidc: 'opaque tokens are not accepted here (no introspection configured)',
} as const;

/** The verifier of each token method. */
const VERIFIER_OF = { jwt: 'jwt', pat: 'pat', oidc: 'opaque' } as const;

/** Revocations as the authenticator sees them (the gateway keeps them in its state store). */
export interface RevocationCheck {
  /** Throws `auth.revoked` when the user is revoked. Cheap: answered from process memory. */
  assertNotRevoked(user: string): void;
  /** The same, asking the shared store (for credentials that were not in this process's memory). */
  assertNotRevokedShared(user: string): Promise<void>;
  /** Calls `drop` with each user revoked from now on, in any process. */
  onRevoke(drop: (user: string) => void): void;
}

/**
 * Establishes who is asking — only who, never whether they may. Picks the
 * method from the credential's shape (auth/jwt/credential-shape.ts), never
 * by trying each in turn.
 */
export class Authenticator {
  readonly #directory: Directory;
  readonly #cache: VerifiedCache<DirectoryUser>;

  readonly #revocations: RevocationCheck | undefined;
  readonly #rejected: NegativeCache;
  readonly #tokens: TokenVerifiers;
  readonly #tokenLogin: string | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#directory = options.directory;
    this.#tokenLogin = options.tokenLogin;
    this.#revocations = options.revocations;
    this.#tokens = options.tokens ?? {};
    this.#cache = new VerifiedCache({
      key: options.cacheKey,
      ttlMs: options.cacheTtlMs,
      maxEntries: options.cacheMaxEntries,
      shared: options.sharedCache && {
        cache: options.sharedCache,
        encode: JSON.stringify,
        decode: decodeUser,
      },
    });
    this.#revocations?.onRevoke((user) => this.#cache.deleteWhere((u) => u.user === user));
    this.#rejected = new NegativeCache(
      options.negativeTtlMs ?? 0,
      options.cacheMaxEntries,
      options.sharedCache,
    );
  }

  /** The shape of an Authorization header value, as this authenticator reads it. */
  shape(authorization: string | undefined): CredentialShape {
    return credentialShape(authorization, { tokenLogin: this.#tokenLogin });
  }

  /**
   * Authenticates an Authorization header value (undefined when the request
   * had none). The method follows from the credential's shape: a Basic
   * password that is a JWT or a modgate token, or any token after the token
   * login; a Bearer token (JWT, modgate token, or opaque: introspected); or a
   * password.
   */
  async authenticate(
    authorization: string | undefined,
    shape: CredentialShape = this.shape(authorization),
  ): Promise<Identity> {
    switch (shape.kind) {
      case 'missing':
        throw new ModgateError('auth.missing', 'authentication required');
      case 'basic-jwt':
      case 'bearer-jwt':
        return this.#token('jwt', shape.secret);
      case 'basic-pat':
      case 'bearer-pat':
        return this.#token('pat', shape.secret);
      case 'basic-opaque':
      case 'bearer-opaque':
        return this.#token('oidc', shape.secret);
      case 'basic-password':
        return this.#password(shape.username, shape.secret);
      case 'malformed':
        throw new ModgateError('auth.malformed', shape.reason);
    }
  }

  /**
   * A JWT from a configured IdP, a modgate personal token, or an opaque IdP
   * access token: the owner's groups come from the directory now.
   */
  async #token(method: keyof typeof VERIFIER_OF, token: string): Promise<Identity> {
    const verifier = this.#tokens[VERIFIER_OF[method]];
    if (!verifier) throw new ModgateError('auth.invalid_credentials', NOT_ACCEPTED[method]);
    const principal = await verifier(token);
    this.#revocations?.assertNotRevoked(principal.user);
    return { user: principal.user, groups: principal.groups, method };
  }

  async #password(username: string, password: string): Promise<Identity> {
    const key = this.#cache.keyOf('basic', username, password);
    if (await this.#rejected.has(key))
      throw new ModgateError('auth.invalid_credentials', INVALID_CREDENTIALS);
    const user = await this.#cache
      .getOrVerify(key, async () => {
        const verified = await this.#directory.verifyPassword(username, password);
        await this.#revocations?.assertNotRevokedShared(verified.user);
        return verified;
      })
      .catch(async (err: unknown) => {
        if (isModgateError(err, 'auth.invalid_credentials')) await this.#rejected.add(key);
        throw err;
      });
    this.#revocations?.assertNotRevoked(user.user);
    return { user: user.user, groups: user.groups, method: 'basic' };
  }

  async close(): Promise<void> {
    await this.#directory.close();
  }
}
