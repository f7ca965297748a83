import type { ConnectionOptions } from 'node:tls';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { ModgateError } from '../../core/errors.ts';
import type { StateLogger } from './memory-store.ts';

/** Default bound on one Redis call before it is answered from process-local state (milliseconds). */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 250;
/** Default bound on establishing a connection, TLS and AUTH included (milliseconds). */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 2_000;
/** Reconnect delay after the n-th failed attempt: n × this, capped below (milliseconds). */
const RECONNECT_STEP_MS = 100;
/** Longest pause between two reconnect attempts (milliseconds); attempts never stop. */
const RECONNECT_MAX_DELAY_MS = 2_000;
/** ioredis's own command timeout runs this much longer than the store's (milliseconds). */
const COMMAND_TIMEOUT_GRACE_MS = 50;

/** `host:port` of one Redis node or Sentinel. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is: one server, a Sentinel-managed master, or a Cluster. */
export type RedisTopology =
  /** `redis://host:port/db` or `rediss://…` (TLS). Credentials go in `username`/`password`, not the URL. */
  | { readonly kind: 'standalone'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly HostPort[];
      /** The master group name Sentinel monitors (`sentinel monitor <name> …`). */
      readonly name: string;
      readonly db?: number;
      readonly sentinelUsername?: string;
      readonly sentinelPassword?: string;
    }
  /** Seed nodes; the rest is discovered. Scripts touch one key each, so no hash tags are needed. */
  | { readonly kind: 'cluster'; readonly nodes: readonly HostPort[] };

/** TLS to Redis (and to Sentinels). */
export interface RedisTlsOptions {
  /** PEM of the CA(s) to trust instead of the system store. */
  readonly ca?: string;
  /** Name to verify the certificate against when it differs from the host. */
  readonly serverName?: string;
  /** Opt-in: accept any certificate (testing only; logged as a warning). */
  readonly insecureSkipVerify?: boolean;
}

/** Everything `RedisStore` needs; secrets already resolved by the caller. */
export interface RedisStoreOptions {
  readonly topology: RedisTopology;
  readonly username?: string;
  readonly password?: string;
  /** Enables TLS (also enabled by a `rediss://` URL). */
  readonly tls?: RedisTlsOptions;
  /** Bound on one call (milliseconds); see DEFAULT_REDIS_COMMAND_TIMEOUT_MS. */
  readonly commandTimeoutMs?: number;
  /** Bound on connecting (milliseconds); see DEFAULT_REDIS_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number;
  /** Bound on the per-process fallback (entries); see DEFAULT_MEMORY_MAX_ENTRIES. */
  readonly maxEntries?: number;
  readonly logger: StateLogger;
}

export type RedisClient = Redis | Cluster;
/** Which connection a client is (the store's two, durable records'), for `CLIENT LIST` and logs. */
export type ClientRole = 'commands' | 'subscriber' | 'durable';

