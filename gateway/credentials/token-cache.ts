import { BoundedMap, sweepExpired } from '../../core/bounded-map.ts';
import { checkPositiveInteger } from '../../core/positive.ts';

/**
 * Where minted upstream tokens wait for reuse. The in-process map below is
 * the default; a shared implementation (Redis, through gateway/state) can
 * replace it so that every gateway process reuses one token per key.
 *
 * Contract:
 * - Keys name a credential, a user and a scope; they hold no secret. Values
 *   are access tokens, i.e. secrets: a store outside the process must seal
 *   them (gateway/state/crypto.ts) and must never log them.
 * - An entry is gone once its TTL has passed; `get` then answers undefined.
 * - Calls do not reject because a backend is slow or down: `get` answers
 *   undefined and `set` drops the write (the caller then mints again).
 */
export interface TokenCache {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds (a positive integer), replacing any entry. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Default bound of the in-process token cache (entries, i.e. distinct user and scope pairs). */
export const DEFAULT_TOKEN_CACHE_MAX_ENTRIES = 10_000;

/** Least time between two sweeps of expired entries when the cache is full (milliseconds). */
const SWEEP_INTERVAL_MS = 1_000;

export interface MemoryTokenCacheOptions {
  /** At most this many entries; when full, expired entries go first, then the least recently used. */
  maxEntries?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/** The in-process default: a bounded LRU map with lazy expiry. */
export class MemoryTokenCache implements TokenCache {
  readonly #entries: BoundedMap<string, Entry>;
  readonly #now: () => number;

  constructor(options: MemoryTokenCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_TOKEN_CACHE_MAX_ENTRIES;
    checkPositiveInteger('token cache maxEntries', maxEntries);
    this.#now = options.now ?? Date.now;
    this.#entries = new BoundedMap(maxEntries, { onFull: sweepExpired(this.#now, SWEEP_INTERVAL_MS) });
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#entries.use(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    checkPositiveInteger('token cache ttlMs', ttlMs);
    this.#entries.set(key, { value, expiresAt: this.#now() + ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}
