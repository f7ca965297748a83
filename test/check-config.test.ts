/**
 * `modgate check-config` against a real stack (slapd, the Athens emulator,
 * a running gateway's gateway.yaml): all ok; then one thing broken at a time
 * (LDAP password, unreachable LDAP, unreachable upstream, missing probe
 * module, upstream credential, a route to nowhere, a hanging upstream, an
 * invalid file), each a FAIL line with its fix and exit status 1.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { checkConfigCommand } from '../bin/commands/check-config.ts';
import { checkServerCertificate } from '../gateway/ops/checks/tls.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { freePort } from '../harness/ports.ts';
import { type RedisServer, startRedis } from '../harness/redis.ts';
import { secretFile } from './support/gateway.ts';
import { PRIVATE_CORP_POLICY, type Stack, startStack } from './support/stack.ts';

const PROBE_MODULE = 'example.com/hello';

let stack: Stack;
/** The parts of gateway.yaml the tests change. */
interface GatewayYaml {
  tls: Record<string, string>;
  directory: { ldap: Record<string, unknown> };
  upstreams: { athens: Record<string, unknown> };
  default_upstream: string;
  policy: { path: string };
}

let baseConfig: GatewayYaml;
let variants = 0;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: PRIVATE_CORP_POLICY,
    gatewayConfig: async (config) => {
      const upstreams = config.upstreams as Record<string, Record<string, unknown>>;
      upstreams.athens!.probe_module = PROBE_MODULE;
      return config;
    },
  });
  baseConfig = parse(await readFile(stack.gateway.configPath, 'utf8'));
});

