import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ReadinessReport } from '../../gateway/ops/readiness.ts';
import { type AthensEmulator, startAthensEmulator } from '../../harness/athens-emulator.ts';
import { ALL_USERS, fixtureUsersFile, SERVICE_ACCOUNT } from '../../harness/directory-fixture.ts';
import { type GoEnv, makeGoEnv, type NetrcForm, netrcMachines, writeNetrc } from '../../harness/go.ts';
import { secretFile, startTestGateway, type TestGateway } from './gateway.ts';

export { type NetrcForm, netrcMachines } from '../../harness/go.ts';

import { httpsGet } from '../../harness/https-client.ts';
import { type Slapd, startSlapd } from '../../harness/slapd.ts';
import { makeTestPki, type TestPki } from '../../harness/tls.ts';
import { type FixtureSet, writeFixtureModules } from './modules.ts';

/** The static credential modgate presents to the Athens emulator. */
export const UPSTREAM_USER = 'modgate-upstream';
export const UPSTREAM_PASSWORD = 'athens-upstream-secret-Vq9';

export interface StackOptions {
  directory: 'ldap' | 'file';
  upstream: 'athens' | 'dir';
  /** Upstream timeout as a Go duration (default 5s). */
  upstreamTimeout?: string;
  /** The policy file's content (default: allow everything); rewrite `stack.policyPath` to change it live. */
  policy?: string;
  /** Adjusts gateway.yaml before the gateway starts (extra upstreams, credentials, …). */
  gatewayConfig?: (
    config: Record<string, unknown>,
    parts: { dir: string; fixtures: FixtureSet; athens: AthensEmulator | undefined },
  ) => Promise<Record<string, unknown>>;
}

/** The policy a stack runs with unless a test gives its own. */
export const ALLOW_ALL_POLICY = 'default: allow\nrules: []\n';

/** Everything allowed; `corp.example/*` routed to the athens upstream as private (no sumdb, never public). */
export const PRIVATE_CORP_POLICY = `default: allow
rules: []
routes:
  - name: corp
    modules: ["corp.example/*"]
    upstream: athens
    private: true
`;

/** The stack gateway's /readyz: its status and report. */
export async function readyz(stack: Pick<Stack, 'gateway' | 'pki'>): Promise<{
  status: number;
  report: ReadinessReport;
}> {
  const res = await httpsGet(stack.gateway.url, '/readyz', { ca: stack.pki.caPem });
  return { status: res.status, report: JSON.parse(res.text) as ReadinessReport };
}

/** A full test deployment: PKI, fixtures, directory, upstream and the gateway in front. */
export interface Stack {
  readonly dir: string;
  readonly pki: TestPki;
  readonly fixtures: FixtureSet;
  readonly slapd: Slapd | undefined;
  readonly athens: AthensEmulator | undefined;
  readonly gateway: TestGateway;
  /** The live policy file. */
  readonly policyPath: string;
  /** Every secret the stack and its tests use, for leak checks. */
  readonly secrets: string[];
  /**
   * A fresh, isolated go environment pointed at the gateway, with a netrc for
   * `user` (or none): by default both lines the README asks for, `machine
   * 127.0.0.1` (go ≤1.23) and `machine 127.0.0.1:<port>` (go ≥1.24).
   */
  goEnv(name: string, user?: { login: string; password: string }, netrc?: NetrcForm): Promise<GoEnv>;
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'modgate-stack-'));
  const pki = await makeTestPki(join(dir, 'pki'));
  const fixtures = await writeFixtureModules(join(dir, 'goproxy'));
  const slapd = options.directory === 'ldap' ? await startSlapd() : undefined;
  const athens =
    options.upstream === 'athens'
      ? await startAthensEmulator({
          root: fixtures.root,
          basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD },
        })
      : undefined;
  const directory = slapd
    ? {
        ldap: {
          url: slapd.url,
          bind_dn: slapd.bindDn,
          bind_password: await secretFile(dir, 'ldap-password', slapd.bindPassword),
          user_base: `ou=people,${slapd.baseDn}`,
          user_filter: '(&(objectClass=inetOrgPerson)(uid={username}))',
          disabled_filter: '(employeeType=disabled)',
          timeout: '2s',
        },
      }
    : { file: { path: await usersFile(dir) } };
  const upstreams = athens
    ? {
        athens: {
          kind: 'athens',
          url: athens.url,
          allow_insecure_http: true,
          username: UPSTREAM_USER,
          password: await secretFile(dir, 'athens-password', UPSTREAM_PASSWORD),
          timeout: options.upstreamTimeout ?? '5s',
        },
      }
    : { local: { kind: 'dir', path: fixtures.root } };
  const policyPath = join(dir, 'policy', 'policy.yaml');
  await mkdir(join(dir, 'policy'));
  await writeFile(policyPath, options.policy ?? ALLOW_ALL_POLICY);
  const config = {
    directory,
    upstreams,
    default_upstream: athens ? 'athens' : 'local',
    policy: { path: policyPath },
    // Every test request comes from 127.0.0.1, and tests fail logins on purpose: a user lock or a
    // source throttle (slow 429s for wrong passwords) would spill over into other tests.
    abuse: { lockout: { max_failures: 10_000 }, source_throttle: { max_users: 10_000 } },
  };
  const gateway = await startTestGateway(
    join(dir),
    pki,
    options.gatewayConfig ? await options.gatewayConfig(config, { dir, fixtures, athens }) : config,
  );
  const secrets = [
    ...ALL_USERS.map((u) => u.password),
    SERVICE_ACCOUNT.password,
    UPSTREAM_PASSWORD,
    Buffer.from(`${UPSTREAM_USER}:${UPSTREAM_PASSWORD}`).toString('base64'),
    ...ALL_USERS.map((u) => Buffer.from(`${u.name}:${u.password}`).toString('base64')),
  ];
  return {
    dir,
    pki,
    fixtures,
    slapd,
    athens,
    gateway,
    policyPath,
    secrets,
    async goEnv(name, user, netrc = 'both') {
      const env = await makeGoEnv(join(dir, 'go', name), {
        goproxy: gateway.url,
        caCertPath: pki.caCertPath,
      });
      if (user)
        await writeNetrc(
          env.netrc,
          netrcMachines(gateway.url, netrc).map((machine) => ({ machine, ...user })),
        );
      return env;
    },
    async close() {
      await gateway.close();
      await athens?.close();
      await slapd?.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function usersFile(dir: string): Promise<string> {
  const path = join(dir, 'users.yaml');
  await writeFile(path, stringify(await fixtureUsersFile()), { mode: 0o600 });
  return path;
}
