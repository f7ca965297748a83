/**
 * Real redis-server processes for tests, on loopback ports, in temp folders,
 * without persistence: a standalone server (optionally with a password or
 * TLS), a Sentinel set (master, replica, one sentinel) and a small Cluster.
 * Helpers stop, kill, pause and restart a server to simulate Redis trouble,
 * and `scanAll` reads back every key and value (for "no secret at rest").
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { type Daemon, startDaemon } from './daemon.ts';
import { freePort, LOOPBACK_V4 } from './ports.ts';
import { makeTestPki, type TestPki } from './tls.ts';

const execFileAsync = promisify(execFile);

/** Debian's redis-server (also the sentinel, with --sentinel) and redis-cli. */
const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
/** Upper bound for one redis-cli run (milliseconds). */
const CLI_TIMEOUT_MS = 15_000;
/** Upper bound for a replica to sync, a sentinel to see its replica, a cluster to settle (milliseconds). */
const SETTLE_TIMEOUT_MS = 15_000;
/** Pause between polls while waiting for any of the above (milliseconds). */
const POLL_INTERVAL_MS = 25;

export interface RedisServerOptions {
  /** Sets `requirepass` (and `masterauth`, so a replica can follow a protected master). */
  password?: string;
  /** Serves TLS only (no plain port), with a certificate from a fresh test CA. */
  tls?: boolean;
  /** Starts as a replica of this server. */
  replicaOf?: RedisServer;
  /** Extra `--name value` arguments. */
  args?: string[];
}

/** A running redis-server; see `startRedis`. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` or `rediss://…` (no credentials). */
  readonly url: string;
  readonly password: string | undefined;
  /** The test CA and server certificate when started with `tls`. */
  readonly pki: TestPki | undefined;
  /** True between a start and a stop/kill. */
  readonly running: boolean;
  /** Runs redis-cli against this server; returns its trimmed stdout. */
  cli(...args: string[]): Promise<string>;
  /** Every key with its value (strings as is; sets, hashes and sorted sets as space-joined members). */
  scanAll(): Promise<Map<string, string>>;
  /** SIGTERM and wait (data is lost: there is no persistence). */
  stop(): Promise<void>;
  /** SIGKILL and wait, as a crash. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open but nothing answers (a hung Redis). */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Starts again on the same port (empty). */
  restart(): Promise<void>;
  /** Stops and deletes the temp folder. */
  dispose(): Promise<void>;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, at most `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = SETTLE_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}

/**
 * Spawns `redis-server <args>` and waits until `port` accepts connections;
 * the returned handle stops, kills, pauses and restarts that process.
 */
export async function serve(args: string[], port: number, dir: string) {
  let child: Daemon | undefined;

  async function start(): Promise<void> {
    child = await startDaemon({ command: REDIS_SERVER, args, port, cwd: dir });
  }

  async function end(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const daemon = child;
    child = undefined;
    await daemon?.end(signal);
  }

  await start();
  return {
    start,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    signal: (s: 'SIGSTOP' | 'SIGCONT') => child?.process.kill(s),
    get running() {
      return child !== undefined;
    },
  };
}

/** Starts a redis-server on a free loopback port: no persistence, optional password, TLS or replica role. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'modgate-redis-'));
  const port = await freePort();
  const pki = options.tls === true ? await makeTestPki(join(dir, 'pki')) : undefined;
  const args = [
    ...(pki === undefined
      ? ['--port', String(port)]
      : ['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no']),
    ...(pki === undefined
      ? []
      : [
          '--tls-cert-file',
          pki.certPath,
          '--tls-key-file',
          pki.keyPath,
          '--tls-ca-cert-file',
          pki.caCertPath,
        ]),
    ...['--bind', LOOPBACK_V4, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
    ...(options.password === undefined
      ? []
      : ['--requirepass', options.password, '--masterauth', options.password]),
    ...(options.replicaOf === undefined
      ? []
      : ['--replicaof', options.replicaOf.host, String(options.replicaOf.port)]),
    ...(options.args ?? []),
  ];
  const proc = await serve(args, port, dir);
  const cliBase = [
    '-h',
    LOOPBACK_V4,
    '-p',
    String(port),
    ...(pki === undefined ? [] : ['--tls', '--cacert', pki.caCertPath]),
  ];
  const server: RedisServer = {
    host: LOOPBACK_V4,
    port,
    url: `${pki === undefined ? 'redis' : 'rediss'}://${LOOPBACK_V4}:${port}`,
    password: options.password,
    pki,
    get running() {
      return proc.running;
    },
    cli: (...cliArgs) => redisCli([...cliBase, ...cliArgs], options.password),
    scanAll: () => scanAll(server),
    stop: proc.stop,
    kill: proc.kill,
    pause: () => proc.signal('SIGSTOP'),
    resume: () => proc.signal('SIGCONT'),
    async restart() {
      await proc.stop();
      await proc.start();
    },
    async dispose() {
      await proc.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.replicaOf !== undefined) {
    await waitFor('the replica to sync', async () =>
      /master_link_status:up/.test(await server.cli('INFO', 'replication')) ? true : undefined,
    );
  }
  return server;
}

export async function redisCli(args: string[], password: string | undefined): Promise<string> {
  const env = { ...process.env };
  if (password === undefined) delete env.REDISCLI_AUTH;
  else env.REDISCLI_AUTH = password;
  const { stdout } = await execFileAsync(REDIS_CLI, args, {
    env,
    timeout: CLI_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  return stdout.trim();
}

async function scanAll(server: RedisServer): Promise<Map<string, string>> {
  const client = new Redis({
    host: server.host,
    port: server.port,
    password: server.password,
    tls: server.pki === undefined ? undefined : { ca: server.pki.caPem },
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    const found = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) found.set(key, await dump(client, key));
    } while (cursor !== '0');
    return found;
  } finally {
    client.disconnect();
  }
}

async function dump(client: Redis, key: string): Promise<string> {
  switch (await client.type(key)) {
    case 'string':
      return (await client.get(key)) ?? '';
    case 'zset':
      return (await client.zrange(key, '0', '-1', 'WITHSCORES')).join(' ');
    case 'hash':
      return Object.entries(await client.hgetall(key))
        .flat()
        .join(' ');
    case 'set':
      return (await client.smembers(key)).join(' ');
    case 'list':
      return (await client.lrange(key, 0, -1)).join(' ');
    default:
      return '';
  }
}
