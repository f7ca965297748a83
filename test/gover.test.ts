/**
 * Go toolchain versions (core/gomod/gover.ts, core/gomod/toolchain.ts): the
 * tables of Go's own internal/gover and cmd/go/internal/gover tests (go 1.26),
 * properties of the order, and a differential test against the go command,
 * which sorts golang.org/toolchain's list by gover.Compare when it answers
 * `go list -m -versions toolchain`.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareGoVersions,
  fromToolchain,
  type GoVersion,
  goLang,
  isValidGoVersion,
  parseGoVersion,
} from '../core/gomod/gover.ts';
import { pickLatest } from '../core/gomod/latest.ts';
import * as semver from '../core/gomod/semver.ts';
import {
  compareToolchainVersions,
  parseToolchainVersion,
  TOOLCHAIN_MODULE,
} from '../core/gomod/toolchain.ts';
import { GO, makeGoEnv, runGo } from '../harness/go.ts';
import { toolchainVersion, writeToolchain } from './support/toolchain.ts';
import { goVersionArbitrary } from './support/version-arbitrary.ts';

describe('gover, as Go tests it (internal/gover/gover_test.go, cmd/go/internal/gover)', () => {
  it.each<[string, string, number]>([
    ['', '', 0],
    ['x', 'x', 0],
    ['', 'x', 0],
    ['1', '1.1', -1],
    ['1.5', '1.6', -1],
    ['1.5', '1.10', -1],
    ['1.6', '1.6.1', -1],
    ['1.19', '1.19.0', 0],
    ['1.19rc1', '1.19', -1],
    ['1.20', '1.20.0', 0],
    ['1.20rc1', '1.20', -1],
    ['1.21', '1.21.0', -1],
    ['1.21', '1.21rc1', -1],
    ['1.21rc1', '1.21.0', -1],
    ['1.6', '1.19', -1],
    ['1.19', '1.19.1', -1],
    ['1.19rc1', '1.19', -1],
    ['1.19rc1', '1.19.1', -1],
    ['1.19rc1', '1.19rc2', -1],
    ['1.19.0', '1.19.1', -1],
    ['1.19rc1', '1.19.0', -1],
    ['1.19alpha3', '1.19beta2', -1],
    ['1.19beta2', '1.19rc1', -1],
    ['1.1', '1.99999999999999998', -1],
    ['1.99999999999999998', '1.99999999999999999', -1],
  ])('Compare(%j, %j) = %i (and the reverse)', (x, y, want) => {
    expect(compareGoVersions(x, y)).toBe(want);
    expect(compareGoVersions(y, x)).toBe(-want || 0);
  });

  it.each<[string, GoVersion]>([
    ['1', { major: '1', minor: '0', patch: '0', kind: '', pre: '' }],
    ['1.2', { major: '1', minor: '2', patch: '0', kind: '', pre: '' }],
    ['1.2.3', { major: '1', minor: '2', patch: '3', kind: '', pre: '' }],
    ['1.2rc3', { major: '1', minor: '2', patch: '', kind: 'rc', pre: '3' }],
    ['1.20', { major: '1', minor: '20', patch: '0', kind: '', pre: '' }],
    ['1.21', { major: '1', minor: '21', patch: '', kind: '', pre: '' }],
    ['1.21rc3', { major: '1', minor: '21', patch: '', kind: 'rc', pre: '3' }],
    ['1.21.0', { major: '1', minor: '21', patch: '0', kind: '', pre: '' }],
    ['1.24', { major: '1', minor: '24', patch: '', kind: '', pre: '' }],
    ['1.24rc3', { major: '1', minor: '24', patch: '', kind: 'rc', pre: '3' }],
    ['1.24.0', { major: '1', minor: '24', patch: '0', kind: '', pre: '' }],
    ['1.999testmod', { major: '1', minor: '999', patch: '', kind: 'testmod', pre: '' }],
    ['1.99999999999999999', { major: '1', minor: '99999999999999999', patch: '', kind: '', pre: '' }],
  ])('Parse(%j)', (x, want) => {
    expect(parseGoVersion(x)).toEqual(want);
  });

  it.each([
    ['1.2rc3', '1.2'],
    ['1.2.3', '1.2'],
    ['1.2', '1.2'],
    ['1', '1'],
    ['1.999testmod', '1.999'],
  ])('Lang(%j) = %j', (x, want) => {
    expect(goLang(x)).toBe(want);
  });

  it.each<[string, boolean]>([
    ['1.2rc3', true],
    ['1.2.3', true],
    ['1.999testmod', true],
    ['1.600+auto', false],
    ['1.22', true],
    ['1.21.0', true],
    ['1.21rc2', true],
    ['1.21', true],
    ['1.20.0', true],
    ['1.20', true],
    ['1.19', true],
    ['1.3', true],
    ['1.2', true],
    ['1', true],
    // Beyond Go's table: leading zeros, pre-releases of patch releases, upper case.
    ['1.02', false],
    ['1.21.3rc1', false],
    ['1.21RC1', false],
    ['1.21rc01', false],
    ['', false],
  ])('IsValid(%j) = %j', (x, want) => {
    expect(isValidGoVersion(x)).toBe(want);
  });

  it.each([
    ['go1.2.3', '1.2.3'],
    ['1.2.3', ''],
    ['go1.2.3+bigcorp', ''],
    ['go1.2.3-bigcorp', '1.2.3'],
    ['go1.2.3-bigcorp more text', '1.2.3'],
    ['gccgo-go1.23rc4', ''],
    ['gccgo-go1.23rc4-bigdwarf', ''],
  ])('FromToolchain(%j) = %j', (name, want) => {
    expect(fromToolchain(name)).toBe(want);
  });
});

describe('golang.org/toolchain versions', () => {
  it.each([
    ['v0.0.1-go1.21rc2.linux-amd64', { go: '1.21rc2', platform: 'linux-amd64' }],
    ['v0.0.1-go1.21.0.linux-amd64', { go: '1.21.0', platform: 'linux-amd64' }],
    ['v0.0.1-go1.9.2.darwin-arm64', { go: '1.9.2', platform: 'darwin-arm64' }],
    ['v0.0.1-go1.21.0', undefined], // no platform
    ['v0.0.1-gox.linux-amd64', undefined], // not a Go version
    ['v0.0.1-go1.21.1-bigcorp.linux-amd64', { go: '1.21.1', platform: 'linux-amd64' }], // FromToolchain drops -suffix
    ['v1.0.0', undefined],
  ])('%s names %j', (version, want) => {
    expect(parseToolchainVersion(version)).toEqual(want);
  });

  const versions = ['go1.99.0', 'go1.21rc2', 'go1.21.0', 'go1.9.2', 'go1.21.1'].map((n) =>
    toolchainVersion(n, 'linux-amd64'),
  );

  it('sort by Go version: go1.9.2 < go1.21rc2 < go1.21.0 < go1.21.1 < go1.99.0, where semver puts go1.21rc2 last', () => {
    const goNames = (list: string[]) => list.map((v) => parseToolchainVersion(v)?.go);
    expect(goNames([...versions].sort(compareToolchainVersions))).toEqual([
      '1.9.2',
      '1.21rc2',
      '1.21.0',
      '1.21.1',
      '1.99.0',
    ]);
    expect(goNames(semver.sort([...versions]))).toEqual(['1.9.2', '1.21.0', '1.21.1', '1.99.0', '1.21rc2']);
  });

  it('versions without a valid Go version are equal to each other and below every valid one, as go sorts them', () => {
    // go list -m -versions toolchain printed go1.21.x go1.21RC1 go1.21.0rc1 … in this order: gover.Compare of "" and "".
    const invalid = ['go1.21.x', 'go1.21RC1', 'go1.21.0rc1'].map((n) => toolchainVersion(n, 'linux-amd64'));
    for (const a of invalid) for (const b of invalid) expect(compareToolchainVersions(a, b)).toBe(0);
    expect(compareToolchainVersions(invalid[0]!, toolchainVersion('go1', 'linux-amd64'))).toBe(-1);
    expect(compareToolchainVersions('v1.0.0', invalid[1]!)).toBe(0);
  });

  it('@latest of golang.org/toolchain is the newest Go release; a release candidate only when there is nothing else', () => {
    const rc = toolchainVersion('go1.100rc1', 'linux-amd64');
    expect(pickLatest([...versions, rc], TOOLCHAIN_MODULE)).toBe(toolchainVersion('go1.99.0', 'linux-amd64'));
    expect(pickLatest([rc, toolchainVersion('go1.21rc2', 'linux-amd64')], TOOLCHAIN_MODULE)).toBe(rc);
    // Other modules keep semver's answer.
    expect(pickLatest([...versions, rc])).toBe(toolchainVersion('go1.21rc2', 'linux-amd64'));
  });
});

describe('properties of the Go order', () => {
  it('is a total preorder: antisymmetric and transitive', () => {
    fc.assert(
      fc.property(goVersionArbitrary, goVersionArbitrary, goVersionArbitrary, (a, b, c) => {
        expect(compareGoVersions(a, b)).toBe(-compareGoVersions(b, a) || 0);
        if (compareGoVersions(a, b) <= 0 && compareGoVersions(b, c) <= 0) {
          expect(compareGoVersions(a, c)).toBeLessThanOrEqual(0);
        }
      }),
    );
  });
});

/** A release above every generated version. */
const NEWEST = '9.0.0';

