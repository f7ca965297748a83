import { BoundedMap } from '../core/bounded-map.ts';
import type { SharedCache } from './verified-cache.ts';

/** Prefix of negative entries in the shared cache (keys are HMACs, as in the verified cache). */
const SHARED_PREFIX = 'rejected:';

/**
 * Credentials the directory just rejected, remembered for a short TTL under
 * their HMAC key (never the password): a client that retries a wrong password
 * in a loop, or a build whose 50 parallel requests carry it, costs one
 * directory bind, not one per request. Shared between processes when a
 * shared cache is given. Lockout counting is unaffected (the pipeline counts
 * every refusal).
 */
export class NegativeCache {
  readonly #ttlMs: number;
  readonly #shared: SharedCache | undefined;
  readonly #local: BoundedMap<string, number>;

  constructor(ttlMs: number, maxEntries: number, shared?: SharedCache) {
    this.#ttlMs = ttlMs;
    this.#local = new BoundedMap(maxEntries);
    this.#shared = shared;
  }

  async has(key: string): Promise<boolean> {
    if (this.#ttlMs <= 0) return false;
    const until = this.#local.get(key);
    if (until !== undefined && until > Date.now()) return true;
    if (until !== undefined) this.#local.delete(key);
    return this.#shared ? (await this.#shared.get(SHARED_PREFIX + key)) !== undefined : false;
  }

  async add(key: string): Promise<void> {
    if (this.#ttlMs <= 0) return;
    this.#local.set(key, Date.now() + this.#ttlMs);
    await this.#shared?.set(SHARED_PREFIX + key, '1', this.#ttlMs);
  }
}
