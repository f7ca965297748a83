/**
 * The docker-compose deployment, checked without Docker (it cannot run here):
 * every file the stack mounts exists in the repository, the env file examples
 * hold every secret the configs reference (and the pairs that must match do),
 * no secret is written in a YAML file, the image runs as a non-root user with
 * a health check, the gateway.yaml the stack mounts passes
 * `modgate check-config --offline` in the container's file layout, and the
 * helper scripts (certificates, env files, health check) do what they say.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { LdapDirectory, type LdapDirectoryOptions } from '../auth/ldap-directory.ts';
import { healthcheck } from '../deploy/image/healthcheck.ts';
import { checkLdap } from '../gateway/ops/checks/ldap.ts';
import { gatewayNodeFlags } from '../harness/node-flags.ts';
import { freePort } from '../harness/ports.ts';
import { makeTestPki, type TestPki } from '../harness/tls.ts';

const execFileAsync = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const repo = (path: string) => join(ROOT, path);

interface Service {
  image?: string;
  build?: string;
  env_file?: string | string[];
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck?: { test: string[] };
  command?: string[];
}

let compose: { services: Record<string, Service>; volumes: Record<string, unknown> };
let dockerfile: string;
let tmp: string;

beforeAll(async () => {
  compose = parse(await readFile(repo('docker-compose.yml'), 'utf8'));
  dockerfile = await readFile(repo('Dockerfile'), 'utf8');
  tmp = await mkdtemp(join(tmpdir(), 'modgate-compose-'));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** `host:container[:mode]` volumes whose host side is a path (bind mounts), not a named volume. */
function bindMounts(service: Service): { host: string; container: string; mode: string | undefined }[] {
  return (service.volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([host]) => host!.startsWith('.') || host!.startsWith('/'))
    .map(([host, container, mode]) => ({ host: host!, container: container!, mode }));
}

function envFiles(service: Service): string[] {
  return service.env_file === undefined ? [] : [service.env_file].flat();
}