/** A short, secret-free description of where Redis is, for logs. */
export function describeTopology(topology: RedisTopology): string {
  switch (topology.kind) {
    case 'standalone': {
      const url = new URL(topology.url);
      return `${url.protocol}//${url.host}`;
    }
    case 'sentinel':
      return `sentinel ${topology.name} via ${topology.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
    case 'cluster':
      return `cluster via ${topology.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
  }
}

/**
 * Checks options that ioredis would only trip over later; throws
 * `config.invalid` naming the problem (never a secret).
 */
export function validateRedisOptions(options: RedisStoreOptions): void {
  const fail = (message: string): never => {
    throw new ModgateError('config.invalid', `state.redis: ${message}`);
  };
  for (const [name, value] of [
    ['command timeout', options.commandTimeoutMs],
    ['connect timeout', options.connectTimeoutMs],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) fail(`${name} must be ≥ 1 ms`);
  }
  const { topology } = options;
  const checkNodes = (what: string, nodes: readonly HostPort[]): void => {
    if (nodes.length === 0) fail(`${what} must list at least one host:port`);
    for (const n of nodes) {
      if (n.host === '' || !Number.isInteger(n.port) || n.port < 1 || n.port > 65535) {
        fail(`${what}: "${n.host}:${n.port}" is not a host:port`);
      }
    }
  };
  if (topology.kind === 'standalone') {
    const url = URL.parse(topology.url) ?? fail('url is not a URL');
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
      fail('url must start with redis:// or rediss://');
    if (url.username !== '' || url.password !== '')
      fail('url must not carry credentials (use username/password)');
    if (!/^\/?(\d{1,2})?$/.test(url.pathname)) fail('url path must be empty or a database number');
  } else if (topology.kind === 'sentinel') {
    checkNodes('sentinels', topology.sentinels);
    if (topology.name === '') fail('name (the Sentinel master group) must not be empty');
  } else {
    checkNodes('nodes', topology.nodes);
  }
}

/** Creates one ioredis client (not yet connected) with the store's bounded, never-queueing settings. */
export function createRedisClient(options: RedisStoreOptions, role: ClientRole): RedisClient {
  const commandTimeout = options.commandTimeoutMs ?? DEFAULT_REDIS_COMMAND_TIMEOUT_MS;
  const { topology } = options;
  const url = topology.kind === 'standalone' ? new URL(topology.url) : undefined;
  const tls = tlsOptions(options.tls, url?.protocol === 'rediss:');
  const common: RedisOptions = {
    username: options.username,
    password: options.password,
    tls,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
    // A backstop behind the store's own per-call bound, so ioredis drops replies that came too late.
    commandTimeout: commandTimeout + COMMAND_TIMEOUT_GRACE_MS,
    connectionName: `modgate-${role}`,
    lazyConnect: true,
    // Never queue while disconnected and never resend after a reconnect: the
    // store has already answered that call from process-local state.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // The store resubscribes itself on every `ready`, and tells subscribers about the gap.
    autoResubscribe: false,
    retryStrategy: reconnectDelay,
    // A replica answers writes with READONLY after a failover it has not seen yet: reconnect to the master.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    // Commands issued in the same event-loop turn (many requests' lockout, rate and slot calls under
    // load) go out as one write: 8–15 % less gateway CPU per request with `state: redis` (BENCHMARKS.md).
    enableAutoPipelining: true,
  };
  switch (topology.kind) {
    case 'standalone':
      return new Redis({
        ...common,
        host: url!.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url!.port === '' ? 6379 : Number(url!.port),
        db: url!.pathname.length > 1 ? Number(url!.pathname.slice(1)) : 0,
      });
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
        name: topology.name,
        db: topology.db ?? 0,
        sentinelUsername: topology.sentinelUsername,
        sentinelPassword: topology.sentinelPassword,
        enableTLSForSentinelMode: tls !== undefined,
        sentinelTLS: tls,
        sentinelRetryStrategy: reconnectDelay,
        sentinelCommandTimeout: commandTimeout,
        // Off: ioredis 6's detector can disconnect a connection attempt in flight and leave the client
        // ended. Without it a failover is followed on reconnect (old master gone) or on READONLY (old
        // master demoted, see reconnectOnError).
        failoverDetector: false,
      });
    case 'cluster': {
      const { retryStrategy: _r, enableOfflineQueue: _q, lazyConnect: _l, ...redisOptions } = common;
      const clusterOptions: ClusterOptions = {
        redisOptions,
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: reconnectDelay,
        slotsRefreshTimeout: commandTimeout,
        scaleReads: 'master',
      };
      return new Cluster(
        topology.nodes.map(({ host, port }) => ({ host, port })),
        clusterOptions,
      );
    }
  }
}

/** Logs the opt-in insecure settings once at start, as every unsafe opt-in is. */
export function warnInsecure(options: RedisStoreOptions, logger: StateLogger): void {
  if (options.tls?.insecureSkipVerify === true) {
    logger.warn(
      { where: describeTopology(options.topology) },
      'state.redis.tls.insecure_skip_verify is set: the Redis certificate is not verified',
    );
  }
}

function reconnectDelay(attempt: number): number {
  return Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_DELAY_MS);
}

function tlsOptions(tls: RedisTlsOptions | undefined, byUrl: boolean): ConnectionOptions | undefined {
  if (tls === undefined && !byUrl) return undefined;
  return {
    ca: tls?.ca,
    servername: tls?.serverName,
    rejectUnauthorized: tls?.insecureSkipVerify !== true,
  };
}

/**
 * Restarts a client that ioredis ended on its own (it does so when a
 * connection attempt is cut short, e.g. during a Sentinel failover), so that
 * reconnection really never stops. `isClosed` tells a deliberate close apart.
 */
export function keepConnected(
  client: RedisClient,
  role: ClientRole,
  isClosed: () => boolean,
  logger: StateLogger,
): void {
  client.on('end', () => {
    if (isClosed()) return;
    logger.warn({ role }, 'redis client ended; reconnecting');
    const timer = setTimeout(() => {
      if (!isClosed()) client.connect().catch(() => undefined);
    }, RECONNECT_MAX_DELAY_MS);
    timer.unref();
  });
}

/** The loggable part of a foreign error: its class and message (ioredis may attach command arguments). */
export function brief(err: unknown): { name: string; message: string } {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'unknown', message: String(err) };
}

/** Resolves true when `client` is ready, false after `ms`. */
export function waitReady(client: RedisClient, ms: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, ms);
    client.once('ready', onReady);
  });
}
