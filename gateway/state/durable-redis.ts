import type { Cluster } from 'ioredis';
import { ModgateError } from '../../core/errors.ts';
import type { DurableRecords, Swap } from './durable.ts';
import {
  brief,
  createRedisClient,
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  describeTopology,
  keepConnected,
  type RedisClient,
  type RedisStoreOptions,
  waitReady,
} from './redis-options.ts';
import { type LuaScript, runScript, script } from './redis-scripts.ts';
import { withTimeout } from './timeout.ts';

/** Prefix of every durable record's Redis key. */
const PREFIX = 'modgate:durable:';
/** Keys SCAN looks at per call while listing. */
const SCAN_COUNT = 1000;

/**
 * Compare-and-set: ARGV[1] '1' when a value is expected (ARGV[2]), '0' when
 * the key must be absent; sets ARGV[3] (no TTL). Returns {1} when set,
 * {0} when absent and not set, {0, current} otherwise.
 */
const COMPARE_AND_SET: LuaScript = script(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if cur then return {0, cur} end
elseif cur ~= ARGV[2] then
  if cur then return {0, cur} end
  return {0}
end
redis.call('SET', KEYS[1], ARGV[3])
return {1}
`);

/**
 * DurableRecords on Redis, shared by every process and host that uses the
 * same Redis. Durable only as far as Redis is: with AOF (`appendonly yes`) or
 * RDB snapshots configured there; without persistence a Redis restart
 * forgets every record. Every call is bounded by the command timeout and
 * rejects with `state.unavailable` when Redis cannot answer.
 */
export class RedisRecords implements DurableRecords {
  readonly kind = 'redis';
  readonly #client: RedisClient;
  readonly #timeoutMs: number;
  readonly #where: string;
  #closed = false;

  static async open(options: RedisStoreOptions): Promise<RedisRecords> {
    const records = new RedisRecords(options);
    records.#client.connect().catch(() => undefined);
    await waitReady(records.#client, options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS);
    return records;
  }

  private constructor(options: RedisStoreOptions) {
    this.#client = createRedisClient(options, 'durable');
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
    this.#where = describeTopology(options.topology);
    this.#client.on('error', (err: Error) => options.logger.debug({ err: brief(err) }, 'redis error'));
    keepConnected(this.#client, 'durable', () => this.#closed, options.logger);
  }

  get(key: string): Promise<string | undefined> {
    return this.#call(async (c) => (await c.get(PREFIX + key)) ?? undefined);
  }

  compareAndSet(key: string, expected: string | undefined, next: string): Promise<Swap> {
    return this.#call(async (c) => {
      const args = expected === undefined ? ['0', ''] : ['1', expected];
      const [set, current] = (await runScript(c, COMPARE_AND_SET, PREFIX + key, ...args, next)) as [
        number,
        string?,
      ];
      return set === 1 ? { swapped: true, current: next } : { swapped: false, current };
    });
  }

  delete(key: string): Promise<boolean> {
    return this.#call(async (c) => (await c.del(PREFIX + key)) > 0);
  }

  list(prefix: string, limit: number): Promise<string[]> {
    return this.#call(async (c) => {
      const nodes = isCluster(c) ? c.nodes('master') : [c];
      const keys = new Set<string>();
      const match = `${PREFIX}${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
          for (const k of found) keys.add(k.slice(PREFIX.length));
          cursor = next;
        } while (cursor !== '0');
      }
      return [...keys].sort().slice(0, limit);
    }, 10);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#client.disconnect();
  }

  /** Runs `call` within the command timeout (`times` of it for scans); Redis trouble is `state.unavailable`. */
  async #call<T>(call: (client: RedisClient) => Promise<T>, times = 1): Promise<T> {
    if (this.#closed || this.#client.status !== 'ready') {
      throw new ModgateError(
        'state.unavailable',
        `durable records: redis at ${this.#where} is ${this.#client.status}`,
      );
    }
    try {
      return await withTimeout(call(this.#client), this.#timeoutMs * times);
    } catch (err) {
      throw new ModgateError(
        'state.unavailable',
        `durable records: redis at ${this.#where}: ${brief(err).message}`,
      );
    }
  }
}

function isCluster(client: RedisClient): client is Cluster {
  return 'nodes' in client && typeof client.nodes === 'function' && client.isCluster === true;
}
