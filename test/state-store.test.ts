/**
 * State stores: the shared suite for the in-process store and for
 * Redis (standalone with a password, Cluster), then Redis trouble against real
 * redis-server processes: killed, hung, restarted, wrong password, TLS, and a
 * Sentinel failover during traffic.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { stateConfigSchema } from '../gateway/state/config.ts';
import { parseSealingKey, randomSealer, ValueSealer } from '../gateway/state/crypto.ts';
import { MemoryStore, type StateLogger } from '../gateway/state/memory-store.ts';
import type { RedisStoreOptions } from '../gateway/state/redis-options.ts';
import { RedisStore } from '../gateway/state/redis-store.ts';
import { hostPortOf, stateSettings } from '../gateway/state/settings.ts';
import { type StateStore, stateChannel, stateKey } from '../gateway/state/store.ts';
import { type RedisServer, sleep, startRedis, waitFor } from '../harness/redis.ts';
import { type RedisSentinelSet, startRedisCluster, startRedisSentinel } from '../harness/redis-topologies.ts';
import { runStateStoreSuite } from './support/state-store-suite.ts';

/** Per-call bound used by the Redis trouble tests (milliseconds). */
const CALL_TIMEOUT_MS = 200;
/**
 * Slack on top of the call bound for timers and the event loop when other
 * test files load the machine (milliseconds). Without the bound a call would
 * wait for the reconnect (seconds), so the assertion still tells them apart.
 */
const LATENCY_SLACK_MS = 1_000;
/** Per-call bound for the shared suite (milliseconds). */
const SUITE_TIMEOUT_MS = 2_000;
const REDIS_PASSWORD = `redis-pw-${randomUUID()}`;

/** A logger that keeps what it was given, as pino would write it. */
function recordingLogger(): StateLogger & { lines: () => string[]; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return Object.assign(logger, { lines: () => lines, text: () => lines.join('\n') });
}

const messagesOf = (log: ReturnType<typeof recordingLogger>): string[] =>
  log.lines().map((l) => (JSON.parse(l) as { msg: string }).msg);

function standalone(server: RedisServer, extra: Partial<RedisStoreOptions> = {}): RedisStoreOptions {
  return {
    topology: { kind: 'standalone', url: server.url },
    password: server.password,
    commandTimeoutMs: CALL_TIMEOUT_MS,
    connectTimeoutMs: 2_000,
    logger: recordingLogger(),
    ...extra,
  };
}

const totalFallbacks = async (store: StateStore): Promise<number> =>
  Object.values((await store.health()).fallbacks).reduce((a, b) => a + b, 0);

/**
 * Runs a mixed stream of store calls on every store until `stop()`; records
 * the slowest call and every rejection (there must be none).
 */
