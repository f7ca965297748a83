import { randomUUID } from 'node:crypto';
import { MemoryStore, type StateLogger } from './memory-store.ts';
import {
  brief,
  createRedisClient,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  describeTopology,
  keepConnected,
  type RedisClient,
  type RedisStoreOptions,
  validateRedisOptions,
  waitReady,
  warnInsecure,
} from './redis-options.ts';
import { RedisOutage } from './redis-outage.ts';
import { PendingWrites } from './redis-pending.ts';
import { RedisPubSub } from './redis-pubsub.ts';
import { ACQUIRE, GET_WITH_TTL, INCREMENT_WINDOW, runScript } from './redis-scripts.ts';
import {
  checkPositive,
  type Lease,
  type MessageHandler,
  type StateChannel,
  type StateHealth,
  type StateKey,
  type StateOperation,
  type StateRead,
  type StateStore,
  type SubscribeOptions,
  type Subscription,
  type WindowCount,
} from './store.ts';
import { withTimeout } from './timeout.ts';

/**
 * The shared state store on Redis (standalone, Sentinel or Cluster) through
 * ioredis, for many gateway processes.
 *
 * Redis trouble never reaches callers. Each call is bounded by the command
 * timeout; when Redis is down, slow or erroring, the call is answered by a
 * per-process MemoryStore instead, counted in `health().fallbacks` and logged
 * (once per outage, then every 30 s). ioredis reconnects forever with a capped
 * back-off and sharing resumes by itself. Nothing is queued inside ioredis.
 *
 * The per-process store mirrors what this process wrote to or read from
 * Redis (values, window counts, held slots), so a fallback still knows a
 * lockout or cached credential it has seen. What it wrote, counted or
 * published only locally is owed to Redis and replayed once Redis answers
 * again (redis-pending.ts), so a lockout earned during an outage outlives it.
 * Otherwise, when Redis is reachable it is the source of truth.
 */
export class RedisStore implements StateStore {
  readonly kind = 'redis';
  readonly #client: RedisClient;
  readonly #pubsub: RedisPubSub;
  readonly #local: MemoryStore;
  readonly #logger: StateLogger;
  readonly #where: string;
  readonly #timeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #outage: RedisOutage;
  readonly #pending: PendingWrites;
  #closed = false;