describe(`the order ${GO.version} gives golang.org/toolchain's list`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-gover-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('go list -m -versions toolchain lists them in the order of compareToolchainVersions', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(goVersionArbitrary, { minLength: 2, maxLength: 25 }), async (names) => {
        const root = join(dir, `run-${run++}`);
        // go loads the retractions of the newest listed version, which must be a release
        // (not `2.21`, a language version), for linux-amd64 (modfetch/toolchain.go goToDL).
        for (const name of [...names, NEWEST])
          await writeToolchain(join(root, 'goproxy'), `go${name}`, 'linux-amd64');
        await mkdir(join(root, 'work'), { recursive: true });
        const env = await makeGoEnv(root, { goproxy: pathToFileURL(join(root, 'goproxy')).href });
        const r = await runGo(['list', '-m', '-versions', 'toolchain'], {
          env: env.env,
          cwd: join(root, 'work'),
        });
        const listed = r.stdout
          .trim()
          .split(' ')
          .slice(1)
          .map((v) => v.slice('go'.length));
        expect(new Set(listed)).toEqual(new Set([...names, NEWEST, GO.version.slice('go'.length)]));
        const asVersions = listed.map((name) => toolchainVersion(`go${name}`, 'linux-amd64'));
        const outOfOrder = listed.filter(
          (_, i) => i > 0 && compareToolchainVersions(asVersions[i - 1]!, asVersions[i]!) > 0,
        );
        expect({ listed, outOfOrder }).toEqual({ listed, outOfOrder: [] });
      }),
      { numRuns: 6 },
    );
  });
});