function traffic(stores: StateStore[]) {
  let running = true;
  let slowest = 0;
  let calls = 0;
  const failures: unknown[] = [];
  const timed = async <T>(p: Promise<T>): Promise<T | undefined> => {
    const start = performance.now();
    try {
      return await p;
    } catch (err) {
      failures.push(err);
      return undefined;
    } finally {
      slowest = Math.max(slowest, performance.now() - start);
      calls += 1;
    }
  };
  const loops = stores.map(async (store, i) => {
    for (let n = 0; running && n < 100_000; n += 1) {
      const k = stateKey('test-traffic', `${i}-${n % 20}`);
      await timed(store.set(k, `v${n}`, 5_000));
      await timed(store.get(k));
      await timed(store.incrementWindow(stateKey('test-traffic', 'window'), 60_000));
      const lease = await timed(store.acquire(stateKey('test-traffic', 'sem'), 100, 5_000));
      await timed(lease?.release() ?? Promise.resolve());
      await sleep(5);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { slowest, calls, failures };
    },
  };
}

async function waitShared(...stores: StateStore[]): Promise<void> {
  let last: unknown;
  try {
    await waitFor('the stores to share state again', async () => {
      const health = await Promise.all(stores.map((s) => s.health()));
      last = health;
      return health.every((h) => h.shared) ? true : undefined;
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; last health: ${JSON.stringify(last)}`);
  }
}

// ---------------------------------------------------------------------------

runStateStoreSuite('MemoryStore', async () => {
  const store = new MemoryStore();
  return { a: store, b: store };
});

runStateStoreSuite('RedisStore (standalone, password)', async () => {
  const server = await startRedis({ password: REDIS_PASSWORD });
  // A generous bound: this suite checks shared semantics, which a timeout under load would turn into local ones.
  const options = () => standalone(server, { commandTimeoutMs: SUITE_TIMEOUT_MS });
  const [a, b] = await Promise.all([RedisStore.open(options()), RedisStore.open(options())]);
  return {
    a,
    b,
    valuesAtRest: async () => [...(await server.scanAll()).values()],
    teardown: () => server.dispose(),
  };
});

runStateStoreSuite('RedisStore (cluster of 3)', async () => {
  const cluster = await startRedisCluster(3);
  const options = (): RedisStoreOptions => ({
    topology: { kind: 'cluster', nodes: cluster.nodes.map((n) => ({ host: n.host, port: n.port })) },
    commandTimeoutMs: SUITE_TIMEOUT_MS,
    logger: recordingLogger(),
  });
  const [a, b] = await Promise.all([RedisStore.open(options()), RedisStore.open(options())]);
  return {
    a,
    b,
    valuesAtRest: async () =>
      (await Promise.all(cluster.nodes.map((n) => n.scanAll()))).flatMap((m) => [...m.values()]),
    teardown: () => cluster.dispose(),
  };
});

describe('MemoryStore bounds', () => {
  it('keeps at most maxEntries, dropping expired entries first, then the least recently used', async () => {
    let now = 0;
    const store = new MemoryStore({ maxEntries: 3, now: () => now });
    await store.set(stateKey('t', 'short'), 'x', 10);
    await store.set(stateKey('t', 'a'), 'a', 1_000);
    await store.set(stateKey('t', 'b'), 'b', 1_000);
    now = 20;
    await store.set(stateKey('t', 'c'), 'c', 1_000);
    expect(store.size).toBe(3);
    expect(await store.get(stateKey('t', 'a'))).toBe('a');
    await store.set(stateKey('t', 'd'), 'd', 1_000);
    expect(await store.get(stateKey('t', 'b'))).toBeUndefined();
    expect(await store.get(stateKey('t', 'a'))).toBe('a');
    expect(store.size).toBe(3);
  });

  it('delivers to a subscriber even when another subscriber throws, and logs the failure', async () => {
    const log = recordingLogger();
    const store = new MemoryStore({ logger: log });
    const got: string[] = [];
    await store.subscribe(stateChannel('boom'), () => {
      throw new Error('subscriber bug');
    });
    await store.subscribe(stateChannel('boom'), (m) => got.push(m));
    await store.publish(stateChannel('boom'), 'm');
    expect(got).toEqual(['m']);
    expect(messagesOf(log)).toContain('state subscriber failed');
  });
});

describe('ValueSealer', () => {
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  const name = stateKey('upstream-token', 'bob');

  it('uses a fresh nonce per seal and opens after rotation while the old key is kept', () => {
    const old = new ValueSealer([k1]);
    const sealed = old.seal(name, 'tok');
    expect(old.seal(name, 'tok')).not.toBe(sealed);
    const rotated = new ValueSealer([k2, k1]);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.open(name, sealed)).toBe('tok');
    expect(rotated.seal(name, 'tok').startsWith('k2.')).toBe(true);
    expect(new ValueSealer([k2]).open(name, sealed)).toBeUndefined();
    expect(randomSealer().open(name, sealed)).toBeUndefined();
  });

  it('refuses bad key sets and key material with config.invalid, never echoing the value', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        if (isModgateError(err)) return `${err.code}: ${err.message}`;
        throw err;
      }
      return 'accepted';
    };
    expect(code(() => new ValueSealer([]))).toMatch(/^config.invalid/);
    expect(code(() => new ValueSealer([k1, { ...k2, id: 'k1' }]))).toMatch(/repeated/);
    expect(code(() => new ValueSealer([{ id: 'a.b', key: k1.key }]))).toMatch(/must match/);
    expect(code(() => new ValueSealer([{ id: 'short', key: randomBytes(16) }]))).toMatch(/32 bytes/);
    expect(parseSealingKey(k1.key.toString('hex'), 'x')).toEqual(k1.key);
    expect(parseSealingKey(k1.key.toString('base64'), 'x')).toEqual(k1.key);
    expect(parseSealingKey(`${k1.key.toString('base64url')}\n`, 'x')).toEqual(k1.key);
    const bad = code(() => parseSealingKey('not-a-key-but-a-secret', 'state.encryption.keys.0.key'));
    expect(bad).toMatch(/^config.invalid: state.encryption.keys.0.key: must be 32 bytes/);
    expect(bad).not.toContain('not-a-key-but-a-secret');
  });
});

describe('state config', () => {
  const issues = (input: unknown): string[] => {
    const r = stateConfigSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults to the in-process store', () => {
    expect(stateConfigSchema.parse(undefined)).toEqual({ kind: 'memory', max_entries: 100_000 });
  });

  it('accepts standalone, Sentinel and Cluster with durations in Go syntax', () => {
    const redis = stateConfigSchema.parse({
      kind: 'redis',
      url: 'rediss://redis.corp:6380/2',
      password: 'env:REDIS_PW',
      tls: { ca: 'file:ca.pem' },
      command_timeout: '300ms',
    });
    expect(redis).toMatchObject({ kind: 'redis', command_timeout: 300, connect_timeout: 2_000 });
    expect(issues({ kind: 'redis', sentinels: ['10.0.0.1:26379', '[::1]:26380'], name: 'm' })).toEqual([]);
    expect(issues({ kind: 'redis', nodes: ['r1:7000', 'r2:7000'] })).toEqual([]);
    expect(hostPortOf('[::1]:26380')).toEqual({ host: '::1', port: 26380 });
  });

  it.each([
    [{ kind: 'redis' }, ': needs one of url (standalone), sentinels (Sentinel) or nodes (Cluster)'],
    [
      { kind: 'redis', url: 'redis://a:1', nodes: ['b:2'] },
      'nodes: url, sentinels and nodes exclude each other',
    ],
    [{ kind: 'redis', sentinels: ['a:1'] }, 'name: is required with sentinels'],
    [{ kind: 'redis', url: 'redis://a:1', name: 'm' }, 'name: only with sentinels'],
    [{ kind: 'redis', url: 'redis://u:pw@a:1' }, 'url: must not carry credentials'],
    [{ kind: 'redis', url: 'http://a:1' }, 'url: '],
    [{ kind: 'redis', nodes: ['a'] }, 'nodes.0: must be host:port'],
    [{ kind: 'redis', nodes: ['a:70000'] }, 'nodes.0: port must be 1-65535'],
    [{ kind: 'redis', url: 'redis://a:1', password: 'hunter2' }, 'password: must be a reference'],
    [{ kind: 'redis', url: 'redis://a:1', command_timeout: '1m' }, 'command_timeout: must be at most 5000ms'],
    [{ kind: 'redis', url: 'redis://a:1', command_timeout: '0s' }, 'command_timeout: must be at least 1ms'],
    [{ kind: 'redis', url: 'redis://a:1', tls: { verify: false } }, 'tls: Unrecognized key: "verify"'],
    [{ kind: 'memory', encryption: { keys: [] } }, 'encryption.keys: '],
    [
      {
        kind: 'memory',
        encryption: {
          keys: [
            { id: 'a', key: 'env:A' },
            { id: 'a', key: 'env:B' },
          ],
        },
      },
      'encryption.keys: key ids must be unique',
    ],
    [{ kind: 'sqlite' }, 'kind: '],
  ])('rejects %j', (input, expected) => {
    expect(issues(input).join('\n')).toContain(expected);
  });

  it('resolves secrets into store options', () => {
    const key = randomBytes(32);
    const secrets: Record<string, string> = {
      'env:PW': 'pw',
      'env:SPW': 'spw',
      'env:K': key.toString('base64'),
    };
    const config = stateConfigSchema.parse({
      kind: 'redis',
      sentinels: ['127.0.0.1:26379'],
      name: 'm',
      password: 'env:PW',
      sentinel_password: 'env:SPW',
      encryption: { keys: [{ id: 'k', key: 'env:K' }] },
    });
    const settings = stateSettings(config, (ref) => secrets[ref] ?? '');
    expect(settings).toMatchObject({
      kind: 'redis',
      redis: {
        password: 'pw',
        commandTimeoutMs: 250,
        topology: {
          kind: 'sentinel',
          name: 'm',
          sentinelPassword: 'spw',
          sentinels: [{ host: '127.0.0.1', port: 26379 }],
        },
      },
      sealingKeys: [{ id: 'k', key }],
    });
  });
});

describe('RedisStore construction', () => {
  it.each<[RedisStoreOptions['topology'], string]>([
    [{ kind: 'standalone', url: 'redis://user:pw@127.0.0.1:6379' }, 'must not carry credentials'],
    [{ kind: 'standalone', url: 'http://127.0.0.1:6379' }, 'redis:// or rediss://'],
    [{ kind: 'standalone', url: 'nonsense' }, 'not a URL'],
    [{ kind: 'sentinel', sentinels: [], name: 'm' }, 'at least one'],
    [{ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 0 }] }, 'is not a host:port'],
  ])('refuses invalid options with config.invalid: %j', (topology, message) => {
    let caught: unknown;
    try {
      new RedisStore({ topology, logger: recordingLogger() });
    } catch (err) {
      caught = err;
    }
    expect(isModgateError(caught, 'config.invalid')).toBe(true);
    expect((caught as Error).message).toContain(message);
    expect((caught as Error).message).not.toContain('pw@');
  });
});

describe('RedisStore when Redis is in trouble', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ password: REDIS_PASSWORD });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('keeps answering within the call timeout while Redis is killed, counts it, and shares again after restart', async () => {
    const logA = recordingLogger();
    const a = await RedisStore.open(standalone(server, { logger: logA }));
    const b = await RedisStore.open(standalone(server));
    const gaps: number[] = [];
    const atB: string[] = [];
    await b.subscribe(stateChannel('test-revocations'), (m) => atB.push(m), {
      onGap: () => gaps.push(Date.now()),
    });
    try {
      const load = traffic([a, b]);
      await sleep(300);
      await server.kill();
      await sleep(1_000);
      await server.restart();
      await waitShared(a, b);
      await sleep(200);
      const { slowest, calls, failures } = await load.stop();

      expect(failures).toEqual([]);
      expect(calls).toBeGreaterThan(50);
      expect(slowest).toBeLessThan(CALL_TIMEOUT_MS + LATENCY_SLACK_MS);
      expect(await totalFallbacks(a)).toBeGreaterThan(0);
      const messages = messagesOf(logA);
      expect(messages).toContain('shared state unavailable; answering from process-local state');
      expect(messages).toContain('shared state available again');
      // Logged per outage, not per call (a busy test machine may add a short second outage).
      const warnings = messages.filter((m) => m.startsWith('shared state unavailable')).length;
      expect(warnings).toBeGreaterThanOrEqual(1);
      expect(warnings).toBeLessThanOrEqual(3);
      expect(logA.text()).not.toContain(REDIS_PASSWORD);

      // Sharing restored: values, counters and pub/sub (resubscribed, with a gap notice).
      const k = stateKey('test-after-restart', randomUUID());
      await a.set(k, 'shared again', 10_000);
      expect(await b.get(k)).toBe('shared again');
      expect((await server.scanAll()).get(k)).toBe('shared again');
      expect(gaps.length).toBeGreaterThanOrEqual(1);
      await a.publish(stateChannel('test-revocations'), 'revoke token:t1');
      await waitFor(
        'the revocation at b',
        async () => (atB.includes('revoke token:t1') ? true : undefined),
        1_000,
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('pays at most one call timeout when Redis hangs, then answers locally until it is back', async () => {
    const a = await RedisStore.open(standalone(server));
    const b = await RedisStore.open(standalone(server));
    const atB: string[] = [];
    await b.subscribe(stateChannel('test-hang'), (m) => atB.push(m));
    const k = stateKey('test-hang', randomUUID());
    try {
      await a.set(k, 'before', 60_000);
      server.pause();
      let start = performance.now();
      expect(await a.get(k)).toBe('before');
      expect(performance.now() - start).toBeLessThan(CALL_TIMEOUT_MS + LATENCY_SLACK_MS);
      start = performance.now();
      for (let i = 0; i < 20; i += 1) await a.get(k);
      expect(performance.now() - start).toBeLessThan((20 * CALL_TIMEOUT_MS) / 4);
      // Published while hung: kept and resent once Redis answers again.
      await a.publish(stateChannel('test-hang'), 'published while hung');
      expect((await a.health()).shared).toBe(false);
      server.resume();
      await sleep(1_100);
      await waitShared(a);
      await a.get(k);
      await waitFor(
        'the held message at b',
        async () => (atB.includes('published while hung') ? true : undefined),
        2_000,
      );
      expect(atB.filter((m) => m === 'published while hung')).toHaveLength(1);
    } finally {
      server.resume();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('still enforces a lockout it has seen when Redis goes away', async () => {
    const a = await RedisStore.open(standalone(server));
    const b = await RedisStore.open(standalone(server));
    const failures = stateKey('test-lockout-user', randomUUID());
    const lock = stateKey('test-lock-user', randomUUID());
    try {
      for (let i = 0; i < 5; i += 1) await b.incrementWindow(failures, 60_000);
      expect((await a.incrementWindow(failures, 60_000)).count).toBe(6);
      await b.set(lock, 'locked', 60_000);
      expect(await a.get(lock)).toBe('locked');
      await server.kill();
      expect(await a.get(lock)).toBe('locked');
      expect((await a.incrementWindow(failures, 60_000)).count).toBe(7);
    } finally {
      await server.restart();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('replays what it did during an outage once Redis is back, so a lockout earned meanwhile holds', async () => {
    const a = await RedisStore.open(standalone(server));
    const b = await RedisStore.open(standalone(server));
    const failures = stateKey('test-lockout-ip', randomUUID());
    const lock = stateKey('test-lock-ip', randomUUID());
    const gone = stateKey('test-gone', randomUUID());
    try {
      await a.set(gone, 'to be deleted', 60_000);
      await server.kill();
      for (let i = 0; i < 3; i += 1) await a.incrementWindow(failures, 60_000);
      await a.set(lock, 'locked', 60_000);
      await a.delete(gone);
      expect(await a.get(lock)).toBe('locked');
      expect(await a.get(gone)).toBeUndefined();
      await server.restart();
      await waitShared(a, b);
      await waitFor(
        'the lock at b',
        async () => ((await b.get(lock)) === 'locked' ? true : undefined),
        2_000,
      );
      expect((await b.incrementWindow(failures, 60_000)).count).toBe(4);
      expect(await b.get(gone)).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('starts without Redis, answers locally, and shares once Redis appears', async () => {
    await server.stop();
    const started = performance.now();
    const a = await RedisStore.open(standalone(server, { connectTimeoutMs: 300 }));
    const b = await RedisStore.open(standalone(server, { connectTimeoutMs: 300 }));
    try {
      expect(performance.now() - started).toBeLessThan(2 * (300 + LATENCY_SLACK_MS));
      const k = stateKey('test-late-redis', randomUUID());
      await a.set(k, 'early', 60_000);
      expect(await b.get(k)).toBeUndefined();
      await server.restart();
      await waitShared(a, b);
      await waitFor(
        'the early value at b',
        async () => ((await b.get(k)) === 'early' ? true : undefined),
        2_000,
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('never throws with a wrong password: answers locally and says why in the log', async () => {
    const log = recordingLogger();
    const wrong = `wrong-${randomUUID()}`;
    const store = await RedisStore.open(
      standalone(server, { password: wrong, connectTimeoutMs: 500, logger: log }),
    );
    try {
      const k = stateKey('test-wrong-pw', 'x');
      await store.set(k, 'local', 10_000);
      expect(await store.get(k)).toBe('local');
      expect((await store.incrementWindow(k, 1_000)).count).toBe(1);
      const health = await store.health();
      expect(health.shared).toBe(false);
      expect(health.fallbacks.set).toBe(1);
      expect(health.fallbacks.incrementWindow).toBe(1);
      expect(messagesOf(log)).toContain('shared state unavailable; answering from process-local state');
      expect(log.text()).not.toContain(wrong);
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore over TLS', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ tls: true, password: REDIS_PASSWORD });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('shares state when it trusts the CA, and not when it does not', async () => {
    const trusted = await RedisStore.open(standalone(server, { tls: { ca: server.pki!.caPem } }));
    const untrusted = await RedisStore.open(standalone(server, { connectTimeoutMs: 500 }));
    try {
      expect(server.url.startsWith('rediss://')).toBe(true);
      expect((await trusted.health()).shared).toBe(true);
      expect((await untrusted.health()).shared).toBe(false);
    } finally {
      await Promise.all([trusted.close(), untrusted.close()]);
    }
  });

  it('accepts any certificate only with insecure_skip_verify, and warns about it', async () => {
    const log = recordingLogger();
    const store = await RedisStore.open(
      standalone(server, { tls: { insecureSkipVerify: true }, logger: log }),
    );
    try {
      expect((await store.health()).shared).toBe(true);
      expect(messagesOf(log).some((m) => m.includes('insecure_skip_verify'))).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore with Sentinel', () => {
  let set: RedisSentinelSet;
  beforeAll(async () => {
    set = await startRedisSentinel({ password: REDIS_PASSWORD });
  });
  afterAll(async () => {
    await set?.dispose();
  });

  it('follows a failover during traffic without a failed call, and shares state on the new master', async () => {
    const options = (): RedisStoreOptions => ({
      topology: { kind: 'sentinel', sentinels: [set.sentinel], name: set.name },
      password: REDIS_PASSWORD,
      commandTimeoutMs: CALL_TIMEOUT_MS,
      logger: recordingLogger(),
    });
    const a = await RedisStore.open(options());
    const b = await RedisStore.open(options());
    try {
      expect((await a.health()).shared).toBe(true);
      const oldMaster = await set.masterPort();
      expect(oldMaster).toBe(set.master.port);
      const load = traffic([a, b]);
      await sleep(300);
      await set.master.kill();
      expect(await set.waitForFailover(oldMaster)).toBe(set.replica.port);
      await waitShared(a, b);
      await sleep(200);
      const { slowest, failures } = await load.stop();
      expect(failures).toEqual([]);
      expect(slowest).toBeLessThan(CALL_TIMEOUT_MS + LATENCY_SLACK_MS);

      const k = stateKey('test-sentinel', randomUUID());
      await a.set(k, 'on the new master', 10_000);
      expect(await b.get(k)).toBe('on the new master');
      expect(await set.replica.cli('GET', k)).toBe('on the new master');
      const window = stateKey('test-sentinel', randomUUID());
      await a.incrementWindow(window, 60_000);
      expect((await b.incrementWindow(window, 60_000)).count).toBe(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
