import { createHmac, randomBytes } from 'node:crypto';

/** Bytes of the random per-process HMAC key used when config gives none. */
const RANDOM_KEY_BYTES = 32;

/**
 * Remembers credentials that a directory already verified, so a build costs
 * one directory round trip per user per TTL rather than one per request.
 *
 * Keys are HMAC-SHA256 of the credential under a secret key: the cache never
 * holds a password, and a dump of it cannot be reversed or replayed. Entries
 * expire after `ttlMs`; at most `maxEntries` are kept (oldest first out).
 * Concurrent misses for the same credential share one verification
 * (single flight), so a parallel `go mod download` still costs one bind.
 */
export class VerifiedCache<V> {
  readonly #key: Buffer;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #inFlight = new Map<string, Promise<V>>();
  readonly #now: () => number;

  constructor(options: { key?: string | undefined; ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#key = options.key === undefined ? randomBytes(RANDOM_KEY_BYTES) : Buffer.from(options.key, 'utf8');
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** The cache key of a credential: HMAC over its parts, NUL-separated (parts cannot contain NUL). */
  keyOf(...parts: string[]): string {
    const mac = createHmac('sha256', this.#key);
    for (const part of parts) mac.update(part).update('\0');
    return mac.digest('base64url');
  }

  /**
   * Returns the cached value for `key`, or runs `verify` once for all
   * concurrent callers and caches its result. Failures are not cached.
   */
  async getOrVerify(key: string, verify: () => Promise<V>): Promise<V> {
    const hit = this.#entries.get(key);
    if (hit && hit.expiresAt > this.#now()) return hit.value;
    if (hit) this.#entries.delete(key);
    const pending = this.#inFlight.get(key);
    if (pending) return pending;
    const flight = verify()
      .then((value) => {
        this.#store(key, value);
        return value;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, flight);
    return flight;
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  #store(key: string, value: V): void {
    if (this.#maxEntries === 0 || this.#ttlMs === 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }
}
