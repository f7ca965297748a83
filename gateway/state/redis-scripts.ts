import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-options.ts';

/**
 * The Lua scripts behind RedisStore's atomic operations. Each touches exactly
 * one key (KEYS[1]), so it is atomic on a single server and routable in a
 * Cluster without hash tags. Time comes from the server (`TIME`, allowed since
 * Redis 5 made effects replication the default), so process clocks may differ.
 */
export interface LuaScript {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/** GET with the remaining TTL, so a read can be mirrored locally: nil or {value, pttl}. */
export const GET_WITH_TTL = script(`
local v = redis.call('GET', KEYS[1])
if not v then return false end
return {v, redis.call('PTTL', KEYS[1])}
`);

/**
 * Fixed window counter: add ARGV[2] events (INCRBY), and start the window
 * (PEXPIRE ARGV[1]) on the first event or when the key somehow has no TTL.
 * Returns {count, pttl}.
 */
export const INCREMENT_WINDOW = script(`
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  ttl = tonumber(ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {n, ttl}
`);

/**
 * Semaphore as a sorted set of lease id → expiry (server milliseconds).
 * ARGV: limit, ttl ms, lease id. Drops expired leases, then adds this one if
 * fewer than `limit` remain; the key lives as long as its longest lease.
 * Returns 1 when acquired, 0 when full.
 */
export const ACQUIRE = script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);

/** Runs `script` by hash, loading it with EVAL when the server does not know it (after a restart or failover). */
export async function runScript(
  client: RedisClient,
  s: LuaScript,
  key: string,
  ...args: (string | number)[]
): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, 1, key, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(s.lua, 1, key, ...args);
  }
}
