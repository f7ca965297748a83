/**
 * Private modules pinned on first sight (gateway/integrity), end to end with
 * the real go command: the first fetch through modgate records the go.sum
 * hashes in the records folder and keeps the files in the verified cache;
 * later fetches come from the cache without asking the upstream; a second
 * gateway (another process's view: its own cache, the same records) and a
 * restart still refuse a re-tagged version whose zip or go.mod changed,
 * with modgate's line printed by go, an audit record marked as an integrity
 * failure, and nothing of the bad body sent. A public module with the
 * checksum database unreachable is refused (503), never served unverified.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinsCommand } from '../bin/commands/pins.ts';
import { writeModuleVersion } from '../gateway/protocol/goproxy-folder.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, type GoEnv, makeGoEnv, netrcMachines, runGo, writeNetrc } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { freePort } from '../harness/ports.ts';
import { secretFile, startTestGateway, type TestGateway } from './support/gateway.ts';
import { PRIVATE_CORP_POLICY, type Stack, startStack } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password };
const SECRET = 'corp.example/team-a/secret';
const SECRET_VERSION = 'v0.1.0';
const ZIP = `/${SECRET}/@v/${SECRET_VERSION}.zip`;
const MOD = `/${SECRET}/@v/${SECRET_VERSION}.mod`;
const H1 = /h1:[A-Za-z0-9+/]{43}=/g;

let stack: Stack;
let config: Record<string, unknown>;
let recordsDir: string;

/** gateway.yaml's integrity section: enforce, a cache folder of its own, the shared records folder. */
function integrity(cacheDir: string, sumdbPort: number) {
  return {
    mode: 'enforce',
    cache: { dir: cacheDir, max_size: '100MB' },
    records_dir: recordsDir,
    // A loopback port nobody listens on: the public checksum database is unreachable here.
    checksum_database: {
      name: 'sum.golang.org',
      key: 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
      url: `http://127.0.0.1:${sumdbPort}`,
    },
  };
}

let closedPort: number;
let adminTokenFile: string;
const ADMIN_TOKEN = 'pins-admin-token-Jq4x8';

/** Runs `modgate pins …` against the stack's gateway; resolves its exit code and output. */
async function pins(...args: string[]) {
  let out = '';
  let err = '';
  const io = {
    out: (t: string) => {
      out += t;
    },
    err: (t: string) => {
      err += t;
    },
  };
  const target = ['--url', stack.gateway.url, '--token-file', adminTokenFile, '--ca', stack.pki.caCertPath];
  const code = await pinsCommand([...args, ...target], io);
  return { code, out, err };
}

