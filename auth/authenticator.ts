import { ModgateError } from '../core/errors.ts';
import { parseBasic, schemeOf } from './basic.ts';
import type { Directory, DirectoryUser } from './directory.ts';
import type { Identity } from './identity.ts';
import { VerifiedCache } from './verified-cache.ts';

export interface AuthenticatorOptions {
  readonly directory: Directory;
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
  /** HMAC key for the verified-credential cache; random per process when undefined. */
  readonly cacheKey: string | undefined;
}

/**
 * Establishes who is asking — only who, never whether they may. Picks the
 * method from the credential's shape (today: Basic → directory password);
 * later methods (JWT, personal tokens) plug in by shape, not by trial.
 */
export class Authenticator {
  readonly #directory: Directory;
  readonly #cache: VerifiedCache<DirectoryUser>;

  constructor(options: AuthenticatorOptions) {
    this.#directory = options.directory;
    this.#cache = new VerifiedCache({
      key: options.cacheKey,
      ttlMs: options.cacheTtlMs,
      maxEntries: options.cacheMaxEntries,
    });
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
    const user = await this.#cache.getOrVerify(key, () => this.#directory.verifyPassword(username, password));
    return { user: user.name, groups: user.groups, method: 'basic' };
  }

  async close(): Promise<void> {
    await this.#directory.close();
  }
}
