/**
 * Unit tables for core/gomod, ported from the x/mod (v0.7.0) and Go 1.19
 * `path` tests, plus property tests: nothing throws anything but ModgateError,
 * escaping round-trips, and the semver functions and matchers never throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import {
  canonicalVersion,
  checkFilePath,
  checkImportPath,
  checkPath,
  escapePath,
  escapeVersion,
  goQuote,
  matchPrefixPatterns,
  splitPathVersion,
  unescapePath,
  unescapeVersion,
} from '../core/gomod/module.ts';
import { isValidPattern, pathMatch } from '../core/gomod/path-match.ts';
import * as semver from '../core/gomod/semver.ts';

/** Runs `fn`; returns undefined on success, the ModgateError message on failure, and rethrows anything else. */
function failure(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (isModgateError(err, 'request.invalid_path')) return err.message;
    throw err;
  }
}

/** x/mod module_test.go `checkPathTests`: path, CheckPath ok, CheckImportPath ok, CheckFilePath ok. */
const CHECK_PATH_TESTS: [string, boolean, boolean, boolean][] = [
  ['x.y/z', true, true, true],
  ['x.y', true, true, true],
  ['', false, false, false],
  ['x.y/\ud800z', false, false, false],
  ['/x.y/z', false, false, false],
  ['x./z', false, false, false],
  ['.x/z', false, true, true],
  ['-x/z', false, false, true],
  ['x..y/z', true, true, true],
  ['x.y/z/../../w', false, false, false],
  ['x.y//z', false, false, false],
  ['x.y/z//w', false, false, false],
  ['x.y/z/', false, false, false],
  ['x.y/z/v0', false, true, true],
  ['x.y/z/v1', false, true, true],
  ['x.y/z/v2', true, true, true],
  ['x.y/z/v2.0', false, true, true],
  ['X.y/z', false, true, true],
  ['!x.y/z', false, false, true],
  ['_x.y/z', false, true, true],
  ['x.y!/z', false, false, true],
  ['x.y"/z', false, false, false],
  ['x.y#/z', false, false, true],
  ['x.y$/z', false, false, true],
  ['x.y%/z', false, false, true],
  ['x.y&/z', false, false, true],
  ["x.y'/z", false, false, false],
  ['x.y(/z', false, false, true],
  ['x.y)/z', false, false, true],
  ['x.y*/z', false, false, false],
  ['x.y+/z', false, true, true],
  ['x.y,/z', false, false, true],
  ['x.y-/z', true, true, true],
  ['x.y./zt', false, false, false],
  ['x.y:/z', false, false, false],
  ['x.y;/z', false, false, false],
  ['x.y</z', false, false, false],
  ['x.y=/z', false, false, true],
  ['x.y>/z', false, false, false],
  ['x.y?/z', false, false, false],
  ['x.y@/z', false, false, true],
  ['x.y[/z', false, false, true],
  ['x.y\\/z', false, false, false],
  ['x.y]/z', false, false, true],
  ['x.y^/z', false, false, true],
  ['x.y_/z', false, true, true],
  ['x.y`/z', false, false, false],
  ['x.y{/z', false, false, true],
  ['x.y}/z', false, false, true],
  ['x.y~/z', false, true, true],
  ['x.y/z!', false, false, true],
  ['x.y/z"', false, false, false],
  ['x.y/z#', false, false, true],
  ['x.y/z$', false, false, true],
  ['x.y/z%', false, false, true],
  ['x.y/z&', false, false, true],
  ["x.y/z'", false, false, false],
  ['x.y/z(', false, false, true],
  ['x.y/z)', false, false, true],
  ['x.y/z*', false, false, false],
  ['x.y/z++', false, true, true],
  ['x.y/z,', false, false, true],
  ['x.y/z-', true, true, true],
  ['x.y/z.t', true, true, true],
  ['x.y/z/t', true, true, true],
  ['x.y/z:', false, false, false],
  ['x.y/z;', false, false, false],
  ['x.y/z<', false, false, false],
  ['x.y/z=', false, false, true],
  ['x.y/z>', false, false, false],
  ['x.y/z?', false, false, false],
  ['x.y/z@', false, false, true],
  ['x.y/z[', false, false, true],
  ['x.y/z]', false, false, true],
  ['x.y/z^', false, false, true],
  ['x.y/z_', true, true, true],
  ['x.y/z`', false, false, false],
  ['x.y/z{', false, false, true],
  ['x.y/z}', false, false, true],
  ['x.y/z~', true, true, true],
  ['x.y/x.foo', true, true, true],
  ['x.y/aux.foo', false, false, false],
  ['x.y/prn', false, false, false],
  ['x.y/prn2', true, true, true],
  ['x.y/com', true, true, true],
  ['x.y/com1', false, false, false],
  ['x.y/com1.txt', false, false, false],
  ['x.y/calm1', true, true, true],
  ['x.y/z~', true, true, true],
  ['x.y/z~0', false, false, true],
  ['x.y/z~09', false, false, true],
  ['x.y/z09', true, true, true],
  ['x.y/z09~', true, true, true],
  ['x.y/z09~09z', true, true, true],
  ['x.y/z09~09z~09', false, false, true],
  ['github.com/!123/logrus', false, false, true],
  ['github.com/user/unicode/испытание', false, false, true],
  ['../x', false, false, false],
  ['./y', false, false, false],
  ['x:y', false, false, false],
  ['\\temp\\foo', false, false, false],
  ['.gitignore', false, true, true],
  ['.github/ISSUE_TEMPLATE', false, true, true],
  ['x☺y', false, false, false],
];

