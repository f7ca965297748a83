/**
 * `npm start` on a fresh machine: embedded defaults, the banner's lines pasted
 * as a user would, and the real go command fetching a sample module.
 * Also: the users-file directory in front of a `dir` upstream.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { initModule, listModCache, makeGoEnv, runGo, writeNetrc } from '../harness/go.ts';
import { type Stack, startStack } from './support/stack.ts';

/** How long the server may take to print its banner (ms): first start makes a certificate and an argon2 hash. */
const BANNER_TIMEOUT_MS = 30_000;

describe('modgate serve on embedded defaults', () => {
  let dir: string;
  let child: ReturnType<typeof spawn> | undefined;
  let banner = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-embedded-'));
    child = spawn(
      process.execPath,
      ['bin/modgate.ts', 'serve', '--port', '0', '--state-dir', join(dir, 'state')],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    banner = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no banner in time: ${out}`)), BANNER_TIMEOUT_MS);
      child?.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('go mod download')) {
          clearTimeout(timer);
          resolve(out);
        }
      });
      child?.on('exit', (code) => reject(new Error(`modgate exited with ${code}`)));
    });
  });
  afterAll(async () => {
    child?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints lines that make go mod download work as pasted', async () => {
    const value = (name: string) => banner.match(new RegExp(`export ${name}=(\\S+)`))?.[1];
    // Both lines, as pasted: go ≤1.23 reads the host one, go ≥1.24 the host:port one.
    const netrcLines = [...banner.matchAll(/echo '(machine (\S+) login (\S+) password (\S+))'/g)];
    expect(value('GOPROXY')).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const port = new URL(value('GOPROXY')!).port;
    expect(netrcLines.map((m) => m[2])).toEqual(['127.0.0.1', `127.0.0.1:${port}`]);
    const env = await makeGoEnv(join(dir, 'go'), {
      goproxy: value('GOPROXY')!,
      caCertPath: value('SSL_CERT_FILE')!,
    });
    await writeNetrc(
      env.netrc,
      netrcLines.map((m) => ({ machine: m[2]!, login: m[3]!, password: m[4]! })),
    );
    const work = join(dir, 'work');
    await initModule(work, 'example.com/app');
    const result = await runGo(['get', 'example.com/hello@latest', 'github.com/Acme/Tool@latest'], {
      env: env.env,
      cwd: work,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(work, 'go.mod'), 'utf8')).toContain('example.com/hello v1.1.0');
    const audit = await readFile(join(dir, 'state', 'audit.log'), 'utf8');
    expect(audit).toContain('"user":{"name":"demo"');
  });
});

describe('users-file directory in front of a dir upstream', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ directory: 'file', upstream: 'dir' });
  });
  afterAll(async () => stack?.close());

  it('go mod download and go list -m -versions work, and the cache holds exactly the fixture files', async () => {
    const env = await stack.goEnv('file', { login: USERS.bob.name, password: USERS.bob.password });
    const wanted = stack.fixtures.modules.flatMap((m) => m.versions.map((v) => ({ m, v })));
    const download = await runGo(['mod', 'download', ...wanted.map(({ m, v }) => `${m.path}@${v.version}`)], {
      env: env.env,
      cwd: stack.dir,
    });
    expect(download.code, download.stderr).toBe(0);
    expect(await listModCache(env.gomodcache)).toEqual(
      [...new Set(wanted.flatMap(({ v }) => v.cacheFiles))].sort(),
    );
    const work = join(env.home, 'work');
    await initModule(work, 'example.com/app');
    const list = await runGo(['list', '-m', '-versions', 'github.com/Acme/Tool'], {
      env: env.env,
      cwd: work,
    });
    expect(list.stdout.trim()).toBe('github.com/Acme/Tool v1.0.0');
  });

  it('a wrong password for a users-file user fails go with the one-line reason', async () => {
    const env = await stack.goEnv('file-wrong', { login: USERS.bob.name, password: 'nope' });
    const result = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], {
      env: env.env,
      cwd: stack.dir,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('server response: modgate: invalid username or password');
  });
});
