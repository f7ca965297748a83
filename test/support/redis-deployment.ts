/**
 * A deployment of real `modgate serve` processes sharing one real
 * redis-server, with real slapd as the directory and the Athens emulator as
 * the default upstream: what tests of shared state start. Each
 * process gets its own gateway.yaml (the shared base, adjusted per test) and
 * its operational log beside it.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type GatewayProcess, startGatewayProcess } from '../../bench/support/processes.ts';
import { type AthensEmulator, startAthensEmulator } from '../../harness/athens-emulator.ts';
import { type RedisServer, startRedis } from '../../harness/redis.ts';
import { type Slapd, startSlapd } from '../../harness/slapd.ts';
import { makeTestPki, type TestPki } from '../../harness/tls.ts';
import { secretFile } from './gateway.ts';
import { type FixtureSet, writeFixtureModules } from './modules.ts';

/** Kept for a failure message: this many characters of a process's log tail. */
const LOG_TAIL_CHARS = 2_000;

/** Secrets every process of a deployment shares (the same in each, as in production). */
export const DEPLOYMENT_SECRETS = {
  redisPassword: 'redis-deployment-password-7Qe',
  cacheKey: 'deployment-hmac-key-for-the-auth-cache',
  abuseKey: 'deployment-abuse-hmac-key-0123',
} as const;

export interface RedisDeploymentOptions {
  /** The policy file's content; default: allow everything. */
  policy?: string;
  /** `auth.cache_ttl` as a Go duration; default 5m. */
  cacheTtl?: string;
  /** Extra redis-server arguments, e.g. persistence: `['--appendonly', 'yes']`. */
  redisArgs?: string[];
}

export interface RedisDeployment {
  readonly dir: string;
  readonly pki: TestPki;
  readonly fixtures: FixtureSet;
  readonly slapd: Slapd;
  readonly athens: AthensEmulator;
  readonly redis: RedisServer;
  readonly policyPath: string;
  /** Writes a secret beside the configs and returns its `file:` reference. */
  secret(name: string, value: string): Promise<string>;
  /** Starts `modgate serve` with `<name>.yaml` (the base config, adjusted) and `<name>.log`. */
  start(
    name: string,
    adjust?: (config: Record<string, unknown>) => Record<string, unknown>,
  ): Promise<GatewayProcess>;
  /** Stops every process it started, then the servers, and deletes the folder. */
  close(): Promise<void>;
}

export async function startRedisDeployment(options: RedisDeploymentOptions = {}): Promise<RedisDeployment> {
  const dir = await mkdtemp(join(tmpdir(), 'modgate-redis-deployment-'));
  const pki = await makeTestPki(join(dir, 'pki'));
  const fixtures = await writeFixtureModules(join(dir, 'goproxy'));
  const [slapd, athens, redis] = await Promise.all([
    startSlapd(),
    startAthensEmulator({ root: fixtures.root }),
    startRedis({ password: DEPLOYMENT_SECRETS.redisPassword, args: options.redisArgs ?? [] }),
  ]);
  const policyPath = join(dir, 'policy.yaml');
  await writeFile(policyPath, options.policy ?? 'default: allow\nrules: []\n');
  const secret = (name: string, value: string) => secretFile(dir, name, value);
  const base = {
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
    directory: {
      ldap: {
        url: slapd.url,
        bind_dn: slapd.bindDn,
        bind_password: await secret('ldap-pw', slapd.bindPassword),
        user_base: `ou=people,${slapd.baseDn}`,
        user_filter: '(&(objectClass=inetOrgPerson)(uid={username}))',
        disabled_filter: '(employeeType=disabled)',
      },
    },
    auth: {
      cache_key: await secret('cache-key', DEPLOYMENT_SECRETS.cacheKey),
      cache_ttl: options.cacheTtl ?? '5m',
    },
    upstreams: { athens: { kind: 'athens', url: athens.url, allow_insecure_http: true } },
    default_upstream: 'athens',
    policy: { path: policyPath },
    state: {
      kind: 'redis',
      url: redis.url,
      password: await secret('redis-pw', DEPLOYMENT_SECRETS.redisPassword),
      command_timeout: '1s',
    },
    workers: 1,
    abuse: { key: await secret('abuse-key', DEPLOYMENT_SECRETS.abuseKey) },
    audit: { sink: 'file', path: join(dir, 'audit.log') },
    log: { level: 'warn' },
  };
  const started: GatewayProcess[] = [];
  return {
    dir,
    pki,
    fixtures,
    slapd,
    athens,
    redis,
    policyPath,
    secret,
    async start(name, adjust = (c) => c) {
      const config = join(dir, `${name}.yaml`);
      await writeFile(config, stringify(adjust(structuredClone(base))));
      const log = join(dir, `${name}.log`);
      const gateway = await startGatewayProcess(config, log).catch(async (err: Error) => {
        const tail = (await readFile(log, 'utf8').catch(() => '')).slice(-LOG_TAIL_CHARS);
        throw new Error(`${err.message}\n${tail}`, { cause: err });
      });
      started.push(gateway);
      return gateway;
    },
    async close() {
      await Promise.all(started.map((g) => g.stop()));
      await Promise.all([slapd.dispose(), athens.close(), redis.dispose()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