describe('checkPath / checkImportPath / checkFilePath (x/mod checkPathTests)', () => {
  it.each(CHECK_PATH_TESTS)('%j: module %s, import %s, file %s', (path, ok, importOK, fileOK) => {
    expect(failure(() => checkPath(path)) === undefined).toBe(ok);
    expect(failure(() => checkImportPath(path)) === undefined).toBe(importOK);
    expect(failure(() => checkFilePath(path)) === undefined).toBe(fileOK);
    const split = splitPathVersion(path);
    expect(split.prefix + split.pathMajor).toBe(path);
    if (!ok) {
      expect(failure(() => escapePath(path))).toBeDefined();
      expect(failure(() => unescapePath(path))).toBeDefined();
    }
  });
});

describe('module path error messages (x/mod wording)', () => {
  it.each([
    ['foo/..', 'malformed module path "foo/..": invalid path element ".."'],
    ['foo/bar', 'malformed module path "foo/bar": missing dot in first path element'],
    ['x.y/z/../w', 'malformed module path "x.y/z/../w": invalid path element ".."'],
    ['x.y//z', 'malformed module path "x.y//z": double slash'],
    ['X.y/z', 'malformed module path "X.y/z": invalid char \'X\' in first path element'],
    ['x.y/z/v1', 'malformed module path "x.y/z/v1": invalid version'],
    ['x.y/a~1', 'malformed module path "x.y/a~1": trailing tilde and digits in path element'],
    [
      'x.y/aux.foo',
      'malformed module path "x.y/aux.foo": "aux" disallowed as path element component on Windows',
    ],
    ['x.y/a\x00b', 'malformed module path "x.y/a\\x00b": invalid char \'\\x00\''],
    ['', 'malformed module path "": empty string'],
  ])('checkPath(%j)', (path, message) => {
    expect(failure(() => checkPath(path))).toBe(message);
  });
});

describe('splitPathVersion (x/mod splitPathVersionTests)', () => {
  it.each([
    ['x.y/z', ''],
    ['x.y/z', '/v2'],
    ['x.y/z', '/v3'],
    ['x.y/v', ''],
    ['gopkg.in/yaml', '.v0'],
    ['gopkg.in/yaml', '.v1'],
    ['gopkg.in/yaml', '.v2'],
    ['gopkg.in/yaml', '.v3'],
    ['gopkg.in/yaml', '.v3-unstable'],
  ])('%s + %s', (prefix, pathMajor) => {
    expect(splitPathVersion(prefix + pathMajor)).toEqual({ prefix, pathMajor, ok: true });
  });
  it.each(['x.y/z/v1', 'x.y/z/v0', 'x.y/z/v02', 'x.y/z/v2.0', 'gopkg.in/yaml', 'gopkg.in/yaml.v01'])(
    '%s is not ok',
    (path) => {
      expect(splitPathVersion(path).ok).toBe(false);
    },
  );
});

