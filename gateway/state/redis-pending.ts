import { BoundedMap } from '../../core/bounded-map.ts';
import type { MemoryStore, StateLogger } from './memory-store.ts';
import { brief, type RedisClient } from './redis-options.ts';
import { INCREMENT_WINDOW, runScript } from './redis-scripts.ts';
import type { StateKey } from './store.ts';
import { withTimeout } from './timeout.ts';

/** At most this many keys with writes that still have to reach Redis (keys; oldest dropped). */
const PENDING_MAX_KEYS = 10_000;
/** At most this many publishes kept for resending (messages; oldest dropped). */
const OUTBOX_MAX_MESSAGES = 1_000;

type PendingWrite =
  | { readonly kind: 'value' }
  | { readonly kind: 'delete' }
  | { readonly kind: 'window'; delta: number; readonly windowMs: number };

/**
 * What RedisStore did locally while Redis was unusable and owes Redis once
 * it is back: values set, keys deleted, window events counted, messages
 * published. Replaying them keeps a lockout earned during an outage in force
 * after it (the rule: never allow a locked account that local state
 * knows about) and delivers revocations late rather than never.
 *
 * Replay is last-writer-wins for values, additive for window counts. Until a
 * key's write is replayed, reads of that key are answered locally, because
 * the local value is the newer one.
 */
export class PendingWrites {
  readonly #writes = new BoundedMap<string, PendingWrite>(PENDING_MAX_KEYS, {
    onEvict: () => this.#noteDrop('write'),
  });
  #outbox: { channel: string; payload: string }[] = [];
  readonly #logger: StateLogger;
  #droppedSinceReplay = false;
  #replaying = false;

  constructor(logger: StateLogger) {
    this.#logger = logger;
  }

  /** Keys and messages waiting for Redis. */
  get size(): number {
    return this.#writes.size + this.#outbox.length;
  }

  /** True when `key` has a value or delete not yet in Redis: read it locally. */
  overrides(key: StateKey): boolean {
    const write = this.#writes.get(key);
    return write !== undefined && write.kind !== 'window';
  }

  value(key: StateKey): void {
    this.#put(key, { kind: 'value' });
  }

  deleted(key: StateKey): void {
    this.#put(key, { kind: 'delete' });
  }

  /** Counts `events` window events that Redis has not seen. */
  counted(key: StateKey, windowMs: number, events: number): void {
    const write = this.#writes.get(key);
    if (write?.kind === 'window') write.delta += events;
    else this.#put(key, { kind: 'window', delta: events, windowMs });
  }

  /**
   * Removes and returns the window events of `key` Redis has not seen, for
   * the caller to add to its shared increment (and to give back with
   * `counted` if that fails). A race with `replay` can count them twice,
   * never lose them: lockouts err on the safe side.
   */
  takeWindow(key: StateKey): number {
    const write = this.#writes.get(key);
    if (write?.kind !== 'window') return 0;
    this.#writes.delete(key);
    const { delta } = write;
    write.delta = 0;
    return delta;
  }

  /** A value or delete of `key` reached Redis. */
  settle(key: StateKey): void {
    if (this.#writes.get(key)?.kind !== 'window') this.#writes.delete(key);
  }

  published(channel: string, payload: string): void {
    this.#outbox.push({ channel, payload });
    if (this.#outbox.length > OUTBOX_MAX_MESSAGES) {
      this.#outbox.shift();
      this.#noteDrop('publish');
    }
  }

  /**
   * Sends everything owed to Redis, oldest first, each call within
   * `timeoutMs`; stops at the first failure and keeps the rest for the next
   * attempt. One replay at a time.
   */
  async replay(client: RedisClient, local: MemoryStore, timeoutMs: number): Promise<void> {
    if (this.#replaying || this.size === 0) return;
    this.#replaying = true;
    try {
      for (const [key, write] of [...this.#writes]) {
        await withTimeout(this.#send(client, local, key as StateKey, write), timeoutMs);
        // A write that arrived meanwhile replaced the entry (or counted more) and stays owed.
        if (this.#writes.get(key) === write && (write.kind !== 'window' || write.delta <= 0)) {
          this.#writes.delete(key);
        }
      }
      while (this.#outbox.length > 0) {
        const { channel, payload } = this.#outbox[0]!;
        await withTimeout(client.publish(channel, payload), timeoutMs);
        this.#outbox.shift();
      }
      this.#droppedSinceReplay = false;
    } catch (err) {
      this.#logger.debug({ err: brief(err), owed: this.size }, 'state replay stopped; retrying later');
    } finally {
      this.#replaying = false;
    }
  }

  async #send(client: RedisClient, local: MemoryStore, key: StateKey, write: PendingWrite): Promise<void> {
    if (write.kind === 'delete') {
      await client.del(key);
    } else if (write.kind === 'value') {
      const current = local.peek(key);
      if (current !== undefined) await client.set(key, current.value, 'PX', current.ttlMs);
    } else if (write.delta > 0) {
      const { delta } = write;
      const reply = await runScript(client, INCREMENT_WINDOW, key, write.windowMs, delta);
      const [count, ttl] = reply as [number, number];
      local.mirrorWindow(key, count, Math.max(1, ttl));
      write.delta -= delta;
    }
  }

  #put(key: StateKey, write: PendingWrite): void {
    this.#writes.set(key, write);
  }

  #noteDrop(what: 'write' | 'publish'): void {
    if (this.#droppedSinceReplay) return;
    this.#droppedSinceReplay = true;
    this.#logger.warn({ what }, 'too much state owed to Redis; dropping the oldest (logged once per outage)');
  }
}
