/**
 * Everything `npm run bench` measures, started on loopback: the GOPROXY
 * folder behind nginx (the upstream, also the "direct" contender), nginx with
 * auth_basic + proxy_pass in front of it, and modgate's full pipeline in
 * front of it (TLS, Basic auth against a real slapd, the 1,000-rule policy,
 * audit to a file, upstream kind athens), each on its own port.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PatKeyRing } from '../../auth/pat/keys.ts';
import { PersonalTokens } from '../../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens } from '../../auth/pat/revoked-tokens.ts';
import { gatewayConfigSchema } from '../../gateway/config/schema.ts';
import { USERS } from '../../harness/directory-fixture.ts';
import { startRedis } from '../../harness/redis.ts';
import { ldapDirectoryOptions, type Slapd, startSlapd } from '../../harness/slapd.ts';
import { makeTestPki, type TestPki } from '../../harness/tls.ts';
import { writeBenchModules, writeGraphRoot } from './bench-modules.ts';
import { benchPolicyYaml } from './bench-policy.ts';
import type { GoTarget } from './go-download.ts';
import { startNginxBasicAuth, startNginxUpstream } from './nginx.ts';
import { type GatewayProcess, startGatewayProcess } from './processes.ts';
import type { Figures } from './report.ts';

/** The personal-token signing key of the bench gateways (P-256, generated per run). */
const PAT_KEY_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

/** Requests per minute per identity allowed to the load user (far above what one machine can send). */
const RATE_LIMIT_CEILING = 1_000_000_000;

/** The user every load test authenticates as (fixture: groups developers, team-a). */
export const LOAD_USER = USERS.alice;

/** One server under test. */
export interface Contender {
  readonly name: string;
  /** Base URL of its GOPROXY. */
  readonly url: string;
  /** The Authorization header the load generator sends (none for direct). */
  readonly authorization: string | undefined;
  /** How the go command reaches it. */
  readonly go: GoTarget;
  /** The processes serving it (nginx: master and worker). */
  pids(): Promise<number[]>;
  readonly figures: Figures;
}

/** The started bench world. */
export interface BenchWorld {
  readonly pki: TestPki;
  readonly slapd: Slapd;
  readonly gateway: GatewayProcess;
  readonly graphRoot: string;
  /** The GOPROXY folder the upstream serves. */
  readonly goproxyRoot: string;
  readonly direct: Contender;
  readonly nginx: Contender;
  readonly modgate: Contender;
  /** The same gateway, the load user sending a modgate personal token as the Basic password. */
  readonly modgatePat: Contender;
  /** A second gateway, identical but for `state: redis` (a real redis-server on loopback). */
  readonly modgateRedis: Contender;
  /** With BENCH_REFERENCE=<checkout>: the same gateway run from that checkout, measured side by side. */
  readonly reference: Contender | undefined;
  stop(): Promise<void>;
}

export const CONTENDER_NAMES = {
  direct: 'direct (nginx static, http)',
  nginx: 'nginx auth_basic + proxy_pass',
  modgate: 'modgate (LDAP, 1,000 rules, audit)',
  modgatePat: 'modgate + personal tokens',
  modgateRedis: 'modgate + Redis state',
} as const;

/** iss/aud of the bench's personal tokens. */
const PAT_ISSUER = 'https://modgate.bench.invalid';

