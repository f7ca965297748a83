/**
 * Property tests (fast-check) for the policy engine: no input throws (and no
 * decision falls back to the fail-closed verdict, which would hide a throw);
 * deny always wins over allow; and the indexed, compiled policy decides
 * exactly as a naive model that scans every rule with core/gomod's
 * matchPrefixPatterns and semver.compare.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseDuration } from '../core/duration.ts';
import { matchPrefixPatterns } from '../core/gomod/module.ts';
import { compare, isValid } from '../core/gomod/semver.ts';
import { FAILED_VERDICT } from '../policies/compile.ts';
import { parsePolicy } from '../policies/load.ts';
import { parseExpiry } from '../policies/schema.ts';
import type { CompiledPolicy, Decision, Query } from '../policies/types.ts';

/** Fixed seed so a failure reproduces. */
const SEED = 20260601;
const RUNS = 300;
const NOW = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;

const USERS = ['u0', 'u1', 'u2'];
const GROUPS = ['g0', 'g1', 'g2'];
const ELEMENTS = ['a.example', 'b.example', 'x', 'y', 'v2', 'x-y'];
const GLOB_ELEMENTS = [...ELEMENTS, '*', '*.example', 'a*', '?', '[a-c]*', 'x-*', '*y', '[^x]'];
const CONSTRAINTS = ['<1.0.0', '>=0.5.0 <2.0.0', 'v1.2.3', '<=v1.0.0-rc.1 || >3.0.0', '=2.0.0', '>v0.0.0'];
const VERSIONS = [
  'v0.1.0',
  'v0.5.0',
  'v1.0.0-rc.1',
  'v1.0.0',
  'v1.2.3',
  'v2.0.0',
  'v2.0.0+incompatible',
  'v3.1.0',
  'v0.0.0-20190101000000-0123456789ab',
  'v1.2.4-0.20240101000000-0123456789ab',
  'master',
  '',
];
const EXPIRIES = [
  '2026-05-31',
  '2026-06-01',
  '2026-06-01T00:00:00Z',
  '2026-06-01T00:00:00.001Z',
  '2027-01-01',
];

interface RuleData {
  name: string;
  subjects: string[];
  modules: string[];
  action: 'allow' | 'deny';
  expires?: string;
  min_age?: string;
  mode?: 'dry-run';
}
interface PolicyData {
  default: 'allow' | 'deny';
  mode: 'enforce' | 'dry-run';
  rules: RuleData[];
}

const subjectArb = fc.constantFrom('*', ...USERS.map((u) => `user:${u}`), ...GROUPS.map((g) => `group:${g}`));
const globArb = fc
  .array(fc.constantFrom(...GLOB_ELEMENTS), { minLength: 1, maxLength: 3 })
  .map((e) => e.join('/'));
const patternArb = fc
  .tuple(globArb, fc.option(fc.constantFrom(...CONSTRAINTS), { nil: undefined }))
  .map(([g, c]) => (c === undefined ? g : `${g}@${c}`));
const ruleArb = fc
  .record({
    subjects: fc.uniqueArray(subjectArb, { minLength: 1, maxLength: 3 }),
    modules: fc.array(patternArb, { minLength: 1, maxLength: 3 }),
    action: fc.constantFrom('allow' as const, 'deny' as const),
    expires: fc.option(fc.constantFrom(...EXPIRIES), { nil: undefined }),
    min_age: fc.option(fc.constantFrom('1h', '72h'), { nil: undefined }),
    dryRun: fc.boolean(),
  })
  .map(({ dryRun, min_age, ...r }) => ({
    ...r,
    ...(min_age !== undefined && r.action === 'deny' ? { min_age } : {}),
    ...(dryRun ? { mode: 'dry-run' as const } : {}),
  }));
const policyArb: fc.Arbitrary<PolicyData> = fc.record({
  default: fc.constantFrom('allow' as const, 'deny' as const),
  mode: fc.constantFrom('enforce' as const, 'enforce' as const, 'dry-run' as const),
  rules: fc
    .array(ruleArb, { maxLength: 12 })
    .map((rules) =>
      rules.map(
        (r, i) =>
          Object.fromEntries(
            Object.entries({ name: `r${i}`, ...r }).filter(([, v]) => v !== undefined),
          ) as unknown as RuleData,
      ),
    ),
});

/** Path elements near the pattern elements: equal, longer, shorter, with the glob's literal pieces recombined. */
const elementArb = fc.oneof(
  fc.constantFrom(...ELEMENTS, 'z', 'ab.example', 'c', 'yy', 'x-yz', 'a'),
  fc.string({
    unit: fc.constantFrom('a', 'b', 'x', 'y', '.', '-', 'example', 'v2', '^'),
    minLength: 1,
    maxLength: 4,
  }),
);
const moduleArb = fc.oneof(
  fc.array(elementArb, { minLength: 1, maxLength: 4 }).map((e) => e.join('/')),
  fc.string({ maxLength: 12 }),
);
/**
 * A module path made from a glob: metacharacters replaced by text they match
 * (or nearly match), then maybe extended, so queries hit the patterns' edges.
 */
