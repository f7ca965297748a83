/**
 * checksum/ against the go command's own numbers: for every fixture module
 * version (uppercase path, /v2, +incompatible without go.mod, a
 * pseudo-version, nested folders), modHash of the served .mod and zipHash
 * of the served .zip equal GoModSum and Sum of `go mod download -json`, run
 * by every go generation the machine has (current and 1.19) through a
 * file:// GOPROXY with GOSUMDB=off and its own GOPATH and module cache.
 * A few broken zips that both go generations refuse to download, zipHash
 * refuses too; and one known case the other way round, pinned.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modHash } from '../checksum/h1.ts';
import { zipHash } from '../checksum/zip-hash.ts';
import { isModgateError } from '../core/errors.ts';
import { escapeVersion } from '../core/gomod/module.ts';
import { moduleVersionDir, writeModuleVersion } from '../gateway/protocol/goproxy-folder.ts';
import { CLIENT_GOS, makeGoEnv, runGo } from '../harness/go.ts';
import { type FixtureSet, writeHashFixtureModules } from './support/modules.ts';

interface Downloaded {
  Path: string;
  Version: string;
  Sum?: string;
  GoModSum?: string;
  Error?: string;
}

let tmp: string;
let fixtures: FixtureSet;
/** modgate's hashes of every fixture version, by `path@version`. */
const ours = new Map<string, { sum: string; goModSum: string }>();

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-checksum-go-'));
  fixtures = await writeHashFixtureModules(join(tmp, 'goproxy'));
  for (const m of fixtures.modules) {
    for (const v of m.versions) {
      const base = join(moduleVersionDir(fixtures.root, m.path), escapeVersion(v.version));
      ours.set(`${m.path}@${v.version}`, {
        sum: await zipHash(`${base}.zip`, m.path, v.version),
        goModSum: modHash(await readFile(`${base}.mod`)),
      });
    }
  }
});

afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe('h1 hashes equal go mod download -json', () => {
  it('covers the cases that matter', () => {
    const all = [...ours.keys()];
    expect(all).toEqual(
      expect.arrayContaining([
        'github.com/Acme/Tool@v1.0.0',
        'example.com/lib/v2@v2.0.0',
        'example.com/old@v3.0.0+incompatible',
        'example.com/pseudo@v0.0.0-20240102030405-abcdefabcdef',
      ]),
    );
  });

  it.each(CLIENT_GOS.map((go) => [go.version, go] as const))('%s', async (_, go) => {
    const env = await makeGoEnv(join(tmp, go.version), { goproxy: fixtures.goproxy });
    const result = await runGo(['mod', 'download', '-json', ...ours.keys()], {
      env: env.env,
      cwd: env.home,
      go,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const reported = result.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((chunk) => JSON.parse(chunk) as Downloaded);
    expect(reported).toHaveLength(ours.size);
    for (const r of reported) {
      expect(r.Error).toBeUndefined();
      expect({ sum: r.Sum, goModSum: r.GoModSum }, `${r.Path}@${r.Version}`).toEqual(
        ours.get(`${r.Path}@${r.Version}`),
      );
    }
  });

  it('runs both go generations', () => {
    expect(CLIENT_GOS).toHaveLength(2);
    expect(CLIENT_GOS.map((g) => g.minor)).toContain(19);
  });
});

/** Broken versions: each written whole, then its zip changed as named. */
const BROKEN: {
  path: string;
  files: Record<string, string>;
  damage: (zip: Buffer) => Buffer;
  /** What go says. */
  goError: RegExp;
}[] = [
  {
    // The first central directory header's CRC-32 no longer matches the data.
    path: 'example.com/broken/crc',
    files: { 'a.go': 'package a\n' },
    damage: (zip) => {
      const at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 16;
      zip[at]! ^= 0xff;
      return zip;
    },
    goError: /^zip: checksum error$/,
  },
  {
    path: 'example.com/broken/case',
    files: { 'A.go': 'package a\n', 'a.go': 'package a\n' },
    damage: (z) => z,
    goError: /case-insensitive file name collision: "A.go" and "a.go"$/,
  },
  {
    path: 'example.com/broken/nested',
    files: { 'x/go.mod': 'module x\n' },
    damage: (z) => z,
    goError: /go.mod file not in module root directory$/,
  },
  {
    path: 'example.com/broken/truncated',
    files: { 'a.go': 'package a\n' },
    damage: (z) => z.subarray(0, -30),
    goError: /^zip: not a valid zip file$/,
  },
];

describe('broken zips', () => {
  it.each(CLIENT_GOS.map((go) => [go.version, go] as const))(
    'that %s refuses to download, zipHash refuses',
    async (_, go) => {
      const env = await makeGoEnv(join(tmp, `broken-${go.version}`), { goproxy: fixtures.goproxy });
      for (const b of BROKEN) {
        const written = await writeModuleVersion(fixtures.root, {
          path: b.path,
          version: 'v1.0.0',
          files: b.files,
        });
        await writeFile(written.zipPath, b.damage(await readFile(written.zipPath)));
        const result = await runGo(['mod', 'download', '-json', `${b.path}@v1.0.0`], {
          env: env.env,
          cwd: env.home,
          go,
        });
        expect(result.code, `${go.version} downloaded ${b.path}`).not.toBe(0);
        expect((JSON.parse(result.stdout) as Downloaded).Error).toMatch(b.goError);
        const refused = await zipHash(written.zipPath, b.path, 'v1.0.0').then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(isModgateError(refused, 'upstream.bad_response'), `${b.path}: ${String(refused)}`).toBe(true);
      }
    },
  );
});

describe('where zipHash is stricter than go', () => {
  // yauzl refuses a non-zero disk number in the end record, which archive/zip
  // ignores; Go's module zip writer never writes one. A known, accepted
  // difference (see YAUZL_STRICTER in checksum-zip-xmod.test.ts): pinned here
  // so that a change on either side is noticed.
  it.each(CLIENT_GOS.map((go) => [go.version, go] as const))(
    '%s downloads a zip whose end record names disk 1; zipHash refuses it',
    async (_, go) => {
      const path = `example.com/stricter/disk-${go.minor}`;
      const written = await writeModuleVersion(fixtures.root, {
        path,
        version: 'v1.0.0',
        files: { 'a.go': 'package a\n' },
      });
      const zip = await readFile(written.zipPath);
      zip.writeUInt16LE(1, zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 4);
      await writeFile(written.zipPath, zip);
      const env = await makeGoEnv(join(tmp, `stricter-${go.version}`), { goproxy: fixtures.goproxy });
      const result = await runGo(['mod', 'download', '-json', `${path}@v1.0.0`], {
        env: env.env,
        cwd: env.home,
        go,
      });
      expect(result.code, result.stdout).toBe(0);
      const refused = await zipHash(written.zipPath, path, 'v1.0.0').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isModgateError(refused, 'upstream.bad_response')).toBe(true);
    },
  );
});
