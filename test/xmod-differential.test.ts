/**
 * Differential test: core/gomod against Go's own golang.org/x/mod (and Go's
 * path.Match and x/mod/sumdb/tlog.ParseTilePath) on a few thousand generated
 * inputs, all asked of one oracle process. The port must agree on ok/error
 * and on every returned value; error text is not compared, except for
 * CheckPath-family errors, which must read exactly as x/mod's.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import * as mod from '../core/gomod/module.ts';
import { pathMatch } from '../core/gomod/path-match.ts';
import * as semver from '../core/gomod/semver.ts';
import { isTilePath } from '../gateway/protocol/goproxy-path.ts';
import { versionArbitrary } from './support/version-arbitrary.ts';
import {
  type OracleCase,
  type OracleOp,
  type OracleResult,
  startXmodOracle,
  type XmodOracle,
} from './support/xmod-oracle.ts';

/** Fixed seed so a failure reproduces. */
const SEED = 20240611;
/** Samples per generator. */
const SAMPLES = 600;

/** Snippets that exercise the rules: case, escapes, dots, dashes, tildes, Windows names, unicode, glob syntax. */
const TOKENS = [
  'A',
  'Z',
  'a',
  'z',
  '0',
  '9',
  '!',
  '!a',
  '!A',
  '!!',
  '.',
  '..',
  '-',
  '_',
  '~',
  '~1',
  '~12',
  '/',
  '//',
  '@',
  '+',
  '%',
  '#',
  'é',
  'K',
  'ß',
  ' ',
  '\u0000',
  '\t',
  'CON',
  'aux',
  'nul.txt',
  'Com1',
  'lpt9',
  '.v0',
  '/v1',
  '/v01',
  '/v2.0',
  '/v2',
  '.v2',
  'gopkg.in/',
  '-unstable',
  'v',
  '*',
  '?',
  '[',
  ']',
  '[a-z]',
  '[^x]',
  '\\',
  ',',
  ':',
  '"',
  '<',
];

/** Applies 0-3 random edits (insert a token, delete, upper-case or replace a character) to a string. */
function mutated(base: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const edit = fc.tuple(
    fc.nat(),
    fc.constantFrom(...TOKENS),
    fc.constantFrom('insert', 'delete', 'upper', 'replace'),
  );
  return fc.tuple(base, fc.array(edit, { maxLength: 3 })).map(([s, edits]) => {
    let out = s;
    for (const [pos, token, op] of edits) {
      const i = out.length === 0 ? 0 : pos % out.length;
      if (op === 'insert') out = out.slice(0, i) + token + out.slice(i);
      else if (op === 'delete') out = out.slice(0, i) + out.slice(i + 1);
      else if (op === 'upper') out = out.slice(0, i) + out.slice(i, i + 1).toUpperCase() + out.slice(i + 1);
      else out = out.slice(0, i) + token + out.slice(i + 1);
    }
    return out;
  });
}

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,5}[a-z0-9])?$/);
const elem = fc.stringMatching(/^[A-Za-z0-9_~-]([A-Za-z0-9._~-]{0,7}[A-Za-z0-9_~-])?$/);
const modulePath = fc.oneof(
  fc
    .tuple(
      fc.array(label, { minLength: 1, maxLength: 3 }),
      fc.constantFrom('com', 'org', 'io', 'corp'),
      fc.array(elem, { maxLength: 4 }),
      fc.constantFrom('', '', '/v2', '/v3', '/v10', '/v0', '/v1', '/v01', '/v2.1'),
    )
    .map(([host, tld, elems, major]) => [[...host, tld].join('.'), ...elems].join('/') + major),
  fc
    .tuple(fc.option(label), label, fc.constantFrom('.v0', '.v1', '.v2', '.v10', '.v01', '', '.v3-unstable'))
    .map(([user, name, major]) => ['gopkg.in', ...(user === null ? [] : [user]), name + major].join('/')),
);
const escapedPath = modulePath.map((p) => p.replace(/[A-Z]/g, (c) => '!' + c.toLowerCase()));
const smallAlphabet = fc.string({ unit: fc.constantFrom(...TOKENS), maxLength: 8 });

const version = versionArbitrary;

/** Versions that differ only in their prerelease, where SemVer §11 precedence decides. */
const prereleaseVersion = fc
  .array(fc.constantFrom('alpha', 'beta', '1', '2', '11', '0', 'x-y', 'Z', 'a1'), {
    minLength: 0,
    maxLength: 3,
  })
  .map((ids) => (ids.length === 0 ? 'v1.0.0' : `v1.0.0-${ids.join('.')}`));