function concretize(glob: string, rnd: readonly number[]): string {
  let k = 0;
  const next = <T>(xs: readonly T[]): T => xs[(rnd[k++ % rnd.length] ?? 0) % xs.length]!;
  const out = glob
    .replace(/\[\^x\]/g, () => next(['x', 'y', 'a']))
    .replace(/\[a-c\]/g, () => next(['a', 'b', 'd']))
    .replace(/\?/g, () => next(['a', 'x', '/', '']))
    .replace(/\*/g, () => next(['', 'a', 'y', 'x.y', 'example', 'b/c']));
  return out + next(['', '', '', 'x', 'y', '/sub', '.example', '-y']);
}

const queryArb: fc.Arbitrary<Query> = fc.record({
  subject: fc.record({
    user: fc.oneof(fc.constantFrom(...USERS), fc.string({ maxLength: 4 })),
    groups: fc.array(fc.oneof(fc.constantFrom(...GROUPS), fc.string({ maxLength: 4 })), { maxLength: 3 }),
  }),
  module: moduleArb,
  version: fc.oneof(fc.constantFrom(...VERSIONS), fc.string({ maxLength: 10 })),
  publishedAt: fc.option(
    fc.oneof(
      fc.integer({ min: -100, max: 100 }).map((h) => new Date(NOW - h * HOUR)),
      fc.constant(new Date(Number.NaN)),
    ),
    { nil: undefined },
  ),
  now: fc.constantFrom(NOW - 1, NOW, NOW + 1, Date.UTC(2027, 0, 2)),
});

function compile(data: PolicyData): CompiledPolicy {
  const r = parsePolicy('p.yaml', stringify(data));
  if (!r.ok) throw new Error(`generated policy invalid: ${JSON.stringify(r.problems)}`);
  return r.policy;
}

