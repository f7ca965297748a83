import { isModgateError, ModgateError } from '../core/errors.ts';
import { parseBasic, schemeOf } from './basic.ts';
import { type Directory, type DirectoryUser, INVALID_CREDENTIALS } from './directory.ts';
import type { Identity } from './identity.ts';
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
}

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
 * method from the credential's shape (today: Basic → directory password);
 * later methods (JWT, personal tokens) plug in by shape, not by trial.
 */
export class Authenticator {
  readonly #directory: Directory;
  readonly #cache: VerifiedCache<DirectoryUser>;

  readonly #revocations: RevocationCheck | undefined;
  readonly #rejected: NegativeCache;

  constructor(options: AuthenticatorOptions) {
    this.#directory = options.directory;
    this.#revocations = options.revocations;
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
    this.#revocations?.onRevoke((user) => this.#cache.deleteWhere((u) => u.name === user));
    this.#rejected = new NegativeCache(
      options.negativeTtlMs ?? 0,
      options.cacheMaxEntries,
      options.sharedCache,
    );
  }

  /** Authenticates an Authorization header value (undefined when the request had none). */
  async authenticate(authorization: string | undefined): Promise<Identity> {
    if (authorization === undefined || authorization === '') {
      throw new ModgateError('auth.missing', 'authentication required');
    }
    if (schemeOf(authorization) !== 'basic') {
      throw new ModgateError(
        'auth.malformed',
        `unsupported authorization scheme "${schemeOf(authorization).slice(0, 20)}"; use Basic`,
      );
    }
    const { username, password } = parseBasic(authorization);
    const key = this.#cache.keyOf('basic', username, password);
    if (await this.#rejected.has(key))
      throw new ModgateError('auth.invalid_credentials', INVALID_CREDENTIALS);
    const user = await this.#cache
      .getOrVerify(key, async () => {
        const verified = await this.#directory.verifyPassword(username, password);
        await this.#revocations?.assertNotRevokedShared(verified.name);
        return verified;
      })
      .catch(async (err: unknown) => {
        if (isModgateError(err, 'auth.invalid_credentials')) await this.#rejected.add(key);
        throw err;
      });
    this.#revocations?.assertNotRevoked(user.name);
    return { user: user.name, groups: user.groups, method: 'basic' };
  }

  async close(): Promise<void> {
    await this.#directory.close();
  }
}

/** A user as another process cached it, or undefined when the text is not one. */
function decodeUser(text: string): DirectoryUser | undefined {
  try {
    const v = JSON.parse(text) as { name?: unknown; groups?: unknown };
    if (
      typeof v.name !== 'string' ||
      !Array.isArray(v.groups) ||
      !v.groups.every((g) => typeof g === 'string')
    ) {
      return undefined;
    }
    return { name: v.name, groups: v.groups as string[] };
  } catch {
    return undefined;
  }
}
