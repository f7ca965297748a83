import type { Directory, DirectoryUser } from './directory.ts';
import { type SharedCache, VerifiedCache } from './verified-cache.ts';

/** Thrown inside the cache so that "no such user" is not cached (a new user appears at once). */
class NotFound extends Error {}

/**
 * Directory lookups for token methods (JWT, personal tokens), cached like
 * verified passwords: per user name for the cache TTL, in process and in the
 * shared store, so a CI fleet with tokens costs one LDAP search per user per
 * TTL. Unknown or disabled users are not cached. A group change in LDAP takes
 * effect within the TTL.
 */
export function cachedLookup(
  directory: Directory,
  options: { key: string | undefined; ttlMs: number; maxEntries: number; shared?: SharedCache },
): (username: string) => Promise<DirectoryUser | undefined> {
  const cache = new VerifiedCache<DirectoryUser>({
    key: options.key,
    ttlMs: options.ttlMs,
    maxEntries: options.maxEntries,
    shared: options.shared && { cache: options.shared, encode: JSON.stringify, decode: decodeUser },
  });
  return (username) =>
    cache
      .getOrVerify(cache.keyOf('lookup', username), async () => {
        const user = await directory.lookup(username);
        if (user === undefined) throw new NotFound();
        return user;
      })
      .catch((err: unknown) => {
        if (err instanceof NotFound) return undefined;
        throw err;
      });
}

/** A user as another process cached it, or undefined when the text is not one. */
export function decodeUser(text: string): DirectoryUser | undefined {
  try {
    // `name` is how processes before the one Principal wrote it (a rolling upgrade shares the cache).
    const v = JSON.parse(text) as { user?: unknown; name?: unknown; groups?: unknown };
    const user = v.user ?? v.name;
    if (
      typeof user !== 'string' ||
      !Array.isArray(v.groups) ||
      !v.groups.every((g) => typeof g === 'string')
    ) {
      return undefined;
    }
    return { user, groups: v.groups as string[] };
  } catch {
    return undefined;
  }
}
