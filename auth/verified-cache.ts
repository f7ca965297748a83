import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';
import { BoundedMap } from '../core/bounded-map.ts';

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
/**
 * A cache shared between gateway processes (Redis, through the gateway's
 * state store). It sees only HMAC keys and encoded values, never a password.
 * Calls never reject: a missing backend answers undefined and drops writes.
 */
export interface SharedCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * A cross-process lock on one key for at most `ttlMs`, or undefined when
   * another process holds it: one directory verification per credential
   * across all processes, not one per process.
   */
  lock(key: string, ttlMs: number): Promise<{ release(): Promise<void> } | undefined>;
}

/** Longest a verification may hold the cross-process lock (ms); a crashed holder frees it after this. */
const SHARED_LOCK_TTL_MS = 10_000;
/** How often a process waiting for another's verification looks again (ms). */
const SHARED_POLL_MS = 20;

/** How values travel through a {@link SharedCache}, and what every value read or verified must pass. */
export interface SharedLayer<V> {
  readonly cache: SharedCache;
  encode(value: V): string;
  /** Undefined when the stored text is not a value (another version, corrupt): a miss. */
  decode(text: string): V | undefined;
}

/** A value and when it stops being valid (ms since the epoch). */
interface Timed<V> {
  readonly value: V;
  readonly expiresAt: number;
}

export class VerifiedCache<V> {
  /** A KeyObject made once: a Buffer key would be turned into one on every HMAC (~20 µs each). */
  readonly #key: KeyObject;
  readonly #ttlMs: number;
  readonly #entries: BoundedMap<string, { value: V; expiresAt: number }>;
  readonly #inFlight = new Map<string, Promise<V>>();
  readonly #now: () => number;
  readonly #shared: SharedLayer<V> | undefined;

  constructor(options: {
    key?: string | undefined;
    ttlMs: number;
    maxEntries: number;
    now?: () => number;
    /** A second level shared by every process: one directory verification per credential per TTL overall. */
    shared?: SharedLayer<V>;
  }) {
    this.#shared = options.shared;
    this.#key = createSecretKey(
      options.key === undefined ? randomBytes(RANDOM_KEY_BYTES) : Buffer.from(options.key, 'utf8'),
    );
    this.#ttlMs = options.ttlMs;
    this.#entries = new BoundedMap(options.ttlMs === 0 ? 0 : options.maxEntries);
    this.#now = options.now ?? Date.now;
  }

  /** The cache key of a credential: HMAC over its parts, NUL-separated (parts cannot contain NUL). */
  keyOf(...parts: string[]): string {
    // One update of the joined parts: the same bytes as one update per part and NUL, fewer native calls.
    return createHmac('sha256', this.#key)
      .update(`${parts.join('\0')}\0`)
      .digest('base64url');
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
    const flight = this.#sharedOrVerify(key, verify)
      .then(({ value, expiresAt }) => {
        this.#store(key, value, expiresAt);
        return value;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, flight);
    return flight;
  }

  /** The value with the time it stops being valid: a shared entry's own expiry, else now + TTL. */
  async #sharedOrVerify(key: string, verify: () => Promise<V>): Promise<Timed<V>> {
    const shared = this.#shared;
    if (!shared) return { value: await verify(), expiresAt: this.#now() + this.#ttlMs };
    const deadline = this.#now() + SHARED_LOCK_TTL_MS;
    for (;;) {
      const known = this.#readShared(shared, await shared.cache.get(key));
      if (known !== undefined) return known;
      const lease = await shared.cache.lock(key, SHARED_LOCK_TTL_MS);
      // Another process is verifying this credential: wait for its result (or its lock to go).
      if (lease === undefined && this.#now() < deadline) {
        await new Promise((r) => setTimeout(r, SHARED_POLL_MS));
        continue;
      }
      try {
        // Double-check under the lock: the holder before us may have stored
        // its result between our read above and its release.
        const settled =
          lease === undefined ? undefined : this.#readShared(shared, await shared.cache.get(key));
        if (settled !== undefined) return settled;
        const value = await verify();
        const expiresAt = this.#now() + this.#ttlMs;
        if (this.#ttlMs > 0) await shared.cache.set(key, `${expiresAt} ${shared.encode(value)}`, this.#ttlMs);
        return { value, expiresAt };
      } finally {
        await lease?.release();
      }
    }
  }

  /**
   * A shared entry, `<expiresAt ms> <encoded value>`: its writer's expiry
   * travels with it, so a process that reads it late keeps it only until
   * then, not for a TTL of its own (a group change then takes effect within
   * one TTL everywhere). Anything else, or an expired entry, is a miss.
   */
  #readShared(shared: SharedLayer<V>, text: string | undefined): Timed<V> | undefined {
    const space = text?.indexOf(' ') ?? -1;
    if (text === undefined || space < 1) return undefined;
    const expiresAt = Number(text.slice(0, space));
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= this.#now()) return undefined;
    const value = shared.decode(text.slice(space + 1));
    return value === undefined
      ? undefined
      : { value, expiresAt: Math.min(expiresAt, this.#now() + this.#ttlMs) };
  }

  /** Drops every locally cached value `drop` selects (revocation: another process may not have it yet). */
  deleteWhere(drop: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (drop(entry.value)) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  #store(key: string, value: V, expiresAt: number): void {
    this.#entries.set(key, { value, expiresAt });
  }
}
