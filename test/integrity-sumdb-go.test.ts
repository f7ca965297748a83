/**
 * Public modules verified against the checksum database before any byte is
 * served (gateway/integrity), end to end: a checksum database built from the
 * Go team's own code (harness/go-sumdb.ts) holding the fixture modules' go.sum
 * lines, the real go command of both generations using the same log
 * (GOSUMDB), and modgate in enforce mode asking it directly. A tampered
 * upstream (changed zip, changed go.mod, truncated zip, another version's
 * zip) is refused with modgate's line, audited as an integrity failure, and
 * nothing of the bad body is sent; a version the database does not hold is
 * refused; a forked log is refused loudly.
 */
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapePath } from '../core/gomod/module.ts';
import { writeModuleVersion } from '../gateway/protocol/goproxy-folder.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, runGo } from '../harness/go.ts';
import { type GoSumdb, startGoSumdb } from '../harness/go-sumdb.ts';
import { httpsGet } from '../harness/https-client.ts';
import { freePort } from '../harness/ports.ts';
import { startTestGateway } from './support/gateway.ts';
import { type Stack, startStack } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password };
const basic: [string, string] = [alice.login, alice.password];

let stack: Stack;
let sumdb: GoSumdb;
let gatewayConfig: Record<string, unknown>;

beforeAll(async () => {
  stack = await startStack({
    directory: 'file',
    upstream: 'athens',
    gatewayConfig: async (config, { fixtures }) => {
      const records = fixtures.modules
        .filter((m) => !m.private && m.path !== 'example.com/old')
        .flatMap((m) =>
          m.versions.map((v) => ({
            path: m.path,
            version: v.version,
            goSum: `${m.path} ${v.version} ${v.sum}\n${m.path} ${v.version}/go.mod ${v.goModSum}\n`,
          })),
        );
      sumdb = await startGoSumdb({ records });
      gatewayConfig = {
        ...config,
        integrity: {
          mode: 'enforce',
          checksum_database: { name: sumdb.name, key: sumdb.key, url: sumdb.url },
        },
      };
      return gatewayConfig;
    },
  });
}, 90_000);

afterAll(async () => {
  await stack?.close();
  await sumdb?.close();
});

function versionFile(module: string, version: string, kind: 'zip' | 'mod'): string {
  return join(stack.fixtures.root, escapePath(module), '@v', `${version}.${kind}`);
}

async function auditOf(path: string): Promise<Record<string, unknown> | undefined> {
  const records = await stack.gateway.auditRecords();
  return records.filter((r) => (r.url as { path: string }).path === path).at(-1);
}