/** The model's constraint check: independent of policies/version-constraint.ts. */
function modelSatisfies(constraint: string, version: string): boolean {
  if (!isValid(version)) return false;
  return constraint.split('||').some((alt) =>
    alt
      .trim()
      .split(/\s+/)
      .every((token) => {
        const [, op = '=', raw = ''] = /^(<=|>=|<|>|=)?\s*(.*)$/.exec(token) ?? [];
        const c = compare(version, raw.startsWith('v') ? raw : `v${raw}`);
        return { '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0, '=': c === 0 }[op];
      }),
  );
}

/** Every rule, scanned naively, that applies to the query. */
function modelApplies(rule: RuleData, q: Query): boolean {
  const now = q.now!;
  if (rule.expires !== undefined && parseExpiry(rule.expires)! <= now) return false;
  const subjectOk = rule.subjects.some(
    (s) => s === '*' || s === `user:${q.subject.user}` || q.subject.groups.some((g) => s === `group:${g}`),
  );
  if (!subjectOk) return false;
  const moduleOk = rule.modules.some((m) => {
    const at = m.indexOf('@');
    const glob = at < 0 ? m : m.slice(0, at);
    return matchPrefixPatterns(glob, q.module) && (at < 0 || modelSatisfies(m.slice(at + 1), q.version));
  });
  if (!moduleOk) return false;
  if (rule.min_age === undefined) return true;
  const published = q.publishedAt?.getTime() ?? Number.NaN;
  return !(now - published >= parseDuration(rule.min_age)!);
}

/** The model's verdict: first applicable deny, else first applicable allow, else default. */
function modelVerdict(data: PolicyData, q: Query, includeDryRun: boolean): { action: string; rule?: string } {
  const applicable = data.rules.filter((r) => (includeDryRun || r.mode !== 'dry-run') && modelApplies(r, q));
  const winner = applicable.find((r) => r.action === 'deny') ?? applicable.find((r) => r.action === 'allow');
  return winner === undefined ? { action: data.default } : { action: winner.action, rule: winner.name };
}

/**
 * The model's module-wide verdict (enforced rules only): the first deny of the
 * whole path (unconstrained pattern, no min_age), else the first allow of the
 * whole path, else default deny if no allow rule touches the path, else "per
 * version" (allow, no rule) if any rule touches it, else the default.
 */
function modelModuleVerdict(data: PolicyData, q: Query): { action: string; rule?: string } {
  const hits = data.rules.flatMap((rule) => {
    if (rule.mode === 'dry-run') return [];
    if (rule.expires !== undefined && parseExpiry(rule.expires)! <= q.now!) return [];
    const subjectOk = rule.subjects.some(
      (s) => s === '*' || s === `user:${q.subject.user}` || q.subject.groups.some((g) => s === `group:${g}`),
    );
    if (!subjectOk) return [];
    const onPath = rule.modules.filter((m) => matchPrefixPatterns(m.split('@')[0]!, q.module));
    if (onPath.length === 0) return [];
    return [{ rule, whole: rule.min_age === undefined && onPath.some((m) => !m.includes('@')) }];
  });
  const deny = hits.find((h) => h.rule.action === 'deny' && h.whole);
  if (deny !== undefined) return { action: 'deny', rule: deny.rule.name };
  const allow = hits.find((h) => h.rule.action === 'allow' && h.whole);
  if (allow !== undefined) return { action: 'allow', rule: allow.rule.name };
  if (data.default === 'deny' && !hits.some((h) => h.rule.action === 'allow')) return { action: 'deny' };
  return hits.length > 0 ? { action: 'allow' } : { action: data.default };
}

const shape = (d: { action: string; rule?: string | undefined }) => ({ action: d.action, rule: d.rule });

describe('policy properties', () => {
  /** A policy and queries, half of them with module paths made from the policy's own globs. */
  const policyAndQueries = policyArb.chain((data) => {
    const globs = data.rules.flatMap((r) => r.modules.map((m) => m.split('@')[0]!));
    const near =
      globs.length === 0
        ? queryArb
        : fc
            .tuple(queryArb, fc.constantFrom(...globs), fc.array(fc.nat(), { minLength: 1, maxLength: 6 }))
            .map(([q, glob, rnd]) => ({ ...q, module: concretize(glob, rnd) }));
    return fc.tuple(fc.constant(data), fc.array(fc.oneof(queryArb, near), { minLength: 1, maxLength: 8 }));
  });

  it('decide matches the naive model (enforced verdict and dry-run verdict)', () => {
    fc.assert(
      fc.property(policyAndQueries, ([data, queries]) => {
        const policy = compile(data);
        for (const q of queries) {
          const d = policy.decide(q);
          const all = modelVerdict(data, q, true);
          if (data.mode === 'dry-run') {
            expect(shape(d)).toEqual({ action: 'allow', rule: undefined });
            expect(d.dryRun === undefined ? undefined : shape(d.dryRun)).toEqual(
              all.action === 'deny' ? { action: 'deny', rule: all.rule } : undefined,
            );
          } else {
            const enforced = modelVerdict(data, q, false);
            expect(shape(d)).toEqual({ action: enforced.action, rule: enforced.rule });
            expect(shape(d.dryRun ?? d)).toEqual({ action: all.action, rule: all.rule });
          }
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('decideModule matches the model, and its deny holds for every version (list/latest hide nothing allowed)', () => {
    fc.assert(
      fc.property(policyAndQueries, ([data, queries]) => {
        const policy = compile({ ...data, mode: 'enforce' });
        for (const q of queries) {
          const whole = policy.decideModule(q);
          expect(shape(whole)).toEqual(modelModuleVerdict(data, q));
          if (whole.action !== 'deny') continue;
          for (const version of VERSIONS) {
            for (const publishedAt of [undefined, new Date(q.now! - 1000 * HOUR)]) {
              expect(policy.decide({ ...q, version, publishedAt }).action).toBe('deny');
            }
          }
        }
      }),
      { seed: SEED + 4, numRuns: RUNS },
    );
  });

  it('deny always wins: an applicable enforced deny denies, wherever it is in the file', () => {
    fc.assert(
      fc.property(policyArb, queryArb, fc.nat(), (data, q, at) => {
        const deny: RuleData = { name: 'injected', subjects: ['*'], modules: ['*'], action: 'deny' };
        const rules = [...data.rules];
        rules.splice(at % (rules.length + 1), 0, deny);
        const policy = compile({ ...data, mode: 'enforce', rules });
        const d = policy.decide(q);
        expect(d.action).toBe('deny');
        // The deciding rule is the first applicable deny, never an allow.
        expect(rules.find((r) => r.name === d.rule)?.action).toBe('deny');
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });

  it('no query throws or falls back to the fail-closed verdict', () => {
    fc.assert(
      fc.property(policyArb, queryArb, (data, q) => {
        const policy = compile(data);
        const results: Decision[] = [policy.decide(q), policy.decideModule(q)];
        for (const d of results) {
          expect(d).not.toBe(FAILED_VERDICT);
          expect(['allow', 'deny']).toContain(d.action);
        }
        expect(typeof policy.needsPublishTime(q.subject, q.module, q.now)).toBe('boolean');
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  });

  it('malformed queries fail closed instead of throwing', () => {
    const policy = compile({ default: 'allow', mode: 'enforce', rules: [] });
    for (const q of [
      {},
      { subject: null, module: 1 },
      null,
      { subject: { user: 'u' }, module: 'a', version: 'v1' },
    ]) {
      expect(() => policy.decide(q as unknown as Query)).not.toThrow();
      expect(() => policy.decideModule(q as unknown as Query)).not.toThrow();
    }
  });

  it('parsePolicy never throws, whatever the text', () => {
    const yamlish = fc.string({
      unit: fc.constantFrom(
        'default: ',
        'allow',
        'deny',
        '\n',
        '  ',
        '- ',
        'rules:',
        'name: ',
        'modules: [',
        ']',
        '"',
        '@<',
        '*',
        ':',
        '{',
        '}',
        'x',
      ),
      maxLength: 30,
    });
    fc.assert(
      fc.property(fc.oneof(fc.string(), yamlish), (text) => {
        const r = parsePolicy('p.yaml', text);
        expect(typeof r.ok).toBe('boolean');
      }),
      { seed: SEED + 3, numRuns: 1000 },
    );
  });
});
