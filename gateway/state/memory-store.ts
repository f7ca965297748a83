import { randomUUID } from 'node:crypto';
import { BoundedMap, sweepExpired } from '../../core/bounded-map.ts';
import {
  checkPositive,
  type Lease,
  type MessageHandler,
  type StateChannel,
  type StateHealth,
  type StateKey,
  type StateRead,
  type StateStore,
  type Subscription,
  type WindowCount,
  zeroCounters,
} from './store.ts';

/** Default bound on entries kept in process (entries; values, windows and semaphores together). */
export const DEFAULT_MEMORY_MAX_ENTRIES = 100_000;
/** Least time between two sweeps of expired entries when the store is full (milliseconds). */
const SWEEP_INTERVAL_MS = 1_000;

/** The minimal logger the stores use; a pino `Logger` fits. */
export interface StateLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface MemoryStoreOptions {
  /** At most this many entries; when full, expired entries go first, then the least recently used. */
  maxEntries?: number;
  /** Where subscriber exceptions are reported; dropped when absent. */
  logger?: StateLogger;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

type Entry =
  | { kind: 'value'; value: string; expiresAt: number }
  | { kind: 'window'; count: number; expiresAt: number }
  | { kind: 'semaphore'; holders: Map<string, number>; expiresAt: number };

/**
 * The in-process state store: the embedded default, and the per-process
 * fallback inside `RedisStore`. A bounded LRU map with lazy TTL expiry; pub/sub
 * delivers to this process's subscribers. Single-threaded JavaScript makes
 * every operation atomic within the process.
 */
export class MemoryStore implements StateStore {
  readonly kind = 'memory';
  readonly #entries: BoundedMap<string, Entry>;
  readonly #handlers = new Map<string, Set<MessageHandler>>();
  readonly #logger: StateLogger | undefined;
  readonly #now: () => number;

  constructor(options: MemoryStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_MEMORY_MAX_ENTRIES;
    checkPositive('maxEntries', maxEntries);
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#entries = new BoundedMap(maxEntries, { onFull: sweepExpired(this.#now, SWEEP_INTERVAL_MS) });
  }

  /** Live entries (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: StateKey): Promise<string | undefined> {
    const entry = this.#live(key);
    return entry?.kind === 'value' ? entry.value : undefined;
  }

  /** In-process state is the whole truth for its one process. */
  async read(key: StateKey): Promise<StateRead> {
    return { value: await this.get(key), shared: true };
  }

  async set(key: StateKey, value: string, ttlMs: number): Promise<void> {
    checkPositive('ttlMs', ttlMs);
    this.#put(key, { kind: 'value', value, expiresAt: this.#now() + ttlMs });
  }

  async delete(key: StateKey): Promise<void> {
    this.#entries.delete(key);
  }

  async incrementWindow(key: StateKey, windowMs: number): Promise<WindowCount> {
    checkPositive('windowMs', windowMs);
    const now = this.#now();
    const entry = this.#live(key);
    if (entry?.kind === 'window') {
      entry.count += 1;
      return { count: entry.count, resetInMs: Math.max(1, entry.expiresAt - now) };
    }
    this.#put(key, { kind: 'window', count: 1, expiresAt: now + windowMs });
    return { count: 1, resetInMs: windowMs };
  }

  async acquire(key: StateKey, limit: number, ttlMs: number): Promise<Lease | undefined> {
    checkPositive('limit', limit);
    return this.acquireLocal(key, limit, ttlMs);
  }

  async publish(channel: StateChannel, message: string): Promise<void> {
    this.deliver(channel, message);
  }

  async subscribe(channel: StateChannel, handler: MessageHandler): Promise<Subscription> {
    return this.subscribeLocal(channel, handler);
  }

  async health(): Promise<StateHealth> {
    return { kind: this.kind, shared: true, fallbacks: zeroCounters() };
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#handlers.clear();
  }

  /** The value under `key` with its remaining TTL, without touching its LRU position. For RedisStore's replay. */
  peek(key: StateKey): { value: string; ttlMs: number } | undefined {
    const entry = this.#entries.get(key);
    const ttlMs = entry === undefined ? 0 : entry.expiresAt - this.#now();
    return entry?.kind === 'value' && ttlMs > 0 ? { value: entry.value, ttlMs } : undefined;
  }

  /**
   * Mirrors a window count read from a shared backend, so that a fallback
   * continues counting from it (a lockout earned elsewhere stays earned).
   * For RedisStore; not part of the StateStore seam.
   */
  mirrorWindow(key: StateKey, count: number, resetInMs: number): void {
    const current = this.#live(key);
    if (current?.kind === 'window' && current.count > count) return;
    this.#put(key, { kind: 'window', count, expiresAt: this.#now() + resetInMs });
  }

  /**
   * `acquire` without the limit check when `limit` is Infinity: RedisStore
   * records here the slots it holds in Redis so that a fallback counts them.
   */
  acquireLocal(key: StateKey, limit: number, ttlMs: number): Lease | undefined {
    checkPositive('ttlMs', ttlMs);
    const now = this.#now();
    let entry = this.#live(key);
    if (entry?.kind !== 'semaphore') {
      entry = { kind: 'semaphore', holders: new Map(), expiresAt: now + ttlMs };
      this.#put(key, entry);
    }
    for (const [id, until] of entry.holders) if (until <= now) entry.holders.delete(id);
    if (entry.holders.size >= limit) return undefined;
    const id = randomUUID();
    entry.holders.set(id, now + ttlMs);
    entry.expiresAt = Math.max(entry.expiresAt, now + ttlMs);
    const semaphore = entry;
    return {
      id,
      release: async () => {
        semaphore.holders.delete(id);
      },
    };
  }

  /** Calls this process's subscribers of `channel`; a throwing handler is logged, not propagated. */
  deliver(channel: string, message: string): void {
    for (const handler of this.#handlers.get(channel) ?? []) {
      try {
        handler(message);
      } catch (err) {
        this.#logger?.error({ err, channel }, 'state subscriber failed');
      }
    }
  }

  /** Registers `handler` for local delivery; `close` unregisters it. */
  subscribeLocal(channel: string, handler: MessageHandler, onEmpty?: () => Promise<void>): Subscription {
    let handlers = this.#handlers.get(channel);
    if (handlers === undefined) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
    }
    // A wrapper, so the same function subscribed twice gets two independent subscriptions.
    const own: MessageHandler = (message) => handler(message);
    handlers.add(own);
    const set = handlers;
    return {
      close: async () => {
        if (!set.delete(own) || set.size > 0) return;
        if (this.#handlers.get(channel) === set) this.#handlers.delete(channel);
        await onEmpty?.();
      },
    };
  }

  /** Channels with at least one local subscriber. */
  channels(): string[] {
    return [...this.#handlers.keys()];
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.use(key);
    return entry;
  }

  #put(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
  }
}
