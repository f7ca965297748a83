import { BoundedMap } from '../../core/bounded-map.ts';
import type { StateLogger } from '../state/memory-store.ts';
import type { StateKey, StateStore } from '../state/store.ts';

/** Markers remembered in process for a store that throws (entries); the oldest go first. */
const MAX_REMEMBERED_MARKERS = 10_000;

/**
 * Timed markers in the shared store (a user's lock, a source's throttle): a
 * value holding the marker's end in epoch milliseconds, stored with that
 * TTL, so every process sharing the store sees it until it ends.
 *
 * Store trouble: stores do not reject when their backend is down (RedisStore
 * answers from its per-process copy). Should a store throw anyway, markers
 * this instance set or saw are kept in process and still reported.
 */
export class TimedMarkers {
  readonly #store: StateStore;
  readonly #ttlMs: number;
  readonly #label: string;
  readonly #logger: Pick<StateLogger, 'warn'> | undefined;
  readonly #now: () => number;
  /** Marker key → end (epoch ms) of markers this instance set or saw; consulted only when the store throws. */
  readonly #remembered = new BoundedMap<string, number>(MAX_REMEMBERED_MARKERS);

  /** `label` starts the warnings (`lockout`, `throttle`); `ttlMs` is how long a marker lasts. */
  constructor(options: {
    store: StateStore;
    ttlMs: number;
    label: string;
    logger?: Pick<StateLogger, 'warn'> | undefined;
    now: () => number;
  }) {
    this.#store = options.store;
    this.#ttlMs = options.ttlMs;
    this.#label = options.label;
    this.#logger = options.logger;
    this.#now = options.now;
  }

  /** The end (epoch ms) of the marker under `key`, or undefined when there is none. Never rejects. */
  async end(key: StateKey): Promise<number | undefined> {
    let value: string | undefined;
    try {
      value = await this.#store.get(key);
    } catch (err) {
      this.#logger?.warn(
        { err, op: 'get' },
        `${this.#label}: state store failed; using what this process knows`,
      );
      return this.#rememberedEnd(key);
    }
    if (value === undefined) return undefined;
    const now = this.#now();
    const stored = Number(value);
    // A marker that cannot be read still counts; the clamp absorbs clock skew between processes.
    const end = Number.isFinite(stored)
      ? Math.min(Math.max(stored, now + 1), now + this.#ttlMs)
      : now + this.#ttlMs;
    this.#remember(key, end);
    return end;
  }

  /** Sets the marker under `key` to end `ttlMs` from now, and returns that end. Never rejects. */
  async set(key: StateKey): Promise<number> {
    const end = this.#now() + this.#ttlMs;
    this.#remember(key, end);
    await this.#safely('set', () => this.#store.set(key, String(end), this.#ttlMs));
    return end;
  }

  /** Removes the marker (or counter) under `key`, here and in the store. Never rejects. */
  async delete(key: StateKey): Promise<void> {
    this.#remembered.delete(key);
    await this.#safely('delete', () => this.#store.delete(key));
  }

  /** Counts one event in the window under `key`; undefined when the store failed (logged). Never rejects. */
  async count(key: StateKey, windowMs: number): Promise<number | undefined> {
    try {
      return (await this.#store.incrementWindow(key, windowMs)).count;
    } catch (err) {
      this.#logger?.warn({ err, op: 'incrementWindow' }, `${this.#label}: state store failed; not counted`);
      return undefined;
    }
  }

  /** Runs a store write, logging instead of rejecting when it throws. */
  async #safely(op: string, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.#logger?.warn({ err, op }, `${this.#label}: state store failed`);
    }
  }

  #remember(key: string, end: number): void {
    this.#remembered.set(key, end);
  }

  #rememberedEnd(key: string): number | undefined {
    const end = this.#remembered.get(key);
    if (end === undefined || end > this.#now()) return end;
    this.#remembered.delete(key);
    return undefined;
  }
}