describe('escapePath / unescapePath (x/mod escapeTests, badUnescape)', () => {
  it.each([
    [
      'ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789',
      'ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789',
    ],
    ['github.com/GoogleCloudPlatform/omega', 'github.com/!google!cloud!platform/omega'],
    ['github.com/Azure/azure-sdk-for-go', 'github.com/!azure/azure-sdk-for-go'],
  ])('%s <-> %s', (path, escaped) => {
    expect(escapePath(path)).toBe(escaped);
    expect(unescapePath(escaped)).toBe(path);
  });
  it.each([
    ['github.com/GoogleCloudPlatform/omega', "unescaped uppercase 'G'"],
    ['github.com/!google!cloud!platform!/omega', '"!" followed by \'/\', not a lowercase letter'],
    ['github.com/!0google!cloud!platform/omega', '"!" followed by \'0\', not a lowercase letter'],
    ['github.com/!_google!cloud!platform/omega', '"!" followed by \'_\', not a lowercase letter'],
    ['github.com/!!google!cloud!platform/omega', '"!" followed by \'!\', not a lowercase letter'],
    ['github.com/x!', 'trailing "!"'],
    ['github.com/\u00e9', "non-ASCII character '\u00e9'"],
    ['', 'malformed module path "": empty string'],
  ])('unescapePath(%j) fails: %s', (escaped, reason) => {
    expect(failure(() => unescapePath(escaped))).toBe(
      `invalid escaped module path ${goQuote(escaped)}: ${reason}`,
    );
  });
});

describe('escapeVersion / unescapeVersion', () => {
  it.each([
    ['v1.0.0', 'v1.0.0'],
    ['v1.0.0-RC1', 'v1.0.0-!r!c1'],
    ['master', 'master'],
    ['Release-Branch', '!release-!branch'],
    ['v3.0.0+incompatible', 'v3.0.0+incompatible'],
    ['a b%c', 'a b%c'],
  ])('%s <-> %s', (v, escaped) => {
    expect(escapeVersion(v)).toBe(escaped);
    expect(unescapeVersion(escaped)).toBe(v);
  });
  it.each(['', 'v1.0.0!', '!', '..', 'v1/2', 'v1.', 'con', 'a*b', 'a"b', 'a:b', 'v\u00e9', 'a\x00'])(
    'escapeVersion(%j) fails',
    (v) => {
      expect(failure(() => escapeVersion(v))).toBe(
        `version ${goQuote(v)} invalid: disallowed version string`,
      );
    },
  );
  it.each(['', 'v1.0.0!', '!A', '!!', 'V1', 'v1.0.0-!', 'nul', '.', 'v\u00e9'])(
    'unescapeVersion(%j) fails',
    (v) => {
      expect(failure(() => unescapeVersion(v))).toMatch(/^invalid escaped version /);
    },
  );
});