/** NAME=value lines of an env file (docker-compose's format: no quotes, `#` comments). */
async function readEnvFile(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The JSON-array form of a Dockerfile instruction, e.g. CMD ["serve", …]. */
function instruction(name: string): string[] {
  const m = new RegExp(`^${name} (\\[.*\\])$`, 'm').exec(dockerfile);
  if (m === null) throw new Error(`Dockerfile has no ${name} in exec form`);
  return JSON.parse(m[1]!) as string[];
}

async function allExamples(): Promise<Record<string, string>> {
  const files = (await readdir(repo('deploy'))).filter((f) => f.endsWith('.env.example'));
  const all: Record<string, string> = {};
  for (const f of files) Object.assign(all, await readEnvFile(repo(join('deploy', f))));
  return all;
}

describe('docker-compose.yml', () => {
  it('has the services the issue asks for', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['athens', 'dex', 'modgate', 'openldap', 'redis']);
    expect(compose.services.athens!.image).toMatch(/^gomods\/athens:v/);
    expect(compose.services.athens!.volumes).toContain('athens-storage:/var/lib/athens');
  });

  it('mounts only files and folders that exist in the repository', async () => {
    const mounts = Object.values(compose.services).flatMap(bindMounts);
    expect(mounts.length).toBeGreaterThan(0);
    for (const m of mounts) {
      expect(existsSync(repo(m.host)), `${m.host} (mounted at ${m.container})`).toBe(true);
      expect(m.mode, `${m.host} is mounted read-only`).toBe('ro');
      // In git (or about to be: not ignored), so a fresh clone has it, not only this machine.
      const { stdout } = await execFileAsync(
        'git',
        ['ls-files', '--cached', '--others', '--exclude-standard', '--', m.host],
        { cwd: ROOT },
      );
      expect(stdout.trim(), `${m.host} is in the repository`).not.toBe('');
    }
    expect(existsSync(repo(compose.services.modgate!.build!))).toBe(true);
  });

  it('takes secrets from env files whose examples exist; the real ones are not in the repository', async () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const file of envFiles(service)) {
        expect(existsSync(repo(`${file}.example`)), `${name}: ${file}.example`).toBe(true);
      }
    }
    const { stdout } = await execFileAsync('git', ['ls-files', 'deploy'], { cwd: ROOT });
    expect(stdout.split('\n').filter((f) => /\.env$|\.pem$/.test(f))).toEqual([]);
  });

  it('runs modgate read-only, with a tmpfs, a health check and the mounted config', () => {
    const modgate = compose.services.modgate!;
    expect(modgate.read_only).toBe(true);
    expect(modgate.tmpfs).toContain('/tmp');
    expect(modgate.healthcheck?.test).toEqual(['CMD', ...instruction('HEALTHCHECK .*\\\\\\n\\s+CMD')]);
  });

  it('writes no secret into a YAML file: every value of the env examples appears only there', async () => {
    const examples = await allExamples();
    const yamlFiles = [
      'docker-compose.yml',
      'deploy/modgate/gateway.yaml',
      'deploy/modgate/policy.yaml',
      'deploy/dex/config.yaml',
    ];
    const secrets = Object.entries(examples).filter(([k]) => /PASS|SECRET|TOKEN|KEY|_PW$/.test(k));
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    for (const file of yamlFiles) {
      const text = await readFile(repo(file), 'utf8');
      for (const [name, value] of secrets) expect(text, `${name} in ${file}`).not.toContain(value);
    }
  });

  it('pairs the secrets that must match across services', async () => {
    const e = await allExamples();
    expect(e.MODGATE_LDAP_PASSWORD).toBe(e.LDAP_READONLY_USER_PASSWORD);
    expect(e.DEX_LDAP_BIND_PW).toBe(e.LDAP_READONLY_USER_PASSWORD);
    expect(e.ATHENS_PASSWORD).toBe(e.BASIC_AUTH_PASS);
    expect(e.MODGATE_REDIS_PASSWORD).toBe(e.REDIS_PASSWORD);
    const dex = await readEnvFile(repo('deploy/dex.env.example'));
    const modgate = await readEnvFile(repo('deploy/modgate.env.example'));
    expect(modgate.MODGATE_OIDC_CLIENT_SECRET).toBe(dex.MODGATE_OIDC_CLIENT_SECRET);
  });

  it("gives modgate every env: secret its gateway.yaml references, and names LDAP's and Athens' accounts right", async () => {
    const text = await readFile(repo('deploy/modgate/gateway.yaml'), 'utf8');
    const values = (v: unknown): string[] =>
      typeof v === 'string'
        ? [v]
        : typeof v === 'object' && v !== null
          ? Object.values(v).flatMap(values)
          : [];
    const referenced = values(parse(text))
      .filter((v) => v.startsWith('env:'))
      .map((v) => v.slice(4));
    expect(referenced.length).toBeGreaterThanOrEqual(4);
    const env = Object.assign(
      {},
      ...(await Promise.all(
        envFiles(compose.services.modgate!).map((f) => readEnvFile(repo(`${f}.example`))),
      )),
    );
    for (const name of referenced) expect(env, name).toHaveProperty(name);
    const config = parse(text);
    const ldapEnv = (compose.services.openldap as { environment: Record<string, string> }).environment;
    const base = ldapEnv
      .LDAP_DOMAIN!.split('.')
      .map((p) => `dc=${p}`)
      .join(',');
    expect(config.directory.ldap.bind_dn).toBe(`cn=${ldapEnv.LDAP_READONLY_USER_USERNAME},${base}`);
    expect(config.directory.ldap.user_base).toBe(`ou=people,${base}`);
    const athens = await readEnvFile(repo('deploy/athens.env.example'));
    expect(config.upstreams.athens.username).toBe(athens.BASIC_AUTH_USER);
    expect(config.upstreams.athens.probe_module).toBeDefined();
  });

  it('passes docker-compose config -q once the env files exist', async (ctx) => {
    if (!existsSync('/usr/bin/docker-compose')) ctx.skip();
    const copy = join(tmp, 'compose-copy');
    await mkdir(copy);
    await execFileAsync('cp', ['-r', repo('docker-compose.yml'), repo('Dockerfile'), repo('deploy'), copy]);
    await rm(join(copy, 'deploy', 'tls'), { recursive: true, force: true });
    await mkdir(join(copy, 'deploy', 'tls'));
    for (const f of await readdir(join(copy, 'deploy'))) {
      if (f.endsWith('.env')) await rm(join(copy, 'deploy', f));
    }
    await execFileAsync('bash', [join(copy, 'deploy', 'init-env.sh')]);
    await execFileAsync('docker-compose', ['-f', join(copy, 'docker-compose.yml'), 'config', '-q'], {
      cwd: copy,
    });
  });
});

