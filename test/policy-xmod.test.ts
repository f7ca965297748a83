/**
 * Differential test of the compiled policy against Go's own golang.org/x/mod
 * (through test/support/xmod-oracle.ts): module-pattern matching, both per
 * compiled pattern and through the rule index of a compiled policy, against
 * `module.MatchPrefixPatterns`; version constraints, per constraint and
 * through `decide`, against `semver.Compare` and `semver.IsValid`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { policyInternals } from '../policies/compile.ts';
import { parsePolicy } from '../policies/load.ts';
import { type ModulePattern, parseModulePattern } from '../policies/module-pattern.ts';
import type { CompiledPolicy } from '../policies/types.ts';
import { type Operator, parseConstraint, satisfies } from '../policies/version-constraint.ts';
import { versionArbitrary } from './support/version-arbitrary.ts';
import { type OracleCase, startXmodOracle, type XmodOracle } from './support/xmod-oracle.ts';

/** Fixed seed so a failure reproduces. */
const SEED = 20260602;
const PATTERNS = 220;
const TARGETS = 220;
const VERSIONS = 400;
const BOUNDS = 40;
const OPERATORS: readonly Operator[] = ['<', '<=', '>', '>=', '='];

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,4}[a-z0-9])?$/);
const elem = fc.stringMatching(/^[A-Za-z0-9_~-]([A-Za-z0-9._~-]{0,6}[A-Za-z0-9_~-])?$/);
const modulePath = fc
  .tuple(
    fc.array(label, { minLength: 1, maxLength: 2 }),
    fc.constantFrom('com', 'org', 'example'),
    fc.array(elem, { maxLength: 3 }),
    fc.constantFrom('', '', '/v2', '/v10'),
  )
  .map(([host, tld, elems, major]) => [[...host, tld].join('.'), ...elems].join('/') + major);

/** Glob pieces: stars, `?`, classes (negated, ranges, escaped), escapes, unicode, literal text. */
const GLOB_TOKENS = [
  '*',
  '**',
  '?',
  '[a-z]',
  '[^.]',
  '[^a-c]*',
  '[\\]a]',
  '[\\-x]',
  '[é-ζ]',
  '\\*',
  '\\.',
  '.',
  '-',
  'x',
  'é',
  'com',
  'example',
  'v2',
];
/** Star-only elements (compiled to a RegExp), the common case: `*.corp.example`, `acme-*`. */
const starElement = fc
  .array(fc.constantFrom('*', '**', 'x', '.com', '-', 'a', '.example', 'é', '$', '(', '+'), {
    minLength: 1,
    maxLength: 3,
  })
  .map((t) => (t.includes('*') || t.includes('**') ? t.join('') : `${t.join('')}*`));
const globElement = fc.oneof(
  elem,
  label,
  starElement,
  starElement,
  fc.array(fc.constantFrom(...GLOB_TOKENS), { minLength: 1, maxLength: 3 }).map((t) => t.join('')),
);
const glob = fc.oneof(
  // A module path with some elements replaced by globs, cut at a random depth.
  fc
    .tuple(
      modulePath,
      // A third of them literal: no element swapped for a glob.
      fc.oneof(fc.constant([]), fc.array(fc.tuple(fc.nat(), globElement), { minLength: 1, maxLength: 2 })),
      fc.nat(),
      fc.boolean(),
    )
    .map(([p, swaps, cut, slash]) => {
      const elems = p.split('/');
      for (const [i, g] of swaps) elems[i % elems.length] = g;
      return elems.slice(0, 1 + (cut % elems.length)).join('/') + (slash ? '/' : '');
    }),
  fc.array(globElement, { minLength: 1, maxLength: 3 }).map((e) => e.join('/')),
);

/** Module paths near a glob: its stars and classes filled in with text that fits or almost fits. */
function near(g: string, rnd: readonly number[]): string {
  let k = 0;
  const next = <T>(xs: readonly T[]): T => xs[(rnd[k++ % rnd.length] ?? 0) % xs.length]!;
  return (
    g
      .replace(/\\(.)/g, '$1')
      .replace(/\[[^\]]*\]/g, () => next(['a', 'b', '.', ']', '-', 'é', 'ζ', 'z']))
      .replace(/\*+/g, () => next(['', 'a', 'x.y', 'com', '-v2']))
      .replace(/\?/g, () => next(['a', '.', '/', 'é'])) + next(['', '', '/sub', 'x', '/v2/pkg', '.com'])
  );
}