describe('matchPrefixPatterns (x/mod TestMatchPrefixPatterns)', () => {
  it.each([
    ['', 'rsc.io/quote', false],
    ['/', 'rsc.io/quote', false],
    ['*/quote', 'rsc.io/quote', true],
    ['*/quo', 'rsc.io/quote', false],
    ['*/quo??', 'rsc.io/quote', true],
    ['*/quo*', 'rsc.io/quote', true],
    ['*quo*', 'rsc.io/quote', false],
    ['rsc.io', 'rsc.io/quote', true],
    ['*.io', 'rsc.io/quote', true],
    ['rsc.io/', 'rsc.io/quote', true],
    ['rsc', 'rsc.io/quote', false],
    ['rsc*', 'rsc.io/quote', true],
    ['rsc.io', 'rsc.io/quote/v3', true],
    ['*/quote', 'rsc.io/quote/v3', true],
    ['*/quote/', 'rsc.io/quote/v3', true],
    ['*/quote/*', 'rsc.io/quote/v3', true],
    ['*/quote/*/', 'rsc.io/quote/v3', true],
    ['*/v3', 'rsc.io/quote/v3', false],
    ['*/*/v3', 'rsc.io/quote/v3', true],
    ['*/*/*', 'rsc.io/quote/v3', true],
    ['*/*/*/', 'rsc.io/quote/v3', true],
    ['*/*/*', 'rsc.io/quote', false],
    ['*/*/*/', 'rsc.io/quote', false],
    ['*/*/*,,', 'rsc.io/quote', false],
    ['*/*/*,,*/quote', 'rsc.io/quote', true],
    [',,*/quote', 'rsc.io/quote', true],
    ['github.com/acme', 'github.com/acme/x/v2', true],
    ['[,github.com/acme', 'github.com/acme/x', true],
    ['github.com/[', 'github.com/[', false],
  ])('(%j, %j) = %s', (globs, target, want) => {
    expect(matchPrefixPatterns(globs, target)).toBe(want);
  });
});

/** Go path/match_test.go `matchTests`: pattern, name, matched, ErrBadPattern. */
const MATCH_TESTS: [string, string, boolean, boolean][] = [
  ['abc', 'abc', true, false],
  ['*', 'abc', true, false],
  ['*c', 'abc', true, false],
  ['a*', 'a', true, false],
  ['a*', 'abc', true, false],
  ['a*', 'ab/c', false, false],
  ['a*/b', 'abc/b', true, false],
  ['a*/b', 'a/c/b', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true, false],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false, false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false, false],
  ['a*b?c*x', 'abxbbxdbxebxczzx', true, false],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false, false],
  ['ab[c]', 'abc', true, false],
  ['ab[b-d]', 'abc', true, false],
  ['ab[e-g]', 'abc', false, false],
  ['ab[^c]', 'abc', false, false],
  ['ab[^b-d]', 'abc', false, false],
  ['ab[^e-g]', 'abc', true, false],
  ['a\\*b', 'a*b', true, false],
  ['a\\*b', 'ab', false, false],
  ['a?b', 'a☺b', true, false],
  ['a[^a]b', 'a☺b', true, false],
  ['a???b', 'a☺b', false, false],
  ['a[^a][^a][^a]b', 'a☺b', false, false],
  ['[a-ζ]*', 'α', true, false],
  ['*[a-ζ]', 'A', false, false],
  ['a?b', 'a/b', false, false],
  ['a*b', 'a/b', false, false],
  ['[\\]a]', ']', true, false],
  ['[\\-]', '-', true, false],
  ['[x\\-]', 'x', true, false],
  ['[x\\-]', '-', true, false],
  ['[x\\-]', 'z', false, false],
  ['[\\-x]', 'x', true, false],
  ['[\\-x]', '-', true, false],
  ['[\\-x]', 'a', false, false],
  ['[]a]', ']', false, true],
  ['[-]', '-', false, true],
  ['[x-]', 'x', false, true],
  ['[x-]', '-', false, true],
  ['[x-]', 'z', false, true],
  ['[-x]', 'x', false, true],
  ['[-x]', '-', false, true],
  ['[-x]', 'a', false, true],
  ['[a-b-c]', 'a', false, true],
  ['[', 'a', false, true],
  ['[^', 'a', false, true],
  ['[^bc', 'a', false, true],
  ['a[', 'a', false, true],
  ['a[', 'ab', false, true],
  ['a[', 'x', false, true],
  ['a/b[', 'x', false, true],
  ['*x', 'xxx', true, false],
];

describe('pathMatch (Go path.Match matchTests)', () => {
  it.each(MATCH_TESTS)('Match(%j, %j) = %s, bad pattern %s', (pattern, name, matched, badPattern) => {
    expect(pathMatch(pattern, name)).toEqual({ matched, badPattern });
  });
  it('isValidPattern', () => {
    expect(isValidPattern('github.com/*/x')).toBe(true);
    expect(isValidPattern('github.com/[')).toBe(false);
    expect(isValidPattern('a\\')).toBe(false);
  });
});