describe('public modules verified against the checksum database', () => {
  it('go of both generations downloads what the database vouches for; modgate audits it verified', async () => {
    // Zips come through the emulator's storage redirect, which modgate follows itself while it spools.
    stack.athens!.configure({ redirectZips: true });
    for (const go of CLIENT_GOS) {
      const env = await stack.goEnv(`ok-${go.version}`, alice);
      const run = await runGo(
        ['mod', 'download', '-json', 'example.com/hello@v1.0.0', 'example.com/lib/v2@v2.1.0'],
        {
          env: { ...env.env, GOSUMDB: sumdb.gosumdb },
          cwd: env.home,
          go,
        },
      );
      expect(run.code, run.stderr).toBe(0);
    }
    const verified = await auditOf('/example.com/hello/@v/v1.0.0.zip');
    expect(verified?.integrity).toMatchObject({ outcome: 'verified' });
    const first = (await stack.gateway.auditRecords()).find(
      (r) => (r.url as { path: string }).path === '/example.com/hello/@v/v1.0.0.zip',
    );
    expect(first?.integrity).toMatchObject({ outcome: 'verified', against: 'sumdb', cached: false });
    expect(stack.athens!.requests.some((r) => r.url.startsWith('/_storage/'))).toBe(true);
    stack.athens!.configure({ redirectZips: false });
  });

  it('refuses a changed zip, a changed go.mod, a truncated zip and another version’s zip, sending nothing of them', async () => {
    const hello = stack.fixtures.modules.find((m) => m.path === 'example.com/hello')!;
    // v1.1.0: another file in the zip.
    await writeModuleVersion(stack.fixtures.root, {
      path: hello.path,
      version: 'v1.1.0',
      files: { 'hello.go': 'package hello\n\nfunc Hello() string { return "swapped" }\n' },
    });
    // v1.2.0: the zip of v1.0.0 (right for another version).
    await copyFile(versionFile(hello.path, 'v1.0.0', 'zip'), versionFile(hello.path, 'v1.2.0', 'zip'));
    // example.com/lib/v2@v2.0.0: a truncated zip and a changed go.mod.
    const lib = 'example.com/lib/v2';
    const zip = await readFile(versionFile(lib, 'v2.0.0', 'zip'));
    await writeFile(versionFile(lib, 'v2.0.0', 'zip'), zip.subarray(0, zip.length - 40));
    await writeFile(versionFile(lib, 'v2.0.0', 'mod'), `module ${lib}\n\ngo 1.22\n`);

    const cases = [
      {
        path: '/example.com/hello/@v/v1.1.0.zip',
        line: /integrity check failed for example\.com\/hello@v1\.1\.0: upstream sent h1:\S+, sum\.modgate\.test says h1:\S+/,
      },
      { path: '/example.com/hello/@v/v1.2.0.zip', line: /example\.com\/hello@v1\.2\.0/ },
      { path: '/example.com/lib/v2/@v/v2.0.0.zip', line: /example\.com\/lib\/v2@v2\.0\.0/ },
      {
        path: '/example.com/lib/v2/@v/v2.0.0.mod',
        line: /integrity check failed for example\.com\/lib\/v2@v2\.0\.0\/go\.mod/,
      },
    ];
    for (const c of cases) {
      const res = await httpsGet(stack.gateway.url, c.path, { ca: stack.pki.caPem, basic });
      expect(res.status, c.path).toBe(502);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text.split('\n')).toHaveLength(2);
      expect(res.text).toMatch(c.line);
      const audit = await auditOf(c.path);
      expect(audit?.integrity, c.path).toMatchObject({ outcome: 'failure' });
    }
    expect(await stack.gateway.logText()).toMatch(
      /"level":50.*integrity check failed for example\.com\/hello@v1\.1\.0/,
    );

    // The go command prints modgate's line (both generations).
    for (const go of CLIENT_GOS) {
      const env = await stack.goEnv(`tampered-${go.version}`, alice);
      const run = await runGo(['mod', 'download', 'example.com/hello@v1.1.0'], {
        env: { ...env.env, GOSUMDB: sumdb.gosumdb },
        cwd: env.home,
        go,
      });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain('modgate: integrity check failed for example.com/hello@v1.1.0');
    }
  });

  it('refuses a public version the database has no record of', async () => {
    const res = await httpsGet(stack.gateway.url, '/example.com/old/@v/v3.0.0+incompatible.mod', {
      ca: stack.pki.caPem,
      basic,
    });
    expect(res.status).toBe(502);
    expect(res.text).toMatch(
      /^modgate: example\.com\/old@v3\.0\.0\+incompatible is not in checksum database sum\.modgate\.test;/,
    );
  });

  it('refuses a forked log loudly, and keeps serving what it verified before', async () => {
    await sumdb.setMode('fork');
    try {
      const res = await httpsGet(stack.gateway.url, '/github.com/!acme/!tool/@v/v1.0.0.mod', {
        ca: stack.pki.caPem,
        basic,
      });
      expect(res.status).toBe(502);
      expect(res.text).toMatch(/^modgate: .*sum\.modgate\.test/);
      const audit = await auditOf('/github.com/!acme/!tool/@v/v1.0.0.mod');
      expect(audit?.integrity).toMatchObject({ outcome: 'failure', code: 'sumdb.forked' });
      expect(await stack.gateway.logText()).toMatch(/"level":50.*sumdb|"level":50.*fork/);
      const cached = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.0.0.zip', {
        ca: stack.pki.caPem,
        basic,
      });
      expect(cached.status).toBe(200);
    } finally {
      await sumdb.setMode('normal');
    }
  });

  it('warn mode serves what does not verify, audited as a mismatch or unverified, and keeps none of it', async () => {
    const integrity = gatewayConfig.integrity as Record<string, unknown>;
    const warn = await startTestGateway(join(stack.dir, 'warn'), stack.pki, {
      ...gatewayConfig,
      integrity: { ...integrity, mode: 'warn', cache: { dir: join(stack.dir, 'warn', 'verified') } },
    });
    try {
      const swapped = await httpsGet(warn.url, '/example.com/hello/@v/v1.1.0.zip', {
        ca: stack.pki.caPem,
        basic,
      });
      expect(swapped.status).toBe(200);
      expect(swapped.body.equals(await readFile(versionFile('example.com/hello', 'v1.1.0', 'zip')))).toBe(
        true,
      );
      const records = await warn.waitForAudit(1);
      const swappedAudit = records.find(
        (r) => (r.url as { path: string }).path === '/example.com/hello/@v/v1.1.0.zip',
      );
      expect(swappedAudit?.integrity).toMatchObject({ outcome: 'mismatch', against: 'sumdb', cached: false });
      expect(await warn.logText()).toMatch(
        /"level":50.*integrity check failed for example\.com\/hello@v1\.1\.0/,
      );
      // Nothing that failed was kept: the upstream is asked again.
      const before = stack.athens!.requests.length;
      expect(
        (await httpsGet(warn.url, '/example.com/hello/@v/v1.1.0.zip', { ca: stack.pki.caPem, basic })).status,
      ).toBe(200);
      expect(stack.athens!.requests.length).toBeGreaterThan(before);
    } finally {
      await warn.close();
    }
    // With the database unreachable, warn serves unverified bytes, audited as such.
    const offline = await startTestGateway(join(stack.dir, 'warn-offline'), stack.pki, {
      ...gatewayConfig,
      integrity: {
        ...integrity,
        mode: 'warn',
        cache: { dir: join(stack.dir, 'warn-offline', 'verified') },
        checksum_database: { name: sumdb.name, key: sumdb.key, url: `http://127.0.0.1:${await freePort()}` },
      },
    });
    try {
      const res = await httpsGet(offline.url, '/github.com/!acme/!tool/@v/v1.0.0.zip', {
        ca: stack.pki.caPem,
        basic,
      });
      expect(res.status).toBe(200);
      const [audit] = await offline.waitForAudit(1);
      expect(audit?.integrity).toMatchObject({ outcome: 'unverified', against: 'none', cached: false });
    } finally {
      await offline.close();
    }
  });
});