const version = versionArbitrary;
const bound = fc
  .tuple(
    fc.constantFrom('0', '1', '2', '10', '23'),
    fc.constantFrom('0', '1', '2', '23'),
    fc.constantFrom('0', '1', '3'),
    fc.constantFrom('', '', '', '-rc.1', '-0', '-beta.2', '+incompatible'),
    fc.boolean(),
  )
  .map(([a, b, c, suffix, v]) => `${v ? 'v' : ''}${a}.${b}.${c}${suffix}`);

function sample<T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] {
  return fc.sample(arb, { seed: SEED + salt, numRuns: n });
}

function compile(rules: Record<string, unknown>[], defaultAction: 'allow' | 'deny'): CompiledPolicy {
  const r = parsePolicy('xmod.yaml', stringify({ default: defaultAction, rules }));
  if (!r.ok) throw new Error(JSON.stringify(r.problems.slice(0, 3)));
  return r.policy;
}

describe('policy matching agrees with golang.org/x/mod', () => {
  let oracle: XmodOracle;
  beforeAll(async () => {
    oracle = await startXmodOracle();
  });
  afterAll(async () => {
    await oracle?.close();
  });

  describe('module patterns vs module.MatchPrefixPatterns', () => {
    const all = [...new Set(sample(glob, PATTERNS, 1))].filter((g) => g.isWellFormed());
    const patterns: { text: string; compiled: ModulePattern }[] = [];
    const rejected: string[] = [];
    for (const text of all) {
      const p = parseModulePattern(text);
      if ('error' in p) rejected.push(text);
      else patterns.push({ text, compiled: p });
    }
    const rnd = sample(fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), TARGETS, 2);
    const targets = [
      ...new Set([
        ...sample(modulePath, TARGETS, 3),
        ...rnd.map((r, i) => near(patterns[i % patterns.length]!.text, r)),
        ...patterns.map((p) => p.compiled.glob),
      ]),
    ].filter((t) => t.isWellFormed());
    let truth: boolean[][];

    beforeAll(async () => {
      const cases: OracleCase[] = [];
      for (const p of [...patterns.map((x) => x.text), ...rejected]) {
        for (const b of targets) cases.push({ op: 'matchPrefixPatterns', a: p, b });
      }
      const answers = await oracle.ask(cases);
      const n = targets.length;
      truth = [...patterns.map((x) => x.text), ...rejected].map((_, i) =>
        targets.map((_, j) => answers[i * n + j]!.out[0] === true),
      );
    });

    it('generates enough patterns of every kind, and targets that match', () => {
      expect(patterns.length).toBeGreaterThan(150);
      expect(patterns.filter((p) => p.compiled.literal).length).toBeGreaterThan(20);
      expect(patterns.filter((p) => /^[^?[\\]*\*[^?[\\]*$/.test(p.compiled.glob)).length).toBeGreaterThan(20);
      expect(patterns.filter((p) => /[?[\\]/.test(p.compiled.glob)).length).toBeGreaterThan(20);
      const matches = truth.slice(0, patterns.length).flat().filter(Boolean).length;
      expect(matches).toBeGreaterThan(500);
    });

    it('each compiled pattern matches exactly the paths Go matches', () => {
      const mismatches: unknown[] = [];
      patterns.forEach((p, i) => {
        targets.forEach((t, j) => {
          if (p.compiled.matchesPath(t) !== truth[i]![j])
            mismatches.push({ pattern: p.text, target: t, go: truth[i]![j] });
        });
      });
      expect(mismatches.slice(0, 5)).toEqual([]);
    });

    it('the rule index of a compiled policy finds exactly the rules Go matches', () => {
      const policy = compile(
        patterns.map((p, i) => ({ name: `p${i}`, subjects: ['*'], modules: [p.text], action: 'allow' })),
        'deny',
      );
      const internals = policyInternals(policy)!;
      const mismatches: unknown[] = [];
      targets.forEach((t, j) => {
        const got = internals.rulesMatchingPath(t).map((r) => r.name);
        const want = patterns.flatMap((_, i) => (truth[i]![j] ? [`p${i}`] : []));
        if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push({ target: t, got, want });
        // And through decide: the first matching rule decides.
        const d = policy.decide({ subject: { user: 'u', groups: [] }, module: t, version: 'v1.0.0' });
        if (d.rule !== want[0]) mismatches.push({ target: t, decided: d.rule, want: want[0] });
      });
      expect(mismatches.slice(0, 5)).toEqual([]);
    });

    it('patterns rejected at load are malformed for Go too (they never match)', () => {
      const offset = patterns.length;
      const matched = rejected.filter((_, i) => truth[offset + i]!.some(Boolean));
      expect(matched).toEqual([]);
    });
  });

  describe('version constraints vs semver.Compare', () => {
    const versions = [...new Set(sample(version, VERSIONS, 4))];
    const bounds = [...new Set(sample(bound, BOUNDS, 5))];
    let valid: Map<string, boolean>;
    let cmp: Map<string, number>;

    beforeAll(async () => {
      const withV = (b: string) => (b.startsWith('v') ? b : `v${b}`);
      const semverCases: OracleCase[] = versions.map((a) => ({ op: 'semver', a }));
      const compareCases: OracleCase[] = versions.flatMap((a) =>
        bounds.map((b) => ({ op: 'compare' as const, a, b: withV(b) })),
      );
      const answers = await oracle.ask([...semverCases, ...compareCases]);
      valid = new Map(versions.map((v, i) => [v, answers[i]!.out[0] === true]));
      cmp = new Map(
        compareCases.map((c, i) => [`${c.a} ${c.b}`, answers[versions.length + i]!.out[0] as number]),
      );
    });

    /** Whether Go's semver says `version <op> bound` (invalid versions satisfy nothing). */
    const expected = (v: string, op: Operator, b: string) => {
      const c = cmp.get(`${v} ${b.startsWith('v') ? b : `v${b}`}`)!;
      return valid.get(v)! && { '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0, '=': c === 0 }[op];
    };

    it('covers valid and invalid versions, pseudo-versions and pre-releases', () => {
      expect([...valid.values()].filter(Boolean).length).toBeGreaterThan(150);
      expect([...valid.values()].filter((x) => !x).length).toBeGreaterThan(30);
      expect(versions.filter((v) => /-0\.\d{14}-|\d{14}-/.test(v)).length).toBeGreaterThan(30);
    });

    it('each comparator agrees with Go', () => {
      const mismatches: unknown[] = [];
      for (const b of bounds) {
        for (const op of OPERATORS) {
          const c = parseConstraint(`${op}${b}`);
          if ('error' in c) throw new Error(c.error);
          for (const v of versions) {
            if (satisfies(c, v, 'example.com/m') !== expected(v, op, b))
              mismatches.push({ constraint: `${op}${b}`, version: v });
          }
        }
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
    });

    it('a compiled policy denies exactly the versions Go places in the range', () => {
      const rules = bounds.flatMap((b, j) =>
        OPERATORS.map((op, k) => ({
          name: `c${j}-${k}`,
          subjects: ['*'],
          modules: [`c${j}-${k}.example@${op}${b}`],
          action: 'deny',
        })),
      );
      // Ranges of two comparators, too: `>=a <b`.
      bounds.forEach((lo, j) => {
        const hi = bounds[(j * 7 + 3) % bounds.length]!;
        rules.push({
          name: `r${j}`,
          subjects: ['*'],
          modules: [`r${j}.example@>=${lo} <${hi}`],
          action: 'deny',
        });
      });
      const policy = compile(rules, 'allow');
      const subject = { user: 'u', groups: [] };
      const mismatches: unknown[] = [];
      for (const v of versions) {
        bounds.forEach((b, j) => {
          OPERATORS.forEach((op, k) => {
            const denied =
              policy.decide({ subject, module: `c${j}-${k}.example`, version: v }).action === 'deny';
            if (denied !== expected(v, op, b))
              mismatches.push({ constraint: `${op}${b}`, version: v, denied });
          });
          const hi = bounds[(j * 7 + 3) % bounds.length]!;
          const inRange = expected(v, '>=', b) && expected(v, '<', hi);
          const denied = policy.decide({ subject, module: `r${j}.example`, version: v }).action === 'deny';
          if (denied !== inRange) mismatches.push({ range: `>=${b} <${hi}`, version: v, denied });
        });
      }
      expect(mismatches.slice(0, 5)).toEqual([]);
    });
  });
});
