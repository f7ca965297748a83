/**
 * The Redis check: when gateway.yaml keeps shared state in Redis, connect the
 * way the state store does (same topology, TLS, credentials and timeouts),
 * AUTH and PING. With in-process state there is nothing to check.
 */

import {
  type Check,
  type CheckOutcome,
  describeSocketError,
  isTlsVerifyError,
  outcome,
} from '../../../core/check.ts';
import type { GatewaySettings } from '../../config/settings.ts';
import { createRedisClient, describeTopology } from '../../state/redis-options.ts';

/** The state store's logger, silenced: the check reports through its outcome. */
const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/** Redis: skipped with in-process state, "not checked" offline. */
export function redisCheck(settings: GatewaySettings, offline = false): Check {
  const state = settings.state;
  if (state.kind !== 'redis') {
    return {
      name: 'redis',
      target: undefined,
      run: async () => outcome.skip('not configured (state.kind: memory)'),
    };
  }
  const target = describeTopology(state.redis.topology);
  if (offline) return { name: 'redis', target, run: async () => outcome.skip('not checked (--offline)') };
  return { name: 'redis', target, run: () => checkRedis(state.redis) };
}

/** Connects, authenticates and PINGs once; never retries, never reports the password. */
export async function checkRedis(
  options: Extract<GatewaySettings['state'], { kind: 'redis' }>['redis'],
): Promise<CheckOutcome> {
  const client = createRedisClient({ ...options, logger: QUIET }, 'commands');
  // ioredis rejects connect() with "Connection is closed."; the cause arrives as an 'error' event.
  let cause: unknown;
  client.on('error', (err: unknown) => {
    cause ??= err;
  });
  try {
    await client.connect();
    const pong = await client.ping();
    const who = options.username === undefined ? '' : ` as ${options.username}`;
    return outcome.ok(`connected${who}, PING answered ${pong}`);
  } catch (thrown) {
    const err = cause ?? thrown;
    const message = err instanceof Error ? err.message : String(err);
    if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
      return outcome.fail(
        `Redis refused modgate's credentials (${message.split(' ')[0]})`,
        'check state.username and state.password (the secret must be the password Redis requires)',
      );
    }
    if (isTlsVerifyError(err)) {
      return outcome.fail(
        `cannot connect: ${describeSocketError(err)}`,
        'set state.tls.ca to the CA that signed Redis’ certificate',
      );
    }
    return outcome.fail(
      `cannot connect: ${describeSocketError(err)}`,
      'check state.url (or sentinels/nodes) and that Redis is running and reachable from here',
    );
  } finally {
    client.disconnect();
  }
}