  /** Creates the store and waits (at most the connect timeout) for Redis; never rejects for Redis trouble. */
  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(options);
    await store.connect();
    return store;
  }

  /** Throws `config.invalid` for invalid options; connects on `connect()` (or the first `open`). */
  constructor(options: RedisStoreOptions) {
    validateRedisOptions(options);
    this.#logger = options.logger;
    this.#where = describeTopology(options.topology);
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
    this.#local = new MemoryStore({ maxEntries: options.maxEntries, logger: options.logger });
    this.#pending = new PendingWrites(options.logger);
    this.#outage = new RedisOutage(options.logger, this.#where);
    this.#client = createRedisClient(options, 'commands');
    this.#client.on('error', (err: Error) => this.#logger.debug({ err: brief(err) }, 'redis error'));
    this.#client.on('ready', () => void this.#replay());
    keepConnected(this.#client, 'commands', () => this.#closed, this.#logger);
    this.#pubsub = new RedisPubSub(options, this.#local, this.#timeoutMs, (err) =>
      this.#outage.failed('subscribe', err, 'subscribe failed'),
    );
    warnInsecure(options, this.#logger);
  }

  /** Starts both connections and waits up to the connect timeout; true when Redis answered. */
  async connect(): Promise<boolean> {
    const ready = [this.#client, this.#pubsub.client].map((client) => {
      if (client.status === 'wait') client.connect().catch(() => undefined);
      return waitReady(client, this.#connectTimeoutMs);
    });
    const [commands] = await Promise.all(ready);
    if (commands !== true) this.#outage.failed(undefined, undefined, this.#client.status);
    return commands === true;
  }

  async get(key: StateKey): Promise<string | undefined> {
    return (await this.read(key)).value;
  }

  async read(key: StateKey): Promise<StateRead> {
    // A local write Redis has not seen yet is newer than what Redis holds.
    if (this.#pending.overrides(key)) return { value: await this.#local.get(key), shared: false };
    return this.#call<StateRead>(
      'get',
      async (c) => {
        const reply = (await runScript(c, GET_WITH_TTL, key)) as [string, number] | null;
        if (reply === null) {
          await this.#local.delete(key);
          return { value: undefined, shared: true };
        }
        const [value, ttl] = reply;
        if (ttl > 0) await this.#local.set(key, value, ttl);
        return { value, shared: true };
      },
      async () => ({ value: await this.#local.get(key), shared: false }),
    );
  }

  async set(key: StateKey, value: string, ttlMs: number): Promise<void> {
    await this.#local.set(key, value, ttlMs);
    let answeredLocally = false;
    await this.#call(
      'set',
      async (c) => {
        await c.set(key, value, 'PX', ttlMs);
        // A reply after the timeout must not settle a newer write made meanwhile.
        if (!answeredLocally) this.#pending.settle(key);
      },
      () => {
        answeredLocally = true;
        this.#pending.value(key);
      },
    );
  }

  async delete(key: StateKey): Promise<void> {
    await this.#local.delete(key);
    let answeredLocally = false;
    await this.#call(
      'delete',
      async (c) => {
        await c.del(key);
        if (!answeredLocally) this.#pending.settle(key);
      },
      () => {
        answeredLocally = true;
        this.#pending.deleted(key);
      },
    );
  }

  async incrementWindow(key: StateKey, windowMs: number): Promise<WindowCount> {
    checkPositive('windowMs', windowMs);
    // Events counted locally during an outage go to Redis with this one.
    const owed = this.#pending.takeWindow(key);
    return this.#call(
      'incrementWindow',
      async (c) => {
        const reply = await runScript(c, INCREMENT_WINDOW, key, windowMs, 1 + owed);
        const [count, ttl] = reply as [number, number];
        const resetInMs = Math.max(1, ttl);
        this.#local.mirrorWindow(key, count, resetInMs);
        return { count, resetInMs };
      },
      () => {
        this.#pending.counted(key, windowMs, 1 + owed);
        return this.#local.incrementWindow(key, windowMs);
      },
    );
  }

  async acquire(key: StateKey, limit: number, ttlMs: number): Promise<Lease | undefined> {
    checkPositive('limit', limit);
    checkPositive('ttlMs', ttlMs);
    const id = randomUUID();
    let answeredLocally = false;
    return this.#call(
      'acquire',
      async (c) => {
        if ((await runScript(c, ACQUIRE, key, limit, ttlMs, id)) !== 1) return undefined;
        // Granted after the call had timed out: nobody holds this slot, give it back.
        if (answeredLocally) {
          c.zrem(key, id).catch(() => undefined);
          return undefined;
        }
        return this.#sharedLease(key, id, ttlMs);
      },
      () => {
        answeredLocally = true;
        return this.#local.acquireLocal(key, limit, ttlMs);
      },
    );
  }

  async publish(channel: StateChannel, message: string): Promise<void> {
    this.#local.deliver(channel, message);
    const payload = this.#pubsub.encode(message);
    await this.#call(
      'publish',
      async (c) => void (await c.publish(channel, payload)),
      () => {
        if (!this.#closed) this.#pending.published(channel, payload);
      },
    );
  }

  async subscribe(
    channel: StateChannel,
    handler: MessageHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    const { subscription, shared } = await this.#pubsub.subscribe(channel, handler, options);
    if (!shared && !this.#pubsub.connected) this.#outage.failed('subscribe', undefined, 'subscriber down');
    return subscription;
  }

  async health(): Promise<StateHealth> {
    const { fallbacks } = this.#outage;
    let detail: string | undefined;
    if (this.#closed) detail = 'closed';
    else if (this.#client.status !== 'ready') detail = `${this.#where}: ${this.#client.status}`;
    else {
      try {
        await withTimeout(this.#client.ping(), this.#timeoutMs);
      } catch (err) {
        detail = `${this.#where}: ${brief(err).message}`;
      }
    }
    if (detail === undefined && !this.#pubsub.connected)
      detail = `${this.#where}: subscriber ${this.#pubsub.client.status}`;
    return detail === undefined
      ? { kind: this.kind, shared: true, fallbacks }
      : { kind: this.kind, shared: false, fallbacks, detail };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#outage.silence();
    this.#client.disconnect();
    await this.#pubsub.close();
    await this.#local.close();
  }

  #sharedLease(key: StateKey, id: string, ttlMs: number): Lease {
    // Also held locally (without limit), so a fallback counts this process's shared slots.
    const mirror = this.#local.acquireLocal(key, Number.POSITIVE_INFINITY, ttlMs);
    let released = false;
    return {
      id,
      release: async () => {
        if (released) return;
        released = true;
        await mirror?.release();
        await this.#call(
          'release',
          async (c) => void (await c.zrem(key, id)),
          () => undefined,
        );
      },
    };
  }

  /** Runs `remote` on Redis within the timeout, or `local` when Redis is unusable; never rejects for Redis. */
  async #call<T>(
    op: StateOperation,
    remote: (client: RedisClient) => Promise<T>,
    local: () => T | Promise<T>,
  ): Promise<T> {
    if (this.#closed) return local();
    if (this.#client.status !== 'ready' || this.#outage.breakerOpen) {
      this.#outage.failed(op, undefined, this.#outage.breakerOpen ? 'breaker open' : this.#client.status);
      return local();
    }
    try {
      const result = await withTimeout(remote(this.#client), this.#timeoutMs);
      if (this.#outage.succeeded()) void this.#replay();
      return result;
    } catch (err) {
      this.#outage.failed(op, err, this.#client.status);
      return local();
    }
  }

  async #replay(): Promise<void> {
    if (!this.#closed) await this.#pending.replay(this.#client, this.#local, this.#timeoutMs);
  }
}
