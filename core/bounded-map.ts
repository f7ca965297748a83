import { checkPositiveInteger } from './positive.ts';

/**
 * A Map that holds at most `max` entries: setting a key makes it the newest,
 * and when the map is full the oldest entries leave first. With `use` on
 * reads it is a least-recently-used cache; without, first in, first out.
 * `max: 0` keeps nothing.
 */
export interface BoundedMapOptions<K, V> {
  /** Called when a set finds the map full, before the oldest entry is dropped (to sweep expired ones first). */
  readonly onFull?: (map: BoundedMap<K, V>) => void;
  /** Called for each entry dropped to make room. */
  readonly onEvict?: (key: K, value: V) => void;
}

export class BoundedMap<K, V> extends Map<K, V> {
  readonly #max: number;
  readonly #options: BoundedMapOptions<K, V>;

  constructor(max: number, options: BoundedMapOptions<K, V> = {}) {
    super();
    checkPositiveInteger('bounded map size', max, { zero: true });
    this.#max = max;
    this.#options = options;
  }

  /** The most entries the map holds. */
  get max(): number {
    return this.#max;
  }

  override set(key: K, value: V): this {
    if (this.#max === 0) return this;
    super.delete(key);
    if (this.size >= this.#max) this.#options.onFull?.(this);
    for (const [oldest, dropped] of this) {
      if (this.size < this.#max) break;
      super.delete(oldest);
      this.#options.onEvict?.(oldest, dropped);
    }
    return super.set(key, value);
  }

  /** The value of `key`, made the newest entry (least-recently-used order). */
  use(key: K): V | undefined {
    if (!super.has(key)) return undefined;
    const value = super.get(key) as V;
    super.delete(key);
    super.set(key, value);
    return value;
  }
}

/**
 * An `onFull` for maps of expiring entries: drops the expired ones, at most
 * once per `intervalMs` (a full map of live entries is not walked on every set).
 */
export function sweepExpired<K, V extends { readonly expiresAt: number }>(
  now: () => number,
  intervalMs: number,
): (map: BoundedMap<K, V>) => void {
  let lastSweep = Number.NEGATIVE_INFINITY;
  return (map) => {
    const at = now();
    if (at - lastSweep < intervalMs) return;
    lastSweep = at;
    for (const [key, entry] of map) if (entry.expiresAt <= at) map.delete(key);
  };
}