/** x/mod semver_test.go `tests`, in increasing order: input, Canonical (empty = invalid). */
const SEMVER_TESTS: [string, string][] = [
  ['bad', ''],
  ['v1-alpha.beta.gamma', ''],
  ['v1-pre', ''],
  ['v1+meta', ''],
  ['v1-pre+meta', ''],
  ['v1.2-pre', ''],
  ['v1.2+meta', ''],
  ['v1.2-pre+meta', ''],
  ['v1.0.0-alpha', 'v1.0.0-alpha'],
  ['v1.0.0-alpha.1', 'v1.0.0-alpha.1'],
  ['v1.0.0-alpha.beta', 'v1.0.0-alpha.beta'],
  ['v1.0.0-beta', 'v1.0.0-beta'],
  ['v1.0.0-beta.2', 'v1.0.0-beta.2'],
  ['v1.0.0-beta.11', 'v1.0.0-beta.11'],
  ['v1.0.0-rc.1', 'v1.0.0-rc.1'],
  ['v1', 'v1.0.0'],
  ['v1.0', 'v1.0.0'],
  ['v1.0.0', 'v1.0.0'],
  ['v1.2', 'v1.2.0'],
  ['v1.2.0', 'v1.2.0'],
  ['v1.2.3-456', 'v1.2.3-456'],
  ['v1.2.3-456.789', 'v1.2.3-456.789'],
  ['v1.2.3-456-789', 'v1.2.3-456-789'],
  ['v1.2.3-456a', 'v1.2.3-456a'],
  ['v1.2.3-pre', 'v1.2.3-pre'],
  ['v1.2.3-pre+meta', 'v1.2.3-pre'],
  ['v1.2.3-pre.1', 'v1.2.3-pre.1'],
  ['v1.2.3-zzz', 'v1.2.3-zzz'],
  ['v1.2.3', 'v1.2.3'],
  ['v1.2.3+meta', 'v1.2.3'],
  ['v1.2.3+meta-pre', 'v1.2.3'],
  ['v1.2.3+meta-pre.sha.256a', 'v1.2.3'],
];

describe('semver (x/mod semver_test.go)', () => {
  it('isValid and canonical', () => {
    for (const [v, want] of SEMVER_TESTS) {
      expect(semver.isValid(v), v).toBe(want !== '');
      expect(semver.canonical(v), v).toBe(want);
    }
  });
  it('compare and max follow the table order', () => {
    SEMVER_TESTS.forEach(([vi, ci], i) => {
      SEMVER_TESTS.forEach(([vj, cj], j) => {
        const want = ci === cj ? 0 : i < j ? -1 : 1;
        expect(semver.compare(vi, vj), `${vi} vs ${vj}`).toBe(want);
        expect(semver.max(vi, vj)).toBe(i < j ? cj : ci);
      });
    });
  });
  it('sort', () => {
    const shuffled = SEMVER_TESTS.map(([v]) => v).reverse();
    const sorted = semver.sort(shuffled);
    for (let k = 1; k < sorted.length; k++) {
      const c = semver.compare(sorted[k - 1]!, sorted[k]!);
      expect(c < 0 || (c === 0 && sorted[k - 1]! <= sorted[k]!)).toBe(true);
    }
  });
  it.each([
    ['v2.1.0', 'v2', 'v2.1', '', ''],
    ['v2', 'v2', 'v2.0', '', ''],
    ['v2.1.0-pre+meta', 'v2', 'v2.1', '-pre', '+meta'],
    ['v1.0.0+incompatible', 'v1', 'v1.0', '', '+incompatible'],
    ['v1.2.3.4', '', '', '', ''],
  ])('%s: major %j, majorMinor %j, prerelease %j, build %j', (v, major, majorMinor, prerelease, build) => {
    expect([semver.major(v), semver.majorMinor(v), semver.prerelease(v), semver.build(v)]).toEqual([
      major,
      majorMinor,
      prerelease,
      build,
    ]);
  });
  it.each([
    ['v0.0.0-20060102150405-hash', true],
    ['v1.0.0-20060102150405-hash', true],
    ['v0.0.1-0.20060102150405-hash', true],
    ['v1.2.100000000000000000-0.20060102150405-hash', true],
    ['v1.2.3-pre.0.20060102150405-hash', true],
    ['v0.0.0--.0.20060102150405-hash', true],
    ['v1.0.1-0.20060102150405-hash+metadata', true],
    ['v2.0.1-0.20060102150405-hash+incompatible', true],
    ['v2.3.0-pre.0.20060102150405-hash+incompatible', true],
    ['v0.0.0', false],
    ['v1.2.3-pre', false],
    ['v1.0.0-2006010215040-hash', false],
    ['v1.0.0-20060102150405', false],
  ])('isPseudoVersion(%j) = %s (x/mod pseudoTests)', (v, want) => {
    expect(semver.isPseudoVersion(v)).toBe(want);
  });
  it('canonicalVersion keeps +incompatible', () => {
    expect(canonicalVersion('v2.0+incompatible')).toBe('');
    expect(canonicalVersion('v2.0.0+incompatible')).toBe('v2.0.0+incompatible');
    expect(canonicalVersion('v2.0.0+meta')).toBe('v2.0.0');
  });
});