const glob = fc.oneof(
  fc
    .tuple(modulePath, fc.nat(), fc.constantFrom('*', '?', '[a-z]*', '[^.]*', '*.*', '[', '\\'))
    .map(([p, n, g]) => {
      const elems = p.split('/');
      elems[n % elems.length] = g;
      return elems.slice(0, 1 + (n % 4)).join('/');
    }),
  fc.array(smallAlphabet, { minLength: 1, maxLength: 3 }).map((g) => g.join(',')),
);

/** tlog `Tile.Path()` of a tile (H, L or data, N, W), then spelled in near-miss ways. */
const canonicalTile = fc
  .tuple(
    fc.integer({ min: 1, max: 30 }),
    fc.option(fc.nat({ max: 70 })),
    fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 5000n })),
    fc.nat(),
  )
  .map(([h, l, n, w]) => {
    let nStr = (n % 1000n).toString().padStart(3, '0');
    for (let m = n / 1000n; m > 0n; m /= 1000n) nStr = `x${(m % 1000n).toString().padStart(3, '0')}/${nStr}`;
    const width = w % 2 ** h;
    return `tile/${h}/${l ?? 'data'}/${nStr}${width === 0 ? '' : `.p/${width}`}`;
  });
/** Short patterns and names over the characters where class bounds and escapes matter. */
const classPattern = fc.string({
  unit: fc.constantFrom(
    'a',
    'z',
    'c',
    '*',
    '?',
    '[a-z]',
    '[^a-c]',
    '[x-z]',
    '[\\]a]',
    '[\\-x]',
    '\\*',
    '[é-ζ]',
    '/',
    '[',
    '-',
  ),
  maxLength: 5,
});
const className = fc.string({
  unit: fc.constantFrom('a', 'b', 'c', 'x', 'z', '{', '`', '*', ']', '-', 'é', 'ζ', '/'),
  maxLength: 5,
});

const tilePath = fc.oneof(
  canonicalTile,
  fc
    .tuple(
      fc.constantFrom('8', '1', '30', '31', '0', '08', '+8'),
      fc.constantFrom('0', '1', 'data', '-1', '9007199254740993', '00'),
      fc.array(fc.stringMatching(/^x?[0-9]{1,4}$/), { minLength: 1, maxLength: 7 }),
      fc.constantFrom('', '', '.p/5', '.p/255', '.p/256', '.p/0', '.p/05'),
    )
    .map(([h, l, n, p]) => `tile/${h}/${l}/${n.join('/')}${p}`),
);

/** Inputs for each op; the oracle gets only well-formed strings (Go would see U+FFFD for a lone surrogate). */
function sample(arb: fc.Arbitrary<string>, salt: number): string[] {
  return fc.sample(arb, { seed: SEED + salt, numRuns: SAMPLES }).filter((s) => s.isWellFormed());
}

function buildCases(): OracleCase[] {
  const paths = [
    ...sample(modulePath, 1),
    ...sample(mutated(modulePath), 2),
    ...sample(smallAlphabet, 3),
    ...sample(mutated(escapedPath), 4),
  ];
  const versions = [...sample(version, 5), ...sample(mutated(version), 6), ...sample(smallAlphabet, 7)];
  const cases: OracleCase[] = [];
  const pathOps: OracleOp[] = [
    'checkPath',
    'checkImportPath',
    'checkFilePath',
    'escapePath',
    'unescapePath',
    'splitPathVersion',
  ];
  for (const a of paths) for (const op of pathOps) cases.push({ op, a });
  for (const a of versions)
    for (const op of ['escapeVersion', 'unescapeVersion', 'semver'] as const) cases.push({ op, a });
  versions.forEach((a, i) => {
    cases.push({ op: 'compare', a, b: versions[(i * 7919) % versions.length]! });
  });
  const pres = sample(prereleaseVersion, 13);
  pres.forEach((a, i) => {
    cases.push({ op: 'compare', a, b: pres[(i * 31) % pres.length]! });
  });
  const globs = sample(glob, 8);
  globs.forEach((a, i) => {
    const b = paths[(i * 104729) % paths.length]!;
    cases.push({ op: 'matchPrefixPatterns', a, b }, { op: 'pathMatch', a, b });
    cases.push({ op: 'matchPrefixPatterns', a, b: a }, { op: 'pathMatch', a, b: a });
  });
  const names = sample(className, 11);
  sample(classPattern, 12).forEach((a, i) => {
    cases.push({ op: 'pathMatch', a, b: names[i % names.length]! });
  });
  for (const a of [...sample(tilePath, 9), ...sample(mutated(tilePath), 10)])
    cases.push({ op: 'parseTilePath', a });
  return cases;
}