describe('the image', () => {
  it('runs as a non-root user with fixed ids', () => {
    const user = /^USER (\S+)$/m.exec(dockerfile)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(dockerfile).toMatch(/useradd --system --uid 10001/);
  });

  it('has a health check, and runs serve with the flags of bin/modgate.ts', async () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(instruction('ENTRYPOINT')).toEqual(['node', ...(await gatewayNodeFlags()), 'bin/modgate.ts']);
    expect(instruction('CMD')).toEqual(['serve', '--config', '/etc/modgate/conf/gateway.yaml']);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  it('copies everything bin/modgate.ts imports', async () => {
    const copied = [...dockerfile.matchAll(/^COPY (?:--from=\S+ )?(\S+) /gm)].map((m) => m[1]!);
    for (const dir of ['auth', 'core', 'gateway', 'policies', 'bin', 'deploy/image'])
      expect(copied).toContain(dir);
  });

  it('keeps secrets and local state out of the build context', async () => {
    const ignored = (await readFile(repo('.dockerignore'), 'utf8')).split('\n');
    for (const p of ['node_modules', '.git', 'deploy/*.env', 'deploy/ca', 'deploy/tls'])
      expect(ignored).toContain(p);
  });
});

describe('the mounted gateway.yaml in the container layout', () => {
  it('passes modgate check-config --offline with the example secrets and generated certificates', async () => {
    // Rebuild the container's view: each bind mount of the modgate service at
    // its container path, except the TLS folder, made by deploy/gen-certs.sh.
    const root = join(tmp, 'container');
    const tlsMount = bindMounts(compose.services.modgate!).find((m) => m.host === './deploy/tls');
    expect(tlsMount).toBeDefined();
    for (const m of bindMounts(compose.services.modgate!)) {
      const at = join(root, m.container);
      await mkdir(dirname(at), { recursive: true });
      if (m.host === tlsMount!.host) {
        await execFileAsync('bash', [
          repo('deploy/gen-certs.sh'),
          '--tls-dir',
          at,
          '--ca-dir',
          join(tmp, 'ca'),
        ]);
      } else await symlink(repo(m.host), at);
    }
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(await readEnvFile(repo('deploy/modgate.env.example'))),
    };
    const entrypoint = instruction('ENTRYPOINT');
    const config = instruction('CMD')[instruction('CMD').indexOf('--config') + 1]!;
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        ...entrypoint.slice(1, -1),
        repo(entrypoint.at(-1)!),
        'check-config',
        '--offline',
        '--config',
        join(root, config),
      ],
      { env, cwd: tmp },
    ).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`check-config failed:\n${err.stdout}${err.stderr}`);
    });
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines).toEqual([
      expect.stringMatching(
        /^ok {3}config .*: valid; https on 0\.0\.0\.0:8443, ldap directory, 1 upstream \(athens; default athens\), 0 credentials$/,
      ),
      // The compose network's Athens and Dex speak plain http, and check-config says so.
      expect.stringMatching(
        /^WARN unsafe: .*gateway\.yaml:\d+: unsafe setting upstreams\.athens\.allow_insecure_http: true \(/,
      ),
      expect.stringMatching(
        /^WARN unsafe: .*gateway\.yaml:\d+: unsafe setting sso\.allow_insecure_http: true \(/,
      ),
      expect.stringMatching(
        /^ok {3}tls: certificate for DNS:localhost, DNS:modgate, .*issued by CN=modgate local CA, valid until /,
      ),
      expect.stringMatching(
        /^ok {3}policy .*policy\.yaml: version [0-9a-f]{12}, 2 rules, 2 routes, mode enforce$/,
      ),
      'skip ldap ldap://openldap:389: not checked (--offline)',
      'skip upstream athens http://athens:3000: not checked (--offline)',
      'skip redis redis://redis:6379: not checked (--offline)',
      'skip idp http://dex:5556/dex: not checked (--offline)',
      'check-config: no failures, 2 warnings',
    ]);
  });
});

