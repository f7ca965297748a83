/**
 * Redis topologies for tests of shared state beyond one server: a Sentinel
 * set (master, replica, sentinel) and a Redis Cluster, all on loopback.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, LOOPBACK_V4 } from './ports.ts';
import { type RedisServer, redisCli, serve, startRedis, waitFor } from './redis.ts';

/** Sentinel: silence after which the master counts as down (milliseconds); small so failover takes ~1-2 s. */
const SENTINEL_DOWN_AFTER_MS = 500;
/** Sentinel: bound on one failover attempt (milliseconds). */
const SENTINEL_FAILOVER_TIMEOUT_MS = 5_000;
/** The master group name of the Sentinel set. */
export const SENTINEL_MASTER_NAME = 'modgate-test';

/** A Sentinel set-up: one master, one replica, one sentinel (quorum 1), all on loopback. */
export interface RedisSentinelSet {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  /** The sentinel's address. */
  readonly sentinel: { readonly host: string; readonly port: number };
  /** The master group name (`sentinel monitor <name> …`). */
  readonly name: string;
  /** The port Sentinel currently names as master. */
  masterPort(): Promise<number>;
  /** Waits until Sentinel names a master other than `oldPort` (bounded); returns the new master's port. */
  waitForFailover(oldPort: number): Promise<number>;
  dispose(): Promise<void>;
}

/** Starts master, replica (synced) and a sentinel that has discovered the replica (about 1-2 s). */
export async function startRedisSentinel(options: { password?: string } = {}): Promise<RedisSentinelSet> {
  const master = await startRedis({ password: options.password });
  const replica = await startRedis({ password: options.password, replicaOf: master });
  const dir = await mkdtemp(join(tmpdir(), 'modgate-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  await writeFile(
    conf,
    [
      `port ${port}`,
      `bind ${LOOPBACK_V4}`,
      `dir ${dir}`,
      `sentinel monitor ${SENTINEL_MASTER_NAME} ${master.host} ${master.port} 1`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${SENTINEL_DOWN_AFTER_MS}`,
      `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${SENTINEL_FAILOVER_TIMEOUT_MS}`,
      ...(options.password === undefined
        ? []
        : [`sentinel auth-pass ${SENTINEL_MASTER_NAME} ${options.password}`]),
      '',
    ].join('\n'),
  );
  const proc = await serve([conf, '--sentinel'], port, dir);
  const cli = (...args: string[]) => redisCli(['-h', LOOPBACK_V4, '-p', String(port), ...args], undefined);
  const masterPort = async (): Promise<number> => {
    const [, p] = (await cli('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME)).split('\n');
    return Number(p);
  };
  await waitFor('the sentinel to see the replica', async () => {
    const replicas = await cli('SENTINEL', 'replicas', SENTINEL_MASTER_NAME);
    return replicas.includes(String(replica.port)) && !/s_down|disconnected/.test(replicas)
      ? true
      : undefined;
  });
  return {
    master,
    replica,
    sentinel: { host: LOOPBACK_V4, port },
    name: SENTINEL_MASTER_NAME,
    masterPort,
    async waitForFailover(oldPort) {
      return waitFor('sentinel to promote a new master', async () => {
        const now = await masterPort();
        return now !== oldPort && now > 0 ? now : undefined;
      });
    },
    async dispose() {
      await proc.kill();
      await Promise.all([master.dispose(), replica.dispose()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of masters only (no replicas), all slots assigned. */
export interface RedisClusterSet {
  readonly nodes: readonly RedisServer[];
  dispose(): Promise<void>;
}

/** Starts `size` cluster-enabled servers and joins them with `redis-cli --cluster create` (about 1-2 s). */
export async function startRedisCluster(size = 3): Promise<RedisClusterSet> {
  const nodes = await Promise.all(
    Array.from({ length: size }, () =>
      startRedis({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] }),
    ),
  );
  const [first] = nodes;
  if (first === undefined) throw new Error('a cluster needs at least one node');
  await redisCli(
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `${n.host}:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    undefined,
  );
  for (const node of nodes) {
    await waitFor(`cluster_state:ok on ${node.port}`, async () =>
      /cluster_state:ok/.test(await node.cli('CLUSTER', 'INFO')) ? true : undefined,
    );
  }
  return {
    nodes,
    async dispose() {
      await Promise.all(nodes.map((n) => n.dispose()));
    },
  };
}
