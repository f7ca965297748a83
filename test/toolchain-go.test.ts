/**
 * Toolchain downloads through modgate, under policy: go ≥1.21
 * fetches `golang.org/toolchain@v0.0.1-go<version>.<goos>-<goarch>` through
 * GOPROXY when GOTOOLCHAIN or go.mod asks for a newer go, checks it against a
 * checksum database (required for toolchains even with GOSUMDB=off), unpacks
 * it and runs its bin/go. Driven with the machine's current go only: go 1.19
 * has no toolchain switching (GOTOOLCHAIN arrived in go 1.21).
 *
 * The toolchains are stand-ins (test/support/toolchain.ts) whose bin/go prints
 * its own `go version` line; the checksum database is a real, small one
 * (harness/checksum-db.ts) proxied by the Athens emulator.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeVersion } from '../core/gomod/module.ts';
import { TOOLCHAIN_MODULE } from '../core/gomod/toolchain.ts';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { type ChecksumDb, makeChecksumDb } from '../harness/checksum-db.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { GO, type GoEnv, runGo } from '../harness/go.ts';
import { httpsGet, startGet } from '../harness/https-client.ts';
import { docsSection, yamlBlocks } from './support/docs.ts';
import { type Stack, startStack } from './support/stack.ts';
import {
  HOST_PLATFORM,
  toolchainVersion,
  type WrittenToolchain,
  writeToolchain,
} from './support/toolchain.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password };

const POLICY = `default: allow
rules:
  - name: toolchain-floor
    subjects: ["*"]
    modules: ["golang.org/toolchain@<go1.99.0"]
    action: deny
    reason: toolchains before go1.99.0 are not supported; use go1.99.1
`;

/** The big toolchain zip the streaming test reads (bytes): tens of MB, as real ones are. */
const BIG_ZIP_BYTES = 40 * 1024 * 1024;
/** What the emulator sends of it before holding the rest (bytes). */
const HELD_AFTER_BYTES = 1024 * 1024;
/** The stand-in toolchain whose zip is big; go never runs it. */
const BIG = 'go1.99.2';

let stack: Stack;
let db: ChecksumDb;
const toolchains: Record<string, WrittenToolchain> = {};

beforeAll(async () => {
  db = makeChecksumDb();
  stack = await startStack({
    directory: 'file',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config) => ({ ...config, checksum_databases: ['sum.golang.org', db.name] }),
  });
  for (const name of ['go1.98.0', 'go1.99rc1', 'go1.99.1']) {
    const written = await writeToolchain(stack.fixtures.root, name);
    db.add(TOOLCHAIN_MODULE, written.version, written.goSum);
    toolchains[name] = written;
  }
  await writeToolchain(stack.fixtures.root, 'go1.99.1', 'windows-amd64');
  await writeLargeZip(stack.fixtures.root, TOOLCHAIN_MODULE, toolchainVersion(BIG), BIG_ZIP_BYTES);
  stack.athens!.configure({ checksumDb: db });
});
afterAll(async () => {
  await stack?.close();
});

/** A fresh go environment for alice that trusts the test checksum database and may switch toolchains. */
async function goEnv(name: string, gotoolchain: string): Promise<GoEnv> {
  const env = await stack.goEnv(name, alice);
  Object.assign(env.env, { GOSUMDB: db.key, GOTOOLCHAIN: gotoolchain });
  return env;
}

/** A module folder `name` with this go.mod text after the module line. */
async function moduleDir(name: string, goMod: string): Promise<string> {
  const dir = join(stack.dir, 'work', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'go.mod'), `module example.com/${name}\n\n${goMod}`);
  return dir;
}

/** The audit records of toolchain requests written since `before`. */
async function toolchainAudit(before: number): Promise<Record<string, unknown>[]> {
  const records = (await stack.gateway.auditRecords()).slice(before);
  return records.filter((r) => (r.module as { path?: string } | undefined)?.path === TOOLCHAIN_MODULE);
}

const folded = (text: string) => text.replace(/\s+/g, ' ');

describe(`toolchain switching through modgate (${GO.version}; go 1.19 cannot switch)`, () => {
  it('GOTOOLCHAIN=go1.99.1 downloads the toolchain through modgate and runs it; the audit names it', async () => {
    const before = (await stack.gateway.auditRecords()).length;
    const env = await goEnv('env-switch', 'go1.99.1');
    const r = await runGo(['version'], { env: env.env, cwd: stack.dir });
    expect(r.stderr).toContain(`go: downloading go1.99.1 (${HOST_PLATFORM.replace('-', '/')})`);
    expect({ code: r.code, stdout: r.stdout }).toEqual({
      code: 0,
      stdout: `${toolchains['go1.99.1']!.versionLine}\n`,
    });
    const zip = (await toolchainAudit(before)).find(
      (a) => (a.event as { action?: string } | undefined)?.action === 'goproxy.zip',
    );
    expect(zip).toMatchObject({
      module: { path: TOOLCHAIN_MODULE, version: toolchains['go1.99.1']!.version },
      policy: { decision: 'allow', rule: 'default' },
      http: { response: { status_code: 200 } },
    });
  });

  it.each([
    ['a toolchain line', 'toolchain-line', 'go 1.21\n\ntoolchain go1.99.1\n'],
    ['a newer go line', 'go-line', 'go 1.99.1\n'],
  ])(
    'go.mod with %s and GOTOOLCHAIN=auto switches to go1.99.1 through modgate',
    async (_what, name, goMod) => {
      const env = await goEnv(name, 'auto');
      const r = await runGo(['version'], { env: env.env, cwd: await moduleDir(name, goMod) });
      expect({ code: r.code, stdout: r.stdout }).toEqual({
        code: 0,
        stdout: `${toolchains['go1.99.1']!.versionLine}\n`,
      });
    },
  );

  it.each(['go1.99rc1', 'go1.98.0'])(
    'a policy denying toolchains before go1.99.0 refuses %s with 403 and the reason, and go prints it',
    async (name) => {
      const before = (await stack.gateway.auditRecords()).length;
      const env = await goEnv(`denied-${name}`, name);
      const r = await runGo(['version'], { env: env.env, cwd: stack.dir });
      const version = toolchains[name]!.version;
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(folded(r.stderr)).toContain(
        `403 Forbidden server response: modgate: ${TOOLCHAIN_MODULE}@${version} denied by rule "toolchain-floor": toolchains before go1.99.0 are not supported; use go1.99.1`,
      );
      expect((await toolchainAudit(before)).at(-1)).toMatchObject({
        module: { path: TOOLCHAIN_MODULE, version },
        policy: { decision: 'deny', rule: 'toolchain-floor' },
        http: { response: { status_code: 403 } },
      });
    },
  );
});