/** The TS port's answer in the oracle's shape. */
function portAnswer(c: OracleCase): OracleResult {
  const b = c.b ?? '';
  const attempt = (
    fn: () => (string | number | boolean)[],
    onError: (string | number | boolean)[],
  ): OracleResult => {
    try {
      return { out: fn() };
    } catch (err) {
      if (!isModgateError(err, 'request.invalid_path')) throw err;
      return { err: err.message, out: onError };
    }
  };
  const check = (fn: (s: string) => void): OracleResult =>
    attempt(() => {
      fn(c.a);
      return [];
    }, []);
  switch (c.op) {
    case 'checkPath':
      return check(mod.checkPath);
    case 'checkImportPath':
      return check(mod.checkImportPath);
    case 'checkFilePath':
      return check(mod.checkFilePath);
    case 'escapePath':
      return attempt(() => [mod.escapePath(c.a)], ['']);
    case 'unescapePath':
      return attempt(() => [mod.unescapePath(c.a)], ['']);
    case 'escapeVersion':
      return attempt(() => [mod.escapeVersion(c.a)], ['']);
    case 'unescapeVersion':
      return attempt(() => [mod.unescapeVersion(c.a)], ['']);
    case 'splitPathVersion': {
      const s = mod.splitPathVersion(c.a);
      return { out: [s.prefix, s.pathMajor, s.ok] };
    }
    case 'semver':
      return {
        out: [
          semver.isValid(c.a),
          semver.canonical(c.a),
          semver.major(c.a),
          semver.majorMinor(c.a),
          semver.prerelease(c.a),
          semver.build(c.a),
          semver.isPseudoVersion(c.a),
          mod.canonicalVersion(c.a),
        ],
      };
    case 'compare':
      return { out: [semver.compare(c.a, b), semver.max(c.a, b)] };
    case 'matchPrefixPatterns':
      return { out: [mod.matchPrefixPatterns(c.a, b)] };
    case 'pathMatch': {
      const r = pathMatch(c.a, b);
      return { out: [r.matched, r.badPattern] };
    }
    case 'parseTilePath':
      return isTilePath(c.a) ? { out: [] } : { err: 'malformed tile path', out: [] };
  }
}

/** Ops whose error text must equal x/mod's exactly. */
const SAME_MESSAGE = new Set<OracleOp>(['checkPath', 'checkImportPath', 'checkFilePath', 'escapePath']);

describe('core/gomod agrees with golang.org/x/mod', () => {
  let oracle: XmodOracle;
  const cases = buildCases();
  let answers: OracleResult[];
  beforeAll(async () => {
    oracle = await startXmodOracle();
    answers = await oracle.ask(cases);
  });
  afterAll(async () => {
    await oracle?.close();
  });

  it('asks a few thousand cases in one process', () => {
    expect(cases.length).toBeGreaterThan(5000);
    expect(answers).toHaveLength(cases.length);
  });

  const ops: OracleOp[] = [
    'checkPath',
    'checkImportPath',
    'checkFilePath',
    'escapePath',
    'unescapePath',
    'escapeVersion',
    'unescapeVersion',
    'splitPathVersion',
    'semver',
    'compare',
    'matchPrefixPatterns',
    'pathMatch',
    'parseTilePath',
  ];
  it.each(ops)('%s', (op) => {
    const mismatches: unknown[] = [];
    let errors = 0;
    let oks = 0;
    cases.forEach((c, i) => {
      if (c.op !== op) return;
      const want = answers[i]!;
      const got = portAnswer(c);
      const okWant = want.err === undefined;
      if (okWant) oks++;
      else errors++;
      const sameOutcome = okWant === (got.err === undefined);
      const sameOut = op === 'parseTilePath' || JSON.stringify(got.out) === JSON.stringify(want.out);
      const sameText = !SAME_MESSAGE.has(op) || got.err === want.err;
      if (!sameOutcome || !sameOut || !sameText) mismatches.push({ case: c, go: want, ts: got });
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
    // The generators must reach both outcomes for every op that can fail.
    if (!['splitPathVersion', 'semver', 'compare', 'matchPrefixPatterns', 'pathMatch'].includes(op)) {
      expect(oks).toBeGreaterThan(20);
      expect(errors).toBeGreaterThan(20);
    }
  });
});