/** Strings of any UTF-16 code units (lone surrogates included) and strings near the interesting alphabet. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(...'aZ09.-_~/!@+%*?[]^\\,:v'.split(''), '\u00e9', '\ud800', '\u0000', 'gopkg.in/'),
    maxLength: 30,
  }),
);

/** A valid module path: a domain, then elements of module path characters. */
const validModulePath = fc
  .tuple(
    fc.array(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?$/), { minLength: 2, maxLength: 3 }),
    fc.array(fc.stringMatching(/^[A-Za-z0-9_-]([A-Za-z0-9._~-]{0,6}[A-Za-z0-9_-])?$/), { maxLength: 4 }),
  )
  .map(([host, elems]) => [host.join('.'), ...elems].join('/'))
  .filter((p) => failure(() => checkPath(p)) === undefined);

describe('properties', () => {
  const options = { numRuns: 2000 };
  it('module functions throw nothing but ModgateError(request.invalid_path)', () => {
    const fns = [
      checkPath,
      checkImportPath,
      checkFilePath,
      escapePath,
      unescapePath,
      escapeVersion,
      unescapeVersion,
    ];
    fc.assert(
      fc.property(anyString, (s) => {
        for (const fn of fns) failure(() => fn(s));
        splitPathVersion(s);
        canonicalVersion(s);
      }),
      options,
    );
  });
  it('semver functions never throw', () => {
    fc.assert(
      fc.property(anyString, anyString, (v, w) => {
        semver.isValid(v);
        semver.canonical(v);
        semver.major(v);
        semver.majorMinor(v);
        semver.prerelease(v);
        semver.build(v);
        semver.isPseudoVersion(v);
        expect(semver.compare(v, w) + semver.compare(w, v)).toBe(0);
        semver.max(v, w);
        semver.sort([v, w, v]);
      }),
      options,
    );
  });
  it('matchPrefixPatterns and pathMatch never throw', () => {
    fc.assert(
      fc.property(anyString, anyString, (glob, target) => {
        expect(typeof matchPrefixPatterns(glob, target)).toBe('boolean');
        const r = pathMatch(glob, target);
        expect(r.matched && r.badPattern).toBe(false);
      }),
      options,
    );
  });
  it('escapePath / unescapePath round-trip on valid paths', () => {
    fc.assert(
      fc.property(validModulePath, (path) => {
        const escaped = escapePath(path);
        expect(escaped).not.toMatch(/[A-Z]/);
        expect(unescapePath(escaped)).toBe(path);
        expect(escapePath(unescapePath(escaped))).toBe(escaped);
      }),
      options,
    );
  });
  it('a module path matches itself and every prefix of itself as a pattern', () => {
    fc.assert(
      fc.property(validModulePath, fc.nat(), (path, n) => {
        const elems = path.split('/');
        const prefix = elems.slice(0, 1 + (n % elems.length)).join('/');
        expect(matchPrefixPatterns(prefix, path)).toBe(true);
      }),
      options,
    );
  });
});