describe('lists of golang.org/toolchain under policy', () => {
  const get = (path: string) =>
    httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [alice.login, alice.password] });

  it('@v/list leaves out the denied toolchains (go1.99rc1 too, which semver would order above go1.99.0)', async () => {
    const res = await get(`/${TOOLCHAIN_MODULE}/@v/list`);
    expect(res.status).toBe(200);
    expect(res.text.split('\n').filter(Boolean).sort()).toEqual(
      [
        toolchainVersion('go1.99.1'),
        toolchainVersion('go1.99.1', 'windows-amd64'),
        toolchainVersion(BIG),
      ].sort(),
    );
  });

  it('@latest is the newest allowed toolchain by Go order', async () => {
    const res = await get(`/${TOOLCHAIN_MODULE}/@latest`);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { Version: string }).Version).toMatch(/^v0\.0\.1-go1\.99\.2\./);
  });

  it('go list -m -versions toolchain shows only the allowed ones (and the local go)', async () => {
    const env = await goEnv('list', 'local');
    const r = await runGo(['list', '-m', '-versions', 'toolchain'], { env: env.env, cwd: stack.dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`toolchain ${GO.version} go1.99.1 ${BIG}\n`);
  });
});

describe('a toolchain zip is streamed', () => {
  it(`the client has bytes of a ${BIG_ZIP_BYTES / 2 ** 20} MB toolchain zip while the upstream still holds most of it`, async () => {
    const athens = stack.athens!;
    const file = join(
      stack.fixtures.root,
      TOOLCHAIN_MODULE,
      '@v',
      `${escapeVersion(toolchainVersion(BIG))}.zip`,
    );
    const expected = createHash('sha256');
    let size = 0;
    for await (const piece of createReadStream(file)) {
      expected.update(piece as Buffer);
      size += (piece as Buffer).length;
    }
    athens.configure({ holdZipsAfter: HELD_AFTER_BYTES });
    try {
      let received = 0;
      const hash = createHash('sha256');
      const done = new Promise<number>((resolve, reject) => {
        const req = startGet(
          stack.gateway.url,
          `/${TOOLCHAIN_MODULE}/@v/${escapeVersion(toolchainVersion(BIG))}.zip`,
          { ca: stack.pki.caPem, basic: [alice.login, alice.password] },
          (res) => {
            res.on('data', (chunk: Buffer) => {
              received += chunk.length;
              hash.update(chunk);
            });
            res.on('end', () => resolve(res.statusCode ?? 0));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
      });
      for (let waited = 0; (athens.held === 0 || received === 0) && waited < 10_000; waited += 20)
        await delay(20);
      expect(athens.held).toBe(1);
      expect(received).toBeGreaterThan(0);
      expect(received).toBeLessThanOrEqual(HELD_AFTER_BYTES);
      athens.releaseHeld();
      expect(await done).toBe(200);
      expect({ received, sha: hash.digest('hex') }).toEqual({ received: size, sha: expected.digest('hex') });
      expect(size).toBeGreaterThan(BIG_ZIP_BYTES - 64 * 1024);
    } finally {
      athens.configure({ holdZipsAfter: undefined });
    }
  });
});

describe('docs/policies.md "Go toolchains": no toolchain downloads at all', () => {
  it("a go.mod asking for a newer go fails with the rule's reason printed by go", async () => {
    const [, noDownloads] = yamlBlocks(await docsSection('policies.md', 'Go toolchains'));
    await writeFile(stack.policyPath, noDownloads!);
    const list = () =>
      httpsGet(stack.gateway.url, `/${TOOLCHAIN_MODULE}/@v/list`, {
        ca: stack.pki.caPem,
        basic: [alice.login, alice.password],
      });
    for (let waited = 0; (await list()).status !== 403 && waited < 5_000; waited += 50) await delay(50);
    const env = await goEnv('no-downloads', 'auto');
    const r = await runGo(['version'], { env: env.env, cwd: await moduleDir('no-downloads', 'go 1.99.1\n') });
    expect(r.code).not.toBe(0);
    expect(folded(r.stderr)).toContain(
      `403 Forbidden server response: modgate: ${TOOLCHAIN_MODULE}@${toolchains['go1.99.1']!.version} denied by rule "no-toolchain-downloads": toolchains come from the build image; set GOTOOLCHAIN=local`,
    );
  });
});