beforeAll(async () => {
  closedPort = await freePort();
  stack = await startStack({
    directory: 'file',
    upstream: 'athens',
    policy: PRIVATE_CORP_POLICY,
    gatewayConfig: async (base, { dir }) => {
      recordsDir = join(dir, 'records');
      adminTokenFile = join(dir, 'admin-token');
      config = {
        ...base,
        integrity: integrity(join(dir, 'verified-1'), closedPort),
        admin: { token: await secretFile(dir, 'admin-token', ADMIN_TOKEN) },
      };
      return config;
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

/** A second gateway beside the stack's: the same upstream and records, its own verified cache. */
async function secondGateway(name: string): Promise<TestGateway> {
  return startTestGateway(join(stack.dir, name), stack.pki, {
    ...config,
    integrity: integrity(join(stack.dir, name, 'verified'), closedPort),
  });
}

/** A go environment pointed at `gateway`, alice's netrc lines for its host and host:port. */
async function goEnvFor(gateway: TestGateway, name: string): Promise<GoEnv> {
  const env = await makeGoEnv(join(stack.dir, 'go', name), {
    goproxy: gateway.url,
    caCertPath: stack.pki.caCertPath,
  });
  await writeNetrc(
    env.netrc,
    netrcMachines(gateway.url, 'both').map((machine) => ({ machine, ...alice })),
  );
  return env;
}

function upstreamZipRequests(): number {
  return stack.athens!.requests.filter((r) => r.url.endsWith(`${SECRET_VERSION}.zip`)).length;
}

describe('private modules pinned on first sight', () => {
  it('the first fetch pins the hashes go computes; the next is served from the verified cache', async () => {
    const env = await stack.goEnv('first', alice);
    const first = await runGo(['mod', 'download', '-json', `${SECRET}@${SECRET_VERSION}`], {
      env: env.env,
      cwd: env.home,
    });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const sums = JSON.parse(first.stdout) as { Sum: string; GoModSum: string };
    const records = await stack.gateway.waitForAudit(2);
    const pinned = records.filter(
      (r) => (r.integrity as { outcome?: string } | undefined)?.outcome === 'pinned',
    );
    expect(pinned.map((r) => (r.integrity as { hash: string }).hash).sort()).toEqual(
      [sums.Sum, sums.GoModSum].sort(),
    );

    const before = upstreamZipRequests();
    for (const go of CLIENT_GOS) {
      const again = await stack.goEnv(`again-${go.version}`, alice);
      const second = await runGo(['mod', 'download', '-json', `${SECRET}@${SECRET_VERSION}`], {
        env: again.env,
        cwd: again.home,
        go,
      });
      expect(second.code, second.stderr).toBe(0);
      expect((JSON.parse(second.stdout) as { Sum: string }).Sum).toBe(sums.Sum);
    }
    expect(upstreamZipRequests()).toBe(before);
  });

  it('a re-tagged version (changed zip, then changed go.mod) is refused by another gateway and after a restart', async () => {
    const goodZip = await httpsGet(stack.gateway.url, ZIP, {
      ca: stack.pki.caPem,
      basic: [alice.login, alice.password],
    });
    expect(goodZip.status).toBe(200);
    const pinnedHashes = JSON.stringify(await stack.gateway.auditRecords()).match(H1) ?? [];
    // The upstream's copy changes under the same version: one more file in the zip.
    await writeModuleVersion(stack.fixtures.root, {
      path: SECRET,
      version: SECRET_VERSION,
      files: { 'secret.go': 'package secret\n\nfunc Hello() string { return "swapped" }\n' },
    });
    for (const name of ['second', 'restarted']) {
      const other = await secondGateway(name);
      try {
        const res = await httpsGet(other.url, ZIP, {
          ca: stack.pki.caPem,
          basic: [alice.login, alice.password],
        });
        expect(res.status).toBe(502);
        expect(res.text).toMatch(
          new RegExp(
            `^modgate: integrity check failed for ${SECRET}@${SECRET_VERSION}: upstream sent h1:\\S+, the first fetch says h1:\\S+ \\(request [0-9a-f]{32}\\)\\n$`,
          ),
        );
        // Nothing of the bad zip: the refusal is the whole body.
        expect(res.text).not.toContain('PK');
        const [refused] = (await other.waitForAudit(1)).filter(
          (r) => (r.url as { path: string }).path === ZIP,
        );
        expect(refused?.integrity).toMatchObject({
          outcome: 'failure',
          code: 'integrity.mismatch',
          against: 'pin',
        });
        expect(pinnedHashes).toContain((refused!.integrity as { expected: string }).expected);
        expect(await other.logText()).toMatch(/"level":50.*integrity check failed/);

        const env = await goEnvFor(other, `refused-${name}`);
        const go = await runGo(['mod', 'download', `${SECRET}@${SECRET_VERSION}`], {
          env: env.env,
          cwd: env.home,
        });
        expect(go.code).not.toBe(0);
        expect(go.stderr).toContain(`modgate: integrity check failed for ${SECRET}@${SECRET_VERSION}`);
      } finally {
        await other.close();
      }
    }
    // The stack's own gateway still serves the bytes it verified first, from its cache.
    const cached = await httpsGet(stack.gateway.url, ZIP, {
      ca: stack.pki.caPem,
      basic: [alice.login, alice.password],
    });
    expect(cached.status).toBe(200);
    expect(cached.body.equals(goodZip.body)).toBe(true);

    // A changed go.mod for the pinned version is refused too.
    const modDir = join(stack.fixtures.root, 'corp.example', 'team-a', 'secret', '@v');
    await writeFile(join(modDir, `${SECRET_VERSION}.mod`), `module ${SECRET}\n\ngo 1.21\n`);
    const other = await secondGateway('mod-changed');
    try {
      const res = await httpsGet(other.url, MOD, {
        ca: stack.pki.caPem,
        basic: [alice.login, alice.password],
      });
      expect(res.status).toBe(502);
      expect(res.text).toContain(`integrity check failed for ${SECRET}@${SECRET_VERSION}/go.mod`);
    } finally {
      await other.close();
    }
  });

  it('a public module is refused with 503 while the checksum database is unreachable', async () => {
    const res = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.0.0.zip', {
      ca: stack.pki.caPem,
      basic: [alice.login, alice.password],
    });
    expect(res.status).toBe(503);
    expect(res.text).toMatch(
      /^modgate: cannot verify example\.com\/hello@v1\.0\.0: checksum database sum\.golang\.org is unreachable and this version was never verified here \(request [0-9a-f]{32}\)\n$/,
    );
  });

  it('modgate pins lists, shows and forgets a pin, each call audited; a forgotten version is pinned anew', async () => {
    const listed = await pins('list', 'corp.example/');
    expect(listed).toEqual({ code: 0, out: `${SECRET}@${SECRET_VERSION}\n`, err: '' });
    const shown = await pins('show', `${SECRET}@${SECRET_VERSION}`);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^first seen: \d{4}-\d\d-\d\dT[\d:.]+Z\nmod: h1:\S+\nzip: h1:\S+\n$/);
    const oldZip = /zip: (h1:\S+)/.exec(shown.out)?.[1];

    expect(await pins('forget', `${SECRET}@${SECRET_VERSION}`)).toEqual({
      code: 0,
      out: `forgot ${SECRET}@${SECRET_VERSION}\n`,
      err: '',
    });
    expect((await pins('show', `${SECRET}@${SECRET_VERSION}`)).code).toBe(1);
    // The changed zip (earlier test) is now pinned on first sight, from the upstream, not the cache.
    const res = await httpsGet(stack.gateway.url, ZIP, {
      ca: stack.pki.caPem,
      basic: [alice.login, alice.password],
    });
    expect(res.status).toBe(200);
    const repinned = /zip: (h1:\S+)/.exec((await pins('show', `${SECRET}@${SECRET_VERSION}`)).out)?.[1];
    expect(repinned).toBeDefined();
    expect(repinned).not.toBe(oldZip);

    const actions = (await stack.gateway.auditRecords())
      .filter((r) => String((r.event as { action: string }).action).startsWith('modgate.admin.pins'))
      .map((r) => [
        (r.event as { action: string }).action,
        (r.labels as { target?: string } | undefined)?.target,
      ]);
    expect(actions).toEqual([
      ['modgate.admin.pins.read', 'corp.example/*'],
      ['modgate.admin.pins.read', `${SECRET}@${SECRET_VERSION}`],
      ['modgate.admin.pins.forget', `${SECRET}@${SECRET_VERSION}`],
      ['modgate.admin.pins.read', `${SECRET}@${SECRET_VERSION}`],
      ['modgate.admin.pins.read', `${SECRET}@${SECRET_VERSION}`],
    ]);
    const bad = await pins('show', 'not a module@v1');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^modgate pins: 400 modgate: module= must be a module path\n$/);
  });
});
