import { randomUUID } from 'node:crypto';
import type { MemoryStore, StateLogger } from './memory-store.ts';
import {
  brief,
  createRedisClient,
  keepConnected,
  type RedisClient,
  type RedisStoreOptions,
} from './redis-options.ts';
import type { MessageHandler, StateChannel, SubscribeOptions, Subscription } from './store.ts';
import { withTimeout } from './timeout.ts';

/**
 * RedisStore's subscriber side: one dedicated connection (a connection in
 * subscribe mode serves nothing else), the channels this process listens to,
 * resubscription after every reconnect and the `onGap` notice.
 *
 * Messages carry the publishing process's random origin id,
 * `<origin>\n<message>`: a process delivers its own messages locally at
 * publish time and skips their echo from Redis, so local delivery never
 * depends on Redis and never happens twice.
 */
export class RedisPubSub {
  readonly origin = randomUUID();
  readonly #client: RedisClient;
  readonly #local: MemoryStore;
  readonly #logger: StateLogger;
  readonly #timeoutMs: number;
  readonly #onFailure: (err: unknown) => void;
  readonly #gapHandlers = new Set<() => void>();
  /** Messages may have been missed since the last successful (re)subscription. */
  #missed = false;
  #closed = false;

  constructor(
    options: RedisStoreOptions,
    local: MemoryStore,
    timeoutMs: number,
    onFailure: (err: unknown) => void,
  ) {
    this.#local = local;
    this.#logger = options.logger;
    this.#timeoutMs = timeoutMs;
    this.#onFailure = onFailure;
    this.#client = createRedisClient(options, 'subscriber');
    this.#client.on('error', (err: Error) =>
      this.#logger.debug({ err: brief(err) }, 'redis subscriber error'),
    );
    this.#client.on('close', () => {
      if (this.#local.channels().length > 0) this.#missed = true;
    });
    this.#client.on('ready', () => void this.#resubscribe());
    keepConnected(this.#client, 'subscriber', () => this.#closed, this.#logger);
    this.#client.on('message', (channel: string, payload: string) => this.#receive(channel, payload));
  }

  get client(): RedisClient {
    return this.#client;
  }

  /** True when the subscriber connection is up. */
  get connected(): boolean {
    return this.#client.status === 'ready';
  }

  /** The wire form of `message` from this process. */
  encode(message: string): string {
    return `${this.origin}\n${message}`;
  }

  /**
   * Registers `handler` locally, then subscribes on Redis within the call
   * timeout. When Redis cannot be reached the subscription still delivers
   * local messages, and Redis subscription follows on reconnect (then `onGap`).
   * Returns whether Redis was reached.
   */
  async subscribe(
    channel: StateChannel,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<{ subscription: Subscription; shared: boolean }> {
    const { onGap } = options;
    if (onGap !== undefined) this.#gapHandlers.add(onGap);
    const local = this.#local.subscribeLocal(channel, handler, () => this.#unsubscribe(channel));
    const subscription: Subscription = {
      close: async () => {
        if (onGap !== undefined) this.#gapHandlers.delete(onGap);
        await local.close();
      },
    };
    if (this.connected) {
      try {
        await withTimeout(this.#client.subscribe(channel), this.#timeoutMs);
        return { subscription, shared: true };
      } catch (err) {
        this.#onFailure(err);
      }
    }
    this.#missed = true;
    return { subscription, shared: false };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#gapHandlers.clear();
    this.#client.disconnect();
  }

  #receive(channel: string, payload: string): void {
    const newline = payload.indexOf('\n');
    if (newline < 0 || payload.slice(0, newline) === this.origin) return;
    this.#local.deliver(channel, payload.slice(newline + 1));
  }

  async #unsubscribe(channel: string): Promise<void> {
    if (!this.connected) return;
    try {
      await withTimeout(this.#client.unsubscribe(channel), this.#timeoutMs);
    } catch (err) {
      this.#logger.debug({ err: brief(err), channel }, 'redis unsubscribe failed');
    }
  }

  async #resubscribe(): Promise<void> {
    const channels = this.#local.channels();
    if (this.#closed || channels.length === 0) return;
    try {
      await withTimeout(this.#client.subscribe(...channels), this.#timeoutMs);
    } catch (err) {
      this.#missed = true;
      this.#logger.warn({ err: brief(err) }, 'redis resubscribe failed; retrying on the next reconnect');
      return;
    }
    if (!this.#missed) return;
    this.#missed = false;
    this.#logger.info({ channels: channels.length }, 'redis subscriptions restored');
    for (const gap of this.#gapHandlers) {
      try {
        gap();
      } catch (err) {
        this.#logger.error({ err }, 'state onGap handler failed');
      }
    }
  }
}