afterAll(async () => {
  await stack?.close();
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await checkConfigCommand(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

/** Writes gateway.yaml changed by `edit` next to the stack's and returns its path. */
async function variant(edit: (config: GatewayYaml) => void | Promise<void>): Promise<string> {
  const config = structuredClone(baseConfig);
  await edit(config);
  variants += 1;
  const path = join(stack.dir, `variant-${variants}.yaml`);
  await writeFile(path, stringify(config));
  return path;
}

function lineOf(out: string, prefix: string): string {
  const found = out.split('\n').find((l) => l.startsWith(prefix));
  if (found === undefined) throw new Error(`no line starting with ${JSON.stringify(prefix)} in:\n${out}`);
  return found;
}

describe('check-config against a working stack', () => {
  it('prints one line per item and exits 0', async () => {
    const { code, out } = await run('--config', stack.gateway.configPath);
    const slapd = stack.slapd!;
    expect(out.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(
        /^ok {3}config .*gateway\.yaml: valid; https on 127\.0\.0\.1:0, ldap directory, 1 upstream \(athens; default athens\), 0 credentials$/,
      ),
      // The Athens emulator is plain http.
      expect.stringMatching(
        /^WARN unsafe: .*gateway\.yaml:\d+: unsafe setting upstreams\.athens\.allow_insecure_http: true \(credentials and modules may cross the network in clear text\) — fix: turn it off outside tests$/,
      ),
      // The test PKI lives two days: close enough to expiry for a warning.
      expect.stringMatching(
        /^WARN tls: certificate for DNS:localhost, .*issued by CN=modgate test CA, valid until \d{4}-\d\d-\d\d: expires soon — fix: renew the certificate/,
      ),
      expect.stringMatching(
        /^ok {3}policy .*policy\.yaml: version [0-9a-f]{12}, 0 rules, 1 route, mode enforce$/,
      ),
      `ok   ldap ${slapd.url}: service bind as ${slapd.bindDn}; ou=people,${slapd.baseDn} readable`,
      `ok   upstream athens ${stack.athens!.url}: lists 3 versions of ${PROBE_MODULE}`,
      'skip redis: not configured (state.kind: memory)',
      'skip idp: not configured',
      'check-config: no failures, 2 warnings',
    ]);
    expect(code).toBe(0);
  });

  it('--user finds the user with user_filter', async () => {
    const { code, out } = await run('--config', stack.gateway.configPath, '--user', USERS.alice.name);
    expect(lineOf(out, 'ok   ldap')).toContain(`; user "alice" is ${USERS.alice.dn}`);
    expect(code).toBe(0);
    const missing = await run('--config', stack.gateway.configPath, '--user', 'nobody');
    expect(lineOf(missing.out, 'FAIL ldap')).toContain('user_filter finds no entry for "nobody"');
    expect(missing.code).toBe(1);
  });

  it('reads $MODGATE_CONFIG when --config is not given', async () => {
    const code = await checkConfigCommand(
      [],
      { out: () => {}, err: () => {} },
      {
        MODGATE_CONFIG: stack.gateway.configPath,
      },
    );
    expect(code).toBe(0);
  });
});

describe('check-config finds each broken dependency', () => {
  it('a wrong LDAP service password', async () => {
    const path = await variant(async (c) => {
      c.directory.ldap.bind_password = await secretFile(stack.dir, 'wrong-ldap-pw', 'not-the-password');
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'FAIL ldap')).toBe(
      `FAIL ldap ${stack.slapd!.url}: service bind as ${stack.slapd!.bindDn} refused: invalid credentials (LDAP 49)` +
        " — fix: check directory.ldap.bind_dn and bind_password (the secret it references must be the service account's password)",
    );
    expect(out).not.toContain('not-the-password');
    expect(code).toBe(1);
    expect(out).toMatch(/^check-config: 1 of 7 checks failed$/m);
  });

  it('an LDAP server that does not answer', async () => {
    const port = await freePort();
    const path = await variant((c) => {
      c.directory.ldap.url = `ldap://127.0.0.1:${port}`;
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'FAIL ldap')).toBe(
      `FAIL ldap ldap://127.0.0.1:${port}: cannot connect or bind: ECONNREFUSED` +
        ' — fix: check directory.ldap.url and that the LDAP server is running and reachable from here',
    );
    expect(code).toBe(1);
  });

  it('an unreachable upstream', async () => {
    const port = await freePort();
    const path = await variant((c) => {
      c.upstreams.athens.url = `http://127.0.0.1:${port}`;
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'FAIL upstream athens')).toBe(
      `FAIL upstream athens http://127.0.0.1:${port}: @v/list of ${PROBE_MODULE}: upstream athens unreachable (ECONNREFUSED)` +
        ' — fix: check upstreams.athens.url and that the upstream is running and reachable from here',
    );
    expect(code).toBe(1);
  });

  it('a probe module the upstream does not have', async () => {
    const path = await variant((c) => {
      c.upstreams.athens.probe_module = 'example.com/no-such-module';
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'FAIL upstream athens')).toBe(
      `FAIL upstream athens ${stack.athens!.url}: @v/list of example.com/no-such-module: example.com/no-such-module version list: not found (upstream athens answered 404)` +
        ' — fix: set upstreams.athens.probe_module to a module it serves, or make it serve example.com/no-such-module',
    );
    expect(code).toBe(1);
  });

  it('no probe module is a warning that says how to set one', async () => {
    const path = await variant((c) => {
      delete c.upstreams.athens.probe_module;
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'WARN upstream athens')).toBe(
      `WARN upstream athens ${stack.athens!.url}: no probe_module: readiness cannot tell whether it serves modules` +
        ' — fix: set upstreams.athens.probe_module to a module it always serves (e.g. one your builds use)',
    );
    expect(out).toMatch(/^check-config: no failures, 3 warnings$/m);
    expect(code).toBe(0);
  });

  it("an upstream that rejects modgate's credential", async () => {
    const path = await variant(async (c) => {
      c.upstreams.athens.password = await secretFile(stack.dir, 'wrong-athens-pw', 'wrong-upstream-pw');
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'FAIL upstream athens')).toContain(
      "the upstream rejected modgate's credential — fix: check upstreams.athens.username/password",
    );
    expect(code).toBe(1);
  });

  it('an upstream that does not answer within --timeout', async () => {
    stack.athens!.configure({ hang: true });
    try {
      const { code, out } = await run('--config', stack.gateway.configPath, '--timeout', '300ms');
      expect(lineOf(out, 'FAIL upstream athens')).toBe(
        `FAIL upstream athens ${stack.athens!.url}: no answer within 300 ms — fix: check that ${stack.athens!.url} is running and reachable from here`,
      );
      expect(code).toBe(1);
    } finally {
      stack.athens!.configure({ hang: false });
    }
  });

  it('a policy route to an upstream gateway.yaml does not define', async () => {
    const policy = join(stack.dir, 'policy-bad-route.yaml');
    await writeFile(policy, PRIVATE_CORP_POLICY.replace('upstream: athens', 'upstream: artifactory'));
    const path = await variant((c) => {
      c.policy.path = policy;
    });
    const { code, out } = await run('--config', path);
    expect(lineOf(out, 'FAIL policy')).toBe(
      `FAIL policy ${policy}: 1 route problem: route corp: no upstream named artifactory in gateway.yaml` +
        ' — fix: define the upstream or credential in gateway.yaml, or change the route',
    );
    expect(code).toBe(1);
  });

  it('a broken policy file lists every problem with its line', async () => {
    const policy = join(stack.dir, 'policy-broken.yaml');
    await writeFile(policy, 'default: maybe\nrules:\n  - name: x\n    action: allow\n');
    const path = await variant((c) => {
      c.policy.path = policy;
    });
    const { code, out } = await run('--config', path, '--offline');
    expect(lineOf(out, 'FAIL policy')).toMatch(
      new RegExp(
        `^FAIL policy ${policy}: \\d+ problems: ${policy}:1: default: .* — fix: edit ${policy}; 'modgate policy check ${policy}' shows every problem with its line$`,
      ),
    );
    expect(out).toMatch(new RegExp(`^ {5}${policy}:3: rules\\[0\\]\\.`, 'm'));
    expect(code).toBe(1);
  });

  it('an invalid gateway.yaml: every problem, nothing else tried', async () => {
    const path = await variant((c) => {
      c.upstreams.athens.timeout = 'soon';
      c.default_upstream = 'nowhere';
    });
    const { code, out } = await run('--config', path);
    const lines = out.split('\n').filter(Boolean);
    expect(lines[0]).toBe(`FAIL config ${path}: 1 problem(s) — fix: fix ${path} and run again`);
    expect(lines.slice(1, -1).join('\n')).toContain('upstreams.athens.timeout');
    expect(lines.at(-1)).toBe('check-config: the configuration is invalid');
    expect(code).toBe(1);
  });

  it('--offline validates files only: the broken LDAP password is not noticed', async () => {
    const path = await variant(async (c) => {
      c.directory.ldap.bind_password = await secretFile(stack.dir, 'wrong-ldap-pw-2', 'not-the-password');
    });
    const { code, out } = await run('--config', path, '--offline');
    expect(lineOf(out, 'skip ldap')).toBe(`skip ldap ${stack.slapd!.url}: not checked (--offline)`);
    expect(lineOf(out, 'skip upstream athens')).toBe(
      `skip upstream athens ${stack.athens!.url}: not checked (--offline)`,
    );
    expect(lineOf(out, 'skip redis')).toBe('skip redis: not configured (state.kind: memory)');
    expect(code).toBe(0);
  });

  it('a key that does not belong to the certificate', async () => {
    const path = await variant(async (c) => {
      const { generateKeyPairSync } = await import('node:crypto');
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      c.tls.key = await secretFile(
        stack.dir,
        'other-key.pem',
        privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      );
    });
    const { code, out } = await run('--config', path, '--offline');
    expect(lineOf(out, 'FAIL tls')).toBe(
      'FAIL tls: tls.key does not belong to the certificate in tls.cert — fix: point tls.key at the private key the certificate was issued for',
    );
    expect(code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    const { code, err } = await run('--timeout', 'soon');
    expect(code).toBe(2);
    expect(err).toContain('--timeout "soon" is not a duration');
  });
});

describe('the server certificate check', () => {
  const settings = (publicUrl?: string) => ({
    tls: { cert: stack.pki.certPem, key: stack.pki.keyPem },
    listen: { publicUrl },
  });
  const DAY_MS = 24 * 60 * 60 * 1000;

  it('warns within 30 days of expiry, fails before its validity and after (ok: see compose.test.ts)', () => {
    const cert = new X509Certificate(stack.pki.certPem);
    const from = new Date(cert.validFrom).getTime();
    const to = new Date(cert.validTo).getTime();
    expect(checkServerCertificate(settings(), from + 1000).status).toBe('warn');
    expect(checkServerCertificate(settings(), from - DAY_MS)).toMatchObject({ status: 'fail' });
    expect(checkServerCertificate(settings(), to + 1000)).toMatchObject({
      status: 'fail',
      fix: 'renew the certificate (local stack: deploy/gen-certs.sh --force)',
    });
    expect(checkServerCertificate(settings(), to + 1000).detail).toMatch(/: expired$/);
  });

  it('warns when listen.public_url names a host the certificate does not', () => {
    const o = checkServerCertificate(settings('https://goproxy.corp.example'));
    expect(o.status).toBe('warn');
    expect(o.detail).toContain('it does not name goproxy.corp.example, the host of listen.public_url');
    expect(checkServerCertificate(settings('https://localhost:8443')).detail).not.toContain('does not name');
    expect(checkServerCertificate(settings('https://127.0.0.1:8443')).detail).not.toContain('does not name');
  });

  it('is skipped behind a TLS terminator', () => {
    expect(
      checkServerCertificate({ tls: { behindTlsTerminator: true }, listen: settings().listen }).status,
    ).toBe('skip');
  });
});

describe('check-config with shared state in Redis', () => {
  const PASSWORD = 'redis-check-pw-Xq4';
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedis({ password: PASSWORD });
  });

  afterAll(async () => {
    await redis?.stop();
  });

  const withRedis = (password: string, url = redis.url) =>
    variant(async (c) => {
      (c as unknown as Record<string, unknown>).state = {
        kind: 'redis',
        url,
        password: await secretFile(stack.dir, `redis-pw-${variants}`, password),
      };
    });

  it('connects, authenticates and PINGs', async () => {
    const { code, out } = await run('--config', await withRedis(PASSWORD));
    expect(lineOf(out, 'ok   redis')).toMatch(
      /^ok {3}redis redis:\/\/127\.0\.0\.1:\d+: connected, PING answered PONG$/,
    );
    expect(code).toBe(0);
  });

  it('a wrong password', async () => {
    const { code, out } = await run('--config', await withRedis('not-the-redis-pw'));
    expect(lineOf(out, 'FAIL redis')).toMatch(
      /: Redis refused modgate's credentials \(WRONGPASS\) — fix: check state\.username and state\.password/,
    );
    expect(out).not.toContain('not-the-redis-pw');
    expect(code).toBe(1);
  });

  it('nobody listening', async () => {
    const port = await freePort();
    const { code, out } = await run('--config', await withRedis(PASSWORD, `redis://127.0.0.1:${port}`));
    expect(lineOf(out, 'FAIL redis')).toBe(
      `FAIL redis redis://127.0.0.1:${port}: cannot connect: ECONNREFUSED — fix: check state.url (or sentinels/nodes) and that Redis is running and reachable from here`,
    );
    expect(code).toBe(1);
  });

  it('--offline lists it as not checked', async () => {
    const { out } = await run('--config', await withRedis(PASSWORD), '--offline');
    expect(lineOf(out, 'skip redis')).toMatch(
      /^skip redis redis:\/\/127\.0\.0\.1:\d+: not checked \(--offline\)$/,
    );
  });
});