describe('deploy scripts', () => {
  it('gen-certs.sh: a CA and a server certificate that verifies for modgate; a second run keeps them', async () => {
    const tls = join(tmp, 'gen', 'tls');
    const ca = join(tmp, 'gen', 'ca');
    const args = [
      repo('deploy/gen-certs.sh'),
      '--tls-dir',
      tls,
      '--ca-dir',
      ca,
      '--name',
      'goproxy.corp.example',
    ];
    await execFileAsync('bash', args);
    const { stdout } = await execFileAsync('openssl', [
      'verify',
      '-CAfile',
      join(tls, 'ca.pem'),
      '-verify_hostname',
      'goproxy.corp.example',
      join(tls, 'modgate.pem'),
    ]);
    expect(stdout).toContain(': OK');
    expect((await stat(join(ca, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
    expect(existsSync(join(tls, 'ca-key.pem'))).toBe(false);
    const before = await readFile(join(tls, 'modgate.pem'), 'utf8');
    await execFileAsync('bash', args);
    expect(await readFile(join(tls, 'modgate.pem'), 'utf8')).toBe(before);
    await execFileAsync('bash', [...args, '--force']);
    expect(await readFile(join(tls, 'modgate.pem'), 'utf8')).not.toBe(before);
  });

  it('init-env.sh: random secrets, equal where the examples pair them, mode 0600; kept on a second run', async () => {
    const dir = join(tmp, 'env');
    await mkdir(dir);
    const examples = (await readdir(repo('deploy'))).filter((f) => f.endsWith('.env.example'));
    await execFileAsync('cp', [
      ...examples.map((f) => repo(join('deploy', f))),
      repo('deploy/init-env.sh'),
      dir,
    ]);
    await execFileAsync('bash', [join(dir, 'init-env.sh')]);
    const made: Record<string, string> = {};
    for (const f of examples) {
      const file = join(dir, f.replace(/\.example$/, ''));
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      Object.assign(made, await readEnvFile(file));
    }
    expect(Object.values(made).filter((v) => v.endsWith('-demo-only'))).toEqual([]);
    expect(made.MODGATE_LDAP_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
    expect(made.MODGATE_LDAP_PASSWORD).toBe(made.LDAP_READONLY_USER_PASSWORD);
    expect(made.ATHENS_PASSWORD).toBe(made.BASIC_AUTH_PASS);
    expect(made.ATHENS_PASSWORD).not.toBe(made.MODGATE_LDAP_PASSWORD);
    await rm(join(dir, 'openldap.env'));
    await execFileAsync('bash', [join(dir, 'init-env.sh')]);
    expect((await readEnvFile(join(dir, 'openldap.env'))).LDAP_READONLY_USER_PASSWORD).toBe(
      made.MODGATE_LDAP_PASSWORD,
    );
  });
});

describe('the container health check', () => {
  let pki: TestPki;
  let url: string;
  let close: () => void;

  beforeAll(async () => {
    pki = await makeTestPki(join(tmp, 'pki'));
    const server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });

  afterAll(() => close?.());

  const options = (path: string, caFile?: string, servername?: string) => ({
    url: `${url}${path}`,
    caFile,
    servername,
    timeoutMs: 2_000,
    log: () => {},
  });

  it('is healthy on a 2xx, verifying with the mounted CA or without one', async () => {
    expect(await healthcheck(options('/healthz', pki.caCertPath))).toBe(true);
    expect(await healthcheck(options('/healthz'))).toBe(true);
  });

  it('is unhealthy on a 503, an untrusted name, or nobody listening', async () => {
    expect(await healthcheck(options('/readyz', pki.caCertPath))).toBe(false);
    expect(await healthcheck(options('/healthz', pki.caCertPath, 'not-in-the-cert.example'))).toBe(false);
    expect(await healthcheck({ ...options('/healthz'), url: 'https://127.0.0.1:1/healthz' })).toBe(false);
  });

  it('runs as the script the HEALTHCHECK names, with its exit status', async () => {
    const script = repo(instruction('HEALTHCHECK .*\\\\\\n\\s+CMD').at(-1)!);
    const run = (path: string) =>
      execFileAsync(process.execPath, [script], {
        env: { MODGATE_HEALTHCHECK_URL: `${url}${path}`, MODGATE_HEALTHCHECK_CA: pki.caCertPath },
      }).then(
        () => 0,
        (err: { code: number }) => err.code,
      );
    expect(await run('/healthz')).toBe(0);
    expect(await run('/readyz')).toBe(1);
  });
});

describe('the demo directory with the LDAP settings of the mounted gateway.yaml', () => {
  /** A slapd laid out as osixia/openldap lays out the compose stack's (base entry, read-only service account, its ACLs). */
  let slapd: ChildProcess | undefined;
  let url: string;
  let ldapConfig: Record<string, unknown> & { groups: Record<string, string> };
  const env: Record<string, string> = {};

  beforeAll(async () => {
    Object.assign(env, await readEnvFile(repo('deploy/modgate.env.example')));
    const config = parse(await readFile(repo('deploy/modgate/gateway.yaml'), 'utf8'));
    ldapConfig = config.directory.ldap;
    const base = String(ldapConfig.user_base).replace(/^ou=people,/, '');
    const serviceDn = String(ldapConfig.bind_dn);
    const dir = join(tmp, 'slapd');
    await mkdir(join(dir, 'data'), { recursive: true });
    const conf = join(dir, 'slapd.conf');
    await writeFile(
      conf,
      [
        ...['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`),
        'modulepath /usr/lib/ldap',
        'moduleload back_mdb',
        `pidfile ${join(dir, 'slapd.pid')}`,
        'database mdb',
        `suffix "${base}"`,
        `rootdn "cn=admin,${base}"`,
        'rootpw admin-test-only',
        `directory ${join(dir, 'data')}`,
        'maxsize 16777216',
        'access to attrs=userPassword by self write by anonymous auth by * none',
        `access to * by dn.exact="${serviceDn}" read by * none`,
        '',
      ].join('\n'),
    );
    const seed = join(dir, 'seed.ldif');
    const [dc] = base.split(',');
    await writeFile(
      seed,
      [
        `dn: ${base}`,
        'objectClass: dcObject',
        'objectClass: organization',
        `dc: ${dc!.slice(3)}`,
        'o: Corp Example',
        '',
        `dn: ${serviceDn}`,
        'objectClass: organizationalRole',
        'objectClass: simpleSecurityObject',
        `cn: ${serviceDn.slice(3, serviceDn.indexOf(','))}`,
        `userPassword: ${env.MODGATE_LDAP_PASSWORD}`,
        '',
      ].join('\n'),
    );
    for (const ldif of [seed, repo('deploy/openldap/directory.ldif')]) {
      await execFileAsync('/usr/sbin/slapadd', ['-f', conf, '-l', ldif]);
    }
    const port = await freePort();
    url = `ldap://127.0.0.1:${port}`;
    slapd = spawn('/usr/sbin/slapd', ['-d', '0', '-f', conf, '-h', `${url}/`], { stdio: 'ignore' });
    for (let i = 0; !(await canConnect(port)); i += 1) {
      if (i > 200) throw new Error('slapd did not start');
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  afterAll(() => {
    slapd?.kill('SIGTERM');
  });

  /** The LDAP options serve would build from the mounted gateway.yaml, pointed at this slapd. */
  function ldapOptions(): LdapDirectoryOptions {
    const groups = ldapConfig.groups;
    return {
      url,
      startTls: false,
      bindDn: String(ldapConfig.bind_dn),
      bindPassword: env.MODGATE_LDAP_PASSWORD!,
      userBase: String(ldapConfig.user_base),
      userFilter: String(ldapConfig.user_filter),
      userNameAttribute: 'uid',
      groups: {
        from: 'search',
        base: groups.base!,
        filter: groups.filter!,
        nameAttribute: groups.name_attribute!,
      },
      disabledFilter: String(ldapConfig.disabled_filter),
      timeoutMs: 2_000,
      poolSize: 1,
    };
  }

  function directory(): LdapDirectory {
    return new LdapDirectory(ldapOptions());
  }

  it('the LDIF loads, and the demo users log in with their groups; carol is disabled', async () => {
    expect(ldapConfig.groups.from).toBe('search');
    const d = directory();
    try {
      expect(await d.verifyPassword('alice', 'alice-demo-only')).toEqual({
        user: 'alice',
        groups: ['developers', 'team-a'],
      });
      expect(await d.verifyPassword('bob', 'bob-demo-only')).toEqual({
        user: 'bob',
        groups: ['developers', 'team-b'],
      });
      await expect(d.verifyPassword('carol', 'carol-demo-only')).rejects.toMatchObject({
        code: 'auth.user_disabled',
      });
      await expect(d.verifyPassword('alice', 'wrong')).rejects.toMatchObject({
        code: 'auth.invalid_credentials',
      });
    } finally {
      await d.close();
    }
  });

  it('check-config binds as the service account and finds alice', async () => {
    expect(await checkLdap(ldapOptions(), { user: 'alice' })).toEqual({
      status: 'ok',
      detail: `service bind as ${ldapConfig.bind_dn}; ${ldapConfig.user_base} readable; user "alice" is uid=alice,${ldapConfig.user_base}`,
    });
  });
});