const basic = (name: string, password: string) =>
  `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

/** The fixture directory's settings (harness/slapd.ts) as gateway.yaml keys: `userBase` → `user_base`, …. */
function ldapYaml(slapd: Slapd, passwordRef: string): Record<string, unknown> {
  const { bindPassword: _, timeoutMs, ...options } = ldapDirectoryOptions(slapd);
  const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return {
    ...Object.fromEntries(Object.entries(options).map(([k, v]) => [snake(k), v])),
    bind_password: passwordRef,
    timeout: `${timeoutMs}ms`,
  };
}

async function gatewayConfig(
  dir: string,
  pki: TestPki,
  slapd: Slapd,
  upstreamUrl: string,
  extra: Record<string, unknown> = {},
  /** Whether that checkout's gateway.yaml has `integrity:` (a reference may predate it). */
  knowsIntegrity = true,
): Promise<string> {
  await writeFile(join(dir, 'ldap-password'), slapd.bindPassword, { mode: 0o600 });
  await writeFile(join(dir, 'policy.yaml'), benchPolicyYaml());
  await writeFile(join(dir, 'pat-key.pem'), PAT_KEY_PEM, { mode: 0o600 });
  const config = {
    listen: { host: '127.0.0.1', port: 0 },
    tls: { cert: `file:${pki.certPath}`, key: `file:${pki.keyPath}` },
    directory: { ldap: ldapYaml(slapd, `file:${join(dir, 'ldap-password')}`) },
    upstreams: { athens: { kind: 'athens', url: upstreamUrl, allow_insecure_http: true } },
    default_upstream: 'athens',
    policy: { path: join(dir, 'policy.yaml') },
    // Not in the policy's folder: modgate watches that folder, and every audit write would wake it.
    audit: { sink: 'file', path: join(dir, 'audit', 'audit.log') },
    log: { level: 'info' },
    // One identity drives the whole load: the per-identity rate limit (default 6,000/min) stays
    // on the request path, with a ceiling the bench cannot reach. Skipped where the key is unknown.
    ...('abuse' in gatewayConfigSchema.shape
      ? { abuse: { rate_limit: { requests: RATE_LIMIT_CEILING } } }
      : {}),
    personal_tokens: {
      issuer: PAT_ISSUER,
      keys: [{ kid: 'bench', pem: `file:${join(dir, 'pat-key.pem')}` }],
    },
    // Forwarding as such: the bench modules are in no checksum database (bench/integrity measures verifying).
    ...(knowsIntegrity ? { integrity: { mode: 'off' } } : {}),
    ...extra,
  };
  await writeFile(join(dir, 'gateway.yaml'), stringify(config));
  return join(dir, 'gateway.yaml');
}

/**
 * With BENCH_REFERENCE=<checkout> (e.g. a `git worktree` of an older commit,
 * with its own node_modules): that checkout's gateway with the same settings,
 * named by its commit.
 */
async function startReference(
  dir: string,
  pki: TestPki,
  slapd: Slapd,
  upstreamUrl: string,
): Promise<(GatewayProcess & { name: string }) | undefined> {
  const checkout = process.env.BENCH_REFERENCE;
  if (checkout === undefined || checkout === '') return undefined;
  const commit = execFileSync('git', ['-C', checkout, 'rev-parse', '--short', 'HEAD'], {
    encoding: 'utf8',
  }).trim();
  await mkdir(join(dir, 'modgate-reference'));
  const knowsIntegrity = existsSync(join(checkout, 'gateway', 'integrity', 'config.ts'));
  const config = await gatewayConfig(
    join(dir, 'modgate-reference'),
    pki,
    slapd,
    upstreamUrl,
    {},
    knowsIntegrity,
  );
  const gateway = await startGatewayProcess(config, join(dir, 'modgate-reference', 'modgate.log'), checkout);
  return { ...gateway, name: `modgate at ${commit} (reference)` };
}

/** Writes the modules, starts slapd, nginx twice and modgate under `dir`. */
export async function startBenchWorld(dir: string): Promise<BenchWorld> {
  const stops: Array<() => Promise<void>> = [];
  // Once, however many callers (the normal end, an interrupt): last started, first stopped.
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      for (const s of [...stops].reverse()) await s();
    })());
  try {
    const pki = await makeTestPki(join(dir, 'pki'));
    const goproxyRoot = join(dir, 'goproxy');
    await writeBenchModules(goproxyRoot);
    const graphRoot = await writeGraphRoot(join(dir, 'graph-root'));
    const slapd = await startSlapd();
    stops.push(() => slapd.dispose());
    const upstream = await startNginxUpstream(join(dir, 'nginx-upstream'), goproxyRoot);
    stops.push(() => upstream.stop());
    const user = { name: LOAD_USER.name, password: LOAD_USER.password };
    const proxy = await startNginxBasicAuth(join(dir, 'nginx-auth'), pki, upstream.url, user);
    stops.push(() => proxy.stop());
    await mkdir(join(dir, 'modgate'));
    const config = await gatewayConfig(join(dir, 'modgate'), pki, slapd, upstream.url);
    const gateway = await startGatewayProcess(config, join(dir, 'modgate', 'modgate.log'));
    stops.push(() => gateway.stop());
    const redis = await startRedis();
    stops.push(() => redis.dispose());
    await mkdir(join(dir, 'modgate-redis'));
    const redisConfig = await gatewayConfig(join(dir, 'modgate-redis'), pki, slapd, upstream.url, {
      state: { kind: 'redis', url: redis.url },
      workers: 1,
    });
    const gatewayRedis = await startGatewayProcess(redisConfig, join(dir, 'modgate-redis', 'modgate.log'));
    stops.push(() => gatewayRedis.stop());
    const reference = await startReference(dir, pki, slapd, upstream.url);
    if (reference) stops.push(() => reference.stop());
    const pat = await new PersonalTokens({
      issuer: PAT_ISSUER,
      keys: PatKeyRing.fromPem([{ kid: 'bench', pem: PAT_KEY_PEM }]),
      revoked: new MemoryRevokedTokens(),
    }).issue(user.name, 3_600_000);
    const authorization = basic(user.name, user.password);
    const secure = (url: string, pids: () => Promise<number[]>, name: string): Contender => ({
      name,
      url,
      authorization,
      go: { goproxy: url, caCertPath: pki.caCertPath, user: { login: user.name, password: user.password } },
      pids,
      figures: {},
    });
    return {
      pki,
      slapd,
      gateway,
      graphRoot,
      goproxyRoot,
      direct: {
        name: CONTENDER_NAMES.direct,
        url: upstream.url,
        authorization: undefined,
        go: { goproxy: upstream.url },
        pids: upstream.pids,
        figures: {},
      },
      nginx: secure(proxy.url, proxy.pids, CONTENDER_NAMES.nginx),
      modgate: secure(gateway.url, async () => [gateway.pid], CONTENDER_NAMES.modgate),
      modgatePat: {
        ...secure(gateway.url, async () => [gateway.pid], CONTENDER_NAMES.modgatePat),
        authorization: basic(user.name, pat.token),
      },
      modgateRedis: secure(gatewayRedis.url, async () => [gatewayRedis.pid], CONTENDER_NAMES.modgateRedis),
      reference: reference && secure(reference.url, async () => [reference.pid], reference.name),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
