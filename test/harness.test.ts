/**
 * Tests of the shared test harness itself: the fixture GOPROXY folder is what
 * the real go command expects, the Athens emulator behaves as documented, and
 * the per-run PKI is trusted by go through SSL_CERT_FILE.
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, request as httpsRequest, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  MAX_MODULE_ZIP_BYTES,
  writeLargeZip,
  writeModuleVersion,
} from '../gateway/protocol/goproxy-folder.ts';
import { ATHENS_REALM, type AthensEmulator, startAthensEmulator } from '../harness/athens-emulator.ts';
import { initModule, listModCache, makeGoEnv, netrcMachines, runGo, writeNetrc } from '../harness/go.ts';
import { freePort } from '../harness/ports.ts';
import { makeTestPki, type TestPki } from '../harness/tls.ts';
import { type FixtureSet, fixtureModule, writeFixtureModules } from './support/modules.ts';

const execFileAsync = promisify(execFile);

let tmp: string;
let fixtures: FixtureSet;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-harness-'));
  fixtures = await writeFixtureModules(join(tmp, 'goproxy'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** `go mod download -json` prints one JSON object per module, concatenated. */
function parseDownloadJson(
  stdout: string,
): { Path: string; Version: string; Sum?: string; GoModSum?: string; Error?: string }[] {
  return stdout
    .trim()
    .split(/\n(?=\{)/)
    .map((chunk) => JSON.parse(chunk));
}

let counter = 0;
async function goEnv(goproxy: string, extra: { netrc?: string; caCertPath?: string } = {}) {
  const dir = join(tmp, `go-${++counter}`);
  const env = await makeGoEnv(dir, { goproxy, ...extra });
  return { ...env, dir };
}

describe('fixture GOPROXY folder and the go command', () => {
  test('go mod download of every fixture version fills the cache with exactly the described files', async () => {
    const go = await goEnv(fixtures.goproxy);
    const args = fixtures.modules.flatMap((m) => m.versions.map((v) => `${m.path}@${v.version}`));
    const result = await runGo(['mod', 'download', '-json', ...args], { env: go.env, cwd: go.home });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const reported = parseDownloadJson(result.stdout);
    for (const m of fixtures.modules) {
      for (const v of m.versions) {
        const entry = reported.find((r) => r.Path === m.path && r.Version === v.version);
        expect(entry, `${m.path}@${v.version}`).toMatchObject({ Sum: v.sum, GoModSum: v.goModSum });
        expect(entry?.Error).toBeUndefined();
      }
    }
    const expected = [
      ...new Set(fixtures.modules.flatMap((m) => m.versions.flatMap((v) => v.cacheFiles))),
    ].sort();
    expect(await listModCache(go.gomodcache)).toEqual(expected);
  });

  test('downloading one version leaves exactly its own described files', async () => {
    const go = await goEnv(fixtures.goproxy);
    const tool = fixtureModule(fixtures, 'github.com/Acme/Tool');
    const result = await runGo(['mod', 'download', `${tool.path}@v1.0.0`], { env: go.env, cwd: go.home });
    expect(result.code).toBe(0);
    expect(await listModCache(go.gomodcache)).toEqual(tool.versions[0]!.cacheFiles);
    expect(tool.versions[0]!.cacheFiles).toContain('github.com/!acme/!tool/@v/v1.0.0.zip');
  });

  test('a program importing fixture modules resolves @latest and builds', async () => {
    const go = await goEnv(fixtures.goproxy);
    const app = join(go.dir, 'app');
    await initModule(app, 'example.com/app');
    await writeFile(
      join(app, 'main.go'),
      'package main\n\nimport (\n\t"example.com/hello"\n\t"example.com/lib/v2"\n)\n\n' +
        'func main() { println(hello.Hello(), lib.Hello()) }\n',
    );
    const get = await runGo(['get', 'example.com/hello@latest', 'example.com/lib/v2@latest'], {
      env: go.env,
      cwd: app,
    });
    expect(get.code, get.stderr).toBe(0);
    expect(await readFile(join(app, 'go.mod'), 'utf8')).toMatch(
      /example\.com\/hello v1\.2\.0[\s\S]*example\.com\/lib\/v2 v2\.1\.0/,
    );
    const build = await runGo(['build', '-o', join(go.dir, 'app.bin'), '.'], { env: go.env, cwd: app });
    expect(build.code, build.stderr).toBe(0);
  });

  test('the folder layout: escaped paths, sorted deduplicated list, zip entries under path@version', async () => {
    const dir = join(fixtures.root, 'github.com/!acme/!tool/@v');
    expect((await stat(join(dir, 'v1.0.0.info'))).isFile()).toBe(true);
    expect(JSON.parse(await readFile(join(dir, 'v1.0.0.info'), 'utf8'))).toEqual({
      Version: 'v1.0.0',
      Time: '2024-01-01T00:00:00Z',
    });
    // Re-writing a version must not duplicate it; an older one is sorted in place.
    const spec = { path: 'example.com/hello', files: { 'a.go': 'package hello\n' } };
    await writeModuleVersion(join(tmp, 'list-test'), { ...spec, version: 'v1.10.0' });
    await writeModuleVersion(join(tmp, 'list-test'), { ...spec, version: 'v1.2.0' });
    await writeModuleVersion(join(tmp, 'list-test'), { ...spec, version: 'v1.10.0' });
    await writeModuleVersion(join(tmp, 'list-test'), { ...spec, version: 'v1.2.0-rc.1' });
    const list = await readFile(join(tmp, 'list-test/example.com/hello/@v/list'), 'utf8');
    expect(list).toBe('v1.2.0-rc.1\nv1.2.0\nv1.10.0\n');

    const unzip = async (zip: string) =>
      (await execFileAsync('/usr/bin/unzip', ['-Z1', zip], { timeout: 5_000 })).stdout
        .trim()
        .split('\n')
        .sort();
    expect(await unzip(join(dir, 'v1.0.0.zip'))).toEqual(
      ['LICENSE', 'go.mod', 'tool.go'].map((f) => `github.com/Acme/Tool@v1.0.0/${f}`),
    );
    const old = join(fixtures.root, 'example.com/old/@v');
    expect(await unzip(join(old, 'v3.0.0+incompatible.zip'))).not.toContain(
      'example.com/old@v3.0.0+incompatible/go.mod',
    );
    expect(await readFile(join(old, 'v3.0.0+incompatible.mod'), 'utf8')).toBe('module example.com/old\n');
  });
});

describe('goproxy-folder writer', () => {
  test('concurrent writes of one module keep every version in list', async () => {
    const root = join(tmp, 'concurrent');
    const versions = ['v0.1.0', 'v0.2.0', 'v0.3.0', 'v0.10.0', 'v1.0.0-beta.2', 'v1.0.0'];
    await Promise.all(
      versions.map((version) =>
        writeModuleVersion(root, { path: 'example.com/c', version, files: { 'c.go': 'package c\n' } }),
      ),
    );
    expect(await readFile(join(root, 'example.com/c/@v/list'), 'utf8')).toBe(
      'v0.1.0\nv0.2.0\nv0.3.0\nv0.10.0\nv1.0.0-beta.2\nv1.0.0\n',
    );
  });

  test('rejects a go.mod for +incompatible versions and file names that escape the module', async () => {
    const root = join(tmp, 'rejects');
    await expect(
      writeModuleVersion(root, {
        path: 'example.com/x',
        version: 'v2.0.0+incompatible',
        files: { 'go.mod': 'module x\n' },
      }),
    ).rejects.toThrow(TypeError);
    await expect(
      writeModuleVersion(root, {
        path: 'example.com/x',
        version: 'v1.0.0',
        files: { '../evil.go': 'package x\n' },
      }),
    ).rejects.toMatchObject({ code: 'request.invalid_path' });
  });

  test('writeLargeZip streams a zip of the requested size that the go command accepts', async () => {
    const root = join(tmp, 'large');
    const size = 6 * 1024 * 1024;
    const written = await writeLargeZip(root, 'example.com/large', 'v1.0.0', size);
    expect(written.zipBytes).toBeLessThanOrEqual(size);
    expect(written.zipBytes).toBeGreaterThan(size - 8192);
    const go = await goEnv(pathToFileURL(root).href);
    const result = await runGo(['mod', 'download', 'example.com/large@v1.0.0'], {
      env: go.env,
      cwd: go.home,
    });
    expect(result.code, result.stderr).toBe(0);
    await expect(
      writeLargeZip(root, 'example.com/large', 'v2.0.0', MAX_MODULE_ZIP_BYTES + 1),
    ).rejects.toThrow(RangeError);
  });
});

describe('Athens emulator', () => {
  let athens: AthensEmulator;
  const basicAuth = { username: 'athens', password: 's3cret-athens' };
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const get = (path: string, init: RequestInit = {}) =>
    fetch(athens.url + path, {
      redirect: 'manual',
      ...init,
      headers: { authorization: basic('athens', 's3cret-athens'), ...init.headers },
    });

  beforeAll(async () => {
    athens = await startAthensEmulator({
      root: fixtures.root,
      prefix: '/athens',
      basicAuth,
      exclude: ['corp.example/team-a'],
    });
  });
  afterAll(async () => {
    await athens.close();
  });

  test('missing or wrong basic auth → 401 with the Athens challenge and an empty body', async () => {
    for (const authorization of [
      undefined,
      basic('athens', 'wrong'),
      basic('nobody', 's3cret-athens'),
      'Bearer x',
    ]) {
      const res = await fetch(`${athens.url}/example.com/hello/@v/list`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(`Basic realm="${ATHENS_REALM}"`);
      expect(await res.text()).toBe('');
    }
  });

  test('serves list, @latest, info, mod and zip of known modules, escaped paths included', async () => {
    const list = await get('/example.com/hello/@v/list');
    expect(list.status).toBe(200);
    expect(await list.text()).toBe('v1.0.0\nv1.1.0\nv1.2.0\n');
    expect(await (await get('/example.com/hello/@latest')).json()).toMatchObject({ Version: 'v1.2.0' });
    expect(await (await get('/example.com/lib/v2/@latest')).json()).toMatchObject({ Version: 'v2.1.0' });
    const mod = await get('/github.com/%21acme/%21tool/@v/v1.0.0.mod');
    expect(await mod.text()).toBe('module github.com/Acme/Tool\n\ngo 1.19\n');
    const zip = await get('/example.com/old/@v/v3.0.0+incompatible.zip');
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const onDisk = await readFile(join(fixtures.root, 'example.com/old/@v/v3.0.0+incompatible.zip'));
    expect(Buffer.from(await zip.arrayBuffer()).equals(onDisk)).toBe(true);
    const head = await get('/example.com/hello/@v/v1.0.0.zip', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
  });

  test('404 for unknown modules and versions, 400 for unescaped uppercase, 403 with empty body when filtered', async () => {
    for (const path of [
      '/example.com/nope/@v/list',
      '/example.com/nope/@latest',
      '/example.com/hello/@v/v9.9.9.info',
    ]) {
      expect((await get(path)).status, path).toBe(404);
    }
    expect((await get('/github.com/Acme/Tool/@v/list')).status).toBe(400);
    for (const path of ['/corp.example/team-a/secret/@v/list', '/corp.example/team-a/secret/@v/v0.1.0.zip']) {
      const res = await get(path);
      expect(res.status, path).toBe(403);
      expect(await res.text()).toBe('');
    }
  });

  test('records every request with its headers, proxies /sumdb and fails on demand', async () => {
    athens.clear();
    expect((await get('/sumdb/sum.golang.org/supported')).status).toBe(200);
    const lookup = await get('/sumdb/sum.golang.org/lookup/example.com/hello@v1.0.0');
    expect(await lookup.text()).toBe('canned sumdb answer\n');
    athens.failNext(502);
    expect((await get('/example.com/hello/@v/list')).status).toBe(502);
    expect((await get('/example.com/hello/@v/list')).status).toBe(200);
    expect(athens.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /athens/sumdb/sum.golang.org/supported',
      'GET /athens/sumdb/sum.golang.org/lookup/example.com/hello@v1.0.0',
      'GET /athens/example.com/hello/@v/list',
      'GET /athens/example.com/hello/@v/list',
    ]);
    expect(athens.requests[0]!.headers.authorization).toBe(basic('athens', 's3cret-athens'));
  });

  test('redirect mode answers zips with 303 to a signed storage URL that needs no credentials', async () => {
    athens.configure({ redirectZips: true });
    try {
      const res = await get('/example.com/hello/@v/v1.1.0.zip');
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location')!, athens.origin);
      const storage = await fetch(location);
      expect(storage.status).toBe(200);
      expect((await storage.arrayBuffer()).byteLength).toBe(
        (await stat(join(fixtures.root, 'example.com/hello/@v/v1.1.0.zip'))).size,
      );
      location.searchParams.set('signature', 'forged');
      expect((await fetch(location)).status).toBe(403);
    } finally {
      athens.configure({ redirectZips: false });
    }
  });

  test('the go command downloads through the emulator (plain http, following a 303 for the zip)', async () => {
    const open = await startAthensEmulator({ root: fixtures.root, redirectZips: true });
    try {
      const go = await goEnv(open.url);
      const result = await runGo(['mod', 'download', 'github.com/Acme/Tool@v1.0.0'], {
        env: go.env,
        cwd: go.home,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(open.requests.map((r) => r.url.replace(/\?.*/, ''))).toEqual([
        '/github.com/%21acme/%21tool/@v/v1.0.0.info',
        '/github.com/%21acme/%21tool/@v/v1.0.0.mod',
        '/github.com/%21acme/%21tool/@v/v1.0.0.zip',
        '/_storage/github.com/!acme/!tool/@v/v1.0.0.zip',
      ]);
    } finally {
      await open.close();
    }
  });

  test('hang mode holds requests open; close() still ends promptly and frees the port', async () => {
    const hanging = await startAthensEmulator({ root: fixtures.root, hang: true });
    const pending = fetch(`${hanging.url}/example.com/hello/@v/list`).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => hanging.requests.length, { timeout: 2_000 }).toBe(1);
    const started = Date.now();
    await hanging.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await pending).toBe('failed');
    await expect(fetch(`${hanging.url}/example.com/hello/@v/list`)).rejects.toThrow();
  });
});

describe('test PKI', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki(join(tmp, 'pki'));
  });

  /** Minimal static GOPROXY over https; requires `credentials` when given. */
  async function serveFolder(
    host: string,
    seen: string[],
    credentials?: string,
  ): Promise<{ server: Server; port: number }> {
    const server = createHttpsServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
      seen.push(req.headers.authorization ?? '');
      if (credentials !== undefined && req.headers.authorization !== credentials) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
        return;
      }
      const file = join(fixtures.root, decodeURIComponent(new URL(req.url ?? '/', 'https://x').pathname));
      const stream = createReadStream(file);
      stream.once('open', () => stream.pipe(res));
      stream.once('error', () => res.writeHead(404).end('not found\n'));
    });
    const port = await freePort(host);
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return { server, port };
  }

  test('go trusts the test CA via SSL_CERT_FILE and sends netrc credentials over https', async () => {
    const seen: string[] = [];
    const credentials = `Basic ${Buffer.from('alice:tok-123').toString('base64')}`;
    const { server, port } = await serveFolder('127.0.0.1', seen, credentials);
    try {
      const netrc = join(tmp, 'pki-netrc');
      await writeNetrc(
        netrc,
        netrcMachines(`https://127.0.0.1:${port}`, 'both').map((machine) => ({
          machine,
          login: 'alice',
          password: 'tok-123',
        })),
      );
      expect((await stat(netrc)).mode & 0o777).toBe(0o600);
      const go = await goEnv(`https://127.0.0.1:${port}`, { netrc, caCertPath: pki.caCertPath });
      const result = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], {
        env: go.env,
        cwd: go.home,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((h) => h === credentials)).toBe(true);

      const untrusted = await goEnv(`https://127.0.0.1:${port}`, { netrc });
      const refused = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], {
        env: untrusted.env,
        cwd: untrusted.home,
      });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('x509');
    } finally {
      server.close();
    }
  });

  test('the server certificate is valid for ::1 and localhost', async () => {
    const { server, port } = await serveFolder('::1', []);
    try {
      const go = await goEnv(`https://[::1]:${port}`, { caCertPath: pki.caCertPath });
      const result = await runGo(['mod', 'download', 'example.com/lib/v2@v2.0.0'], {
        env: go.env,
        cwd: go.home,
      });
      expect(result.code, result.stderr).toBe(0);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '::1',
            port,
            path: '/example.com/lib/v2/@v/list',
            ca: pki.caPem,
            servername: 'localhost',
            timeout: 5_000,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.once('error', reject).end();
      });
      expect(status).toBe(200);
    } finally {
      server.close();
    }
  });
});
