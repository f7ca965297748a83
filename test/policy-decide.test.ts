/**
 * Decisions (docs/policies.md "Matching"), table-driven: subjects, GOPRIVATE
 * globs, version constraints (pseudo-versions, pre-releases, +incompatible,
 * invalid versions), deny over allow, default, expires, dry-run rules and
 * mode, min_age, decideModule, needsPublishTime, and explain.
 */
import { describe, expect, it } from 'vitest';
import { explain } from '../policies/explain.ts';
import { parsePolicy } from '../policies/load.ts';
import type { CompiledPolicy, Decision } from '../policies/types.ts';

/** A fixed evaluation time: 2026-06-01T00:00:00Z. */
const NOW = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;

function load(text: string): CompiledPolicy {
  const r = parsePolicy('p.yaml', text, { now: NOW });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

interface Ask {
  user?: string;
  groups?: string[];
  module: string;
  version?: string;
  published?: Date;
  now?: number;
}

function decide(policy: CompiledPolicy, q: Ask): Decision {
  return policy.decide({
    subject: { user: q.user ?? 'alice', groups: q.groups ?? [] },
    module: q.module,
    version: q.version ?? 'v1.0.0',
    publishedAt: q.published,
    now: q.now ?? NOW,
  });
}

/** `allow`/`deny`, with `:rule` when a rule decided. */
function short(d: Decision): string {
  return d.rule === undefined ? d.action : `${d.action}:${d.rule}`;
}

describe('subjects', () => {
  const policy = load(`default: deny
rules:
  - { name: alice, subjects: ["user:alice"], modules: ["a.example"], action: allow }
  - { name: team-a, subjects: ["group:team-a"], modules: ["b.example"], action: allow }
  - { name: anyone, subjects: ["*"], modules: ["c.example"], action: allow }
  - { name: two, subjects: ["user:bob", "group:team-b"], modules: ["d.example"], action: allow }
`);
  it.each<[string, Ask, string]>([
    ['a user rule names the user', { module: 'a.example' }, 'allow:alice'],
    ['a user rule names nobody else', { user: 'bob', module: 'a.example' }, 'deny'],
    [
      'a user rule does not match a group of that name',
      { user: 'x', groups: ['alice'], module: 'a.example' },
      'deny',
    ],
    [
      'a group rule names members',
      { user: 'x', groups: ['z', 'team-a'], module: 'b.example' },
      'allow:team-a',
    ],
    ['a group rule does not match a user of that name', { user: 'team-a', module: 'b.example' }, 'deny'],
    ['* names any identity', { user: 'x', module: 'c.example' }, 'allow:anyone'],
    ['either subject of a list', { user: 'bob', module: 'd.example' }, 'allow:two'],
    ['the other subject of a list', { user: 'c', groups: ['team-b'], module: 'd.example' }, 'allow:two'],
    ['names are case-sensitive', { user: 'Alice', module: 'a.example' }, 'deny'],
  ])('%s', (_name, q, want) => {
    expect(short(decide(policy, q))).toBe(want);
  });
});

describe('module patterns (GOPRIVATE globs)', () => {
  const policy = load(`default: deny
rules:
  - { name: tree, subjects: ["*"], modules: ["git.corp.example/team-a"], action: allow }
  - { name: hosts, subjects: ["*"], modules: ["*.corp.example"], action: allow }
  - { name: prefix-glob, subjects: ["*"], modules: ["github.com/acme-*"], action: allow }
  - { name: middle-glob, subjects: ["*"], modules: ["github.com/*/internal"], action: allow }
  - { name: question, subjects: ["*"], modules: ["gopkg.in/yaml.v?"], action: allow }
  - { name: class, subjects: ["*"], modules: ["example.com/[a-c]*"], action: allow }
  - { name: trailing-slash, subjects: ["*"], modules: ["example.org/x/"], action: allow }
`);
  it.each<[string, string]>([
    ['git.corp.example/team-a', 'allow:tree'],
    ['git.corp.example/team-a/svc/v2', 'allow:tree'],
    ['git.corp.example/team-ab', 'allow:hosts'],
    ['git.corp.example', 'allow:hosts'],
    ['corp.example/x', 'deny'],
    ['build.corp.example/tool', 'allow:hosts'],
    ['github.com/acme-tools/x', 'allow:prefix-glob'],
    ['github.com/acme', 'deny'],
    ['github.com/Acme-tools', 'deny'],
    ['github.com/foo/internal', 'allow:middle-glob'],
    ['github.com/foo/internal/deep/v3', 'allow:middle-glob'],
    ['github.com/foo/internals', 'deny'],
    ['github.com/foo/bar/internal', 'deny'],
    ['gopkg.in/yaml.v3', 'allow:question'],
    ['gopkg.in/yaml.v10', 'deny'],
    ['example.com/bar', 'allow:class'],
    ['example.com/dog', 'deny'],
    ['example.org/x/y', 'allow:trailing-slash'],
    ['example.org/xy', 'deny'],
  ])('%s → %s', (module, want) => {
    expect(short(decide(policy, { module }))).toBe(want);
  });

  it('* matches every module', () => {
    const all = load(
      'default: deny\nrules:\n  - { name: all, subjects: ["*"], modules: ["*"], action: allow }\n',
    );
    for (const module of ['a.b', 'github.com/x/y/v2', 'gopkg.in/yaml.v3']) {
      expect(short(decide(all, { module }))).toBe('allow:all');
    }
  });
});

describe('version constraints', () => {
  const policy = load(`default: allow
rules:
  - { name: old-net, subjects: ["*"], modules: ["golang.org/x/net@<0.23.0"], action: deny }
  - { name: range, subjects: ["*"], modules: ["github.com/acme/lib@>=1.2.0 <1.4.2 || v2.0.0"], action: deny }
  - { name: exact, subjects: ["*"], modules: ["github.com/acme/tool@v1.2.3"], action: deny }
  - { name: exact-no-v, subjects: ["*"], modules: ["github.com/acme/cli@1.2.3"], action: deny }
  - { name: spaced, subjects: ["*"], modules: ["github.com/acme/spaced@>= 1.0.0 <= 1.1.0"], action: deny }
  - { name: incompatible, subjects: ["*"], modules: ["github.com/old/lib@<3.0.0"], action: deny }
  - { name: pre, subjects: ["*"], modules: ["github.com/acme/pre@>=1.0.0-rc.1 <1.0.0"], action: deny }
`);
  it.each<[string, string, string]>([
    ['golang.org/x/net', 'v0.22.0', 'deny:old-net'],
    ['golang.org/x/net', 'v0.23.0', 'allow'],
    ['golang.org/x/net', 'v0.24.1', 'allow'],
    ['golang.org/x/net/html', 'v0.1.0', 'deny:old-net'],
    // A pre-release sorts before its release.
    ['golang.org/x/net', 'v0.23.0-rc.1', 'deny:old-net'],
    // Pseudo-versions are pre-releases of the version after their base.
    ['golang.org/x/net', 'v0.22.1-0.20240301000000-0123456789ab', 'deny:old-net'],
    ['golang.org/x/net', 'v0.23.1-0.20240301000000-0123456789ab', 'allow'],
    ['golang.org/x/net', 'v0.0.0-20190101000000-0123456789ab', 'deny:old-net'],
    // Invalid versions satisfy no constraint (and do not throw).
    ['golang.org/x/net', 'master', 'allow'],
    ['golang.org/x/net', '', 'allow'],
    ['golang.org/x/net', 'v0.22', 'deny:old-net'],
    ['github.com/acme/lib', 'v1.1.9', 'allow'],
    ['github.com/acme/lib', 'v1.2.0', 'deny:range'],
    ['github.com/acme/lib', 'v1.4.1', 'deny:range'],
    ['github.com/acme/lib', 'v1.4.2', 'allow'],
    ['github.com/acme/lib', 'v2.0.0', 'deny:range'],
    ['github.com/acme/lib', 'v2.0.1', 'allow'],
    ['github.com/acme/tool', 'v1.2.3', 'deny:exact'],
    ['github.com/acme/tool', 'v1.2.4', 'allow'],
    ['github.com/acme/tool', 'v1.2.3-pre', 'allow'],
    ['github.com/acme/cli', 'v1.2.3', 'deny:exact-no-v'],
    ['github.com/acme/spaced', 'v1.1.0', 'deny:spaced'],
    ['github.com/acme/spaced', 'v1.1.1', 'allow'],
    // +incompatible is build metadata: v2.5.0+incompatible compares as v2.5.0.
    ['github.com/old/lib', 'v2.5.0+incompatible', 'deny:incompatible'],
    ['github.com/old/lib', 'v3.0.0+incompatible', 'allow'],
    ['github.com/acme/pre', 'v1.0.0-rc.2', 'deny:pre'],
    ['github.com/acme/pre', 'v1.0.0-beta', 'allow'],
    ['github.com/acme/pre', 'v1.0.0', 'allow'],
  ])('%s@%s → %s', (module, version, want) => {
    expect(short(decide(policy, { module, version }))).toBe(want);
  });
});

describe('deny over allow, default, reasons', () => {
  const policy = load(`default: deny
rules:
  - { name: allow-all-acme, subjects: ["*"], modules: ["github.com/acme"], action: allow, reason: "acme is vetted" }
  - { name: allow-again, subjects: ["*"], modules: ["github.com/acme/x"], action: allow }
  - { name: deny-x, subjects: ["group:contractors"], modules: ["github.com/acme/x"], action: deny, reason: "not for contractors" }
  - { name: deny-x-too, subjects: ["*"], modules: ["github.com/acme/x@<1.0.0"], action: deny }
`);
  it.each<[string, Ask, Decision]>([
    [
      'the first allow names the reason',
      { module: 'github.com/acme/x' },
      { action: 'allow', rule: 'allow-all-acme', reason: 'acme is vetted' },
    ],
    [
      'a later deny overrides an earlier allow',
      { groups: ['contractors'], module: 'github.com/acme/x' },
      { action: 'deny', rule: 'deny-x', reason: 'not for contractors' },
    ],
    [
      'the first matching deny in file order decides',
      { groups: ['contractors'], module: 'github.com/acme/x', version: 'v0.1.0' },
      { action: 'deny', rule: 'deny-x', reason: 'not for contractors' },
    ],
    [
      'a deny without reason',
      { module: 'github.com/acme/x', version: 'v0.1.0' },
      { action: 'deny', rule: 'deny-x-too', reason: undefined },
    ],
    [
      'default deny when nothing matches',
      { module: 'github.com/other/x' },
      { action: 'deny', rule: undefined, reason: 'no rule allows this module version' },
    ],
  ])('%s', (_name, q, want) => {
    expect(decide(policy, q)).toEqual(want);
  });

  it('default allow when nothing matches', () => {
    expect(decide(load('default: allow\n'), { module: 'a.example' })).toEqual({
      action: 'allow',
      rule: undefined,
      reason: 'no rule matched; the policy default is allow',
    });
  });
});

describe('expires', () => {
  const policy = load(`default: deny
rules:
  - { name: by-date, subjects: ["user:alice"], modules: ["a.example"], action: allow, expires: 2026-01-31 }
  - { name: by-time, subjects: ["group:team-a"], modules: ["a.example"], action: allow, expires: "2026-01-31T12:00:00+01:00" }
  - { name: deny-until, subjects: ["*"], modules: ["b.example"], action: deny, expires: 2026-01-31 }
`);
  it.each<[string, Ask, string]>([
    [
      'a date lasts through that day (UTC)',
      { module: 'a.example', now: Date.UTC(2026, 0, 31, 23, 59) },
      'allow:by-date',
    ],
    ['and ends at midnight after it', { module: 'a.example', now: Date.UTC(2026, 1, 1) }, 'deny'],
    [
      'a time with offset, before',
      { user: 'x', groups: ['team-a'], module: 'a.example', now: Date.UTC(2026, 0, 31, 10, 59) },
      'allow:by-time',
    ],
    [
      'a time with offset, at',
      { user: 'x', groups: ['team-a'], module: 'a.example', now: Date.UTC(2026, 0, 31, 11) },
      'deny',
    ],
    ['an expired deny no longer denies', { module: 'b.example', now: Date.UTC(2026, 1, 1) }, 'deny'],
  ])('%s', (_name, q, want) => {
    expect(short(decide(policy, q))).toBe(want);
  });

  it('an expired deny lets the allow through', () => {
    const p = load(`default: deny
rules:
  - { name: allow, subjects: ["*"], modules: ["b.example"], action: allow }
  - { name: deny-until, subjects: ["*"], modules: ["b.example"], action: deny, expires: 2026-01-31 }
`);
    expect(short(decide(p, { module: 'b.example', now: Date.UTC(2026, 0, 15) }))).toBe('deny:deny-until');
    expect(short(decide(p, { module: 'b.example', now: Date.UTC(2026, 1, 1) }))).toBe('allow:allow');
  });
});

describe('dry-run', () => {
  const policy = load(`default: allow
rules:
  - { name: trial-deny, subjects: ["*"], modules: ["a.example"], action: deny, mode: dry-run, reason: "trial" }
  - { name: real-deny, subjects: ["*"], modules: ["b.example"], action: deny }
  - { name: trial-too, subjects: ["*"], modules: ["b.example"], action: deny, mode: dry-run }
`);
  it('a dry-run rule is reported, not enforced', () => {
    expect(decide(policy, { module: 'a.example' })).toEqual({
      action: 'allow',
      rule: undefined,
      reason: 'no rule matched; the policy default is allow',
      dryRun: { action: 'deny', rule: 'trial-deny', reason: 'trial' },
    });
  });
  it('dryRun is absent when it agrees with the enforced verdict', () => {
    expect(decide(policy, { module: 'b.example' })).toEqual({
      action: 'deny',
      rule: 'real-deny',
      reason: undefined,
    });
    expect(decide(policy, { module: 'c.example' })).not.toHaveProperty('dryRun');
  });
  it('a dry-run allow in a default-deny policy', () => {
    const p = load(
      'default: deny\nrules:\n  - { name: t, subjects: ["*"], modules: ["a.example"], action: allow, mode: dry-run }\n',
    );
    expect(decide(p, { module: 'a.example' })).toMatchObject({
      action: 'deny',
      rule: undefined,
      dryRun: { action: 'allow', rule: 't' },
    });
  });

  const dryPolicy = load(`default: deny
mode: dry-run
rules:
  - { name: ok, subjects: ["*"], modules: ["a.example"], action: allow }
  - { name: no, subjects: ["*"], modules: ["a.example@<1.0.0"], action: deny, reason: "too old" }
`);
  it.each<[string, Ask, Decision]>([
    [
      'policy dry-run allows and reports the would-be denial',
      { module: 'a.example', version: 'v0.9.0' },
      {
        action: 'allow',
        rule: undefined,
        reason: 'policy in dry-run mode',
        dryRun: { action: 'deny', rule: 'no', reason: 'too old' },
      },
    ],
    [
      'policy dry-run reports the default denial too',
      { module: 'z.example' },
      {
        action: 'allow',
        rule: undefined,
        reason: 'policy in dry-run mode',
        dryRun: { action: 'deny', rule: undefined, reason: 'no rule allows this module version' },
      },
    ],
    [
      'policy dry-run has no dryRun when the real verdict allows',
      { module: 'a.example', version: 'v1.0.0' },
      { action: 'allow', rule: undefined, reason: 'policy in dry-run mode' },
    ],
  ])('%s', (_name, q, want) => {
    expect(decide(dryPolicy, q)).toEqual(want);
  });
});

describe('min_age', () => {
  const policy = load(`default: allow
rules:
  - { name: cooldown, subjects: ["*"], modules: ["*"], action: deny, min_age: 72h }
  - { name: strict, subjects: ["group:prod"], modules: ["github.com"], action: deny, min_age: 168h, reason: "a week for prod" }
`);
  it.each<[string, Ask, Decision]>([
    [
      'a young version is held back, the reason names the age limit',
      { module: 'a.example', published: new Date(NOW - HOUR) },
      {
        action: 'deny',
        rule: 'cooldown',
        reason: 'versions published less than 72h ago are held back (min_age 72h)',
      },
    ],
    [
      'an old enough version passes',
      { module: 'a.example', published: new Date(NOW - 72 * HOUR) },
      { action: 'allow', rule: undefined, reason: 'no rule matched; the policy default is allow' },
    ],
    [
      'an unknown publish time fails closed',
      { module: 'a.example' },
      {
        action: 'deny',
        rule: 'cooldown',
        reason: 'publish time unknown; versions younger than 72h are held back (min_age 72h)',
      },
    ],
    [
      'an invalid date counts as unknown',
      { module: 'a.example', published: new Date(Number.NaN) },
      {
        action: 'deny',
        rule: 'cooldown',
        reason: 'publish time unknown; versions younger than 72h are held back (min_age 72h)',
      },
    ],
    [
      'a publish time in the future is young',
      { module: 'a.example', published: new Date(NOW + HOUR) },
      {
        action: 'deny',
        rule: 'cooldown',
        reason: 'versions published less than 72h ago are held back (min_age 72h)',
      },
    ],
    [
      'an explicit reason wins',
      { groups: ['prod'], module: 'github.com/x/y', published: new Date(NOW - 100 * HOUR) },
      { action: 'deny', rule: 'strict', reason: 'a week for prod' },
    ],
  ])('%s', (_name, q, want) => {
    expect(decide(policy, q)).toEqual(want);
  });
});

describe('decideModule', () => {
  const policy = load(`default: deny
rules:
  - { name: acme, subjects: ["*"], modules: ["github.com/acme"], action: allow }
  - { name: acme-secret, subjects: ["*"], modules: ["github.com/acme/secret"], action: deny, reason: "no" }
  - { name: old-lib, subjects: ["*"], modules: ["github.com/acme/lib@<1.0.0"], action: deny }
  - { name: some-tool, subjects: ["*"], modules: ["example.com/tool@>=2.0.0"], action: allow }
  - { name: cooldown, subjects: ["*"], modules: ["github.com/acme/fresh"], action: deny, min_age: 24h }
  - { name: gone, subjects: ["*"], modules: ["github.com/acme/gone"], action: deny, expires: 2026-01-01 }
  - { name: trial, subjects: ["*"], modules: ["github.com/acme/trial"], action: deny, mode: dry-run }
`);
  const ask = (module: string) =>
    policy.decideModule({ subject: { user: 'u', groups: [] }, module, now: NOW });
  it.each<[string, string, Decision]>([
    ['a path-wide deny', 'github.com/acme/secret/v2', { action: 'deny', rule: 'acme-secret', reason: 'no' }],
    ['a path-wide allow', 'github.com/acme/x', { action: 'allow', rule: 'acme', reason: undefined }],
    [
      'a version-scoped deny does not deny the path',
      'github.com/acme/lib',
      { action: 'allow', rule: 'acme', reason: undefined },
    ],
    [
      'a version-scoped allow leaves it to each version',
      'example.com/tool',
      { action: 'allow', rule: undefined, reason: 'versions are decided one by one' },
    ],
    [
      'nothing can allow: default deny',
      'example.com/other',
      { action: 'deny', rule: undefined, reason: 'no rule allows this module' },
    ],
    [
      'a min_age deny does not deny the path',
      'github.com/acme/fresh',
      { action: 'allow', rule: 'acme', reason: undefined },
    ],
    [
      'an expired deny does not deny the path',
      'github.com/acme/gone',
      { action: 'allow', rule: 'acme', reason: undefined },
    ],
    [
      'a dry-run path deny is reported',
      'github.com/acme/trial',
      {
        action: 'allow',
        rule: 'acme',
        reason: undefined,
        dryRun: { action: 'deny', rule: 'trial', reason: undefined },
      },
    ],
  ])('%s', (_name, module, want) => {
    expect(ask(module)).toEqual(want);
  });

  it('default allow with only version-scoped rules decides per version', () => {
    const p = load(
      'default: allow\nrules:\n  - { name: d, subjects: ["*"], modules: ["a.example@<1.0.0"], action: deny }\n',
    );
    expect(p.decideModule({ subject: { user: 'u', groups: [] }, module: 'a.example' })).toEqual({
      action: 'allow',
      rule: undefined,
      reason: 'versions are decided one by one',
    });
  });
});

describe('needsPublishTime', () => {
  const policy = load(`default: allow
rules:
  - { name: prod-cooldown, subjects: ["group:prod"], modules: ["github.com"], action: deny, min_age: 72h }
  - { name: old, subjects: ["*"], modules: ["example.com"], action: deny, min_age: 72h, expires: 2026-01-01 }
  - { name: trial, subjects: ["user:bob"], modules: ["trial.example"], action: deny, min_age: 1h, mode: dry-run }
  - { name: plain, subjects: ["*"], modules: ["*"], action: deny, reason: "x" }
`);
  it.each<[string, string, string[], string, boolean]>([
    ['a min_age rule for the subject and module', 'u', ['prod'], 'github.com/x', true],
    ['not for another subject', 'u', ['dev'], 'github.com/x', false],
    ['not for another module', 'u', ['prod'], 'gitlab.com/x', false],
    ['not once the rule expired', 'u', [], 'example.com/x', false],
    ['a dry-run min_age rule needs it too', 'bob', [], 'trial.example', true],
  ])('%s', (_name, user, groups, module, want) => {
    expect(policy.needsPublishTime({ user, groups }, module, NOW)).toBe(want);
  });

  it('is false for a policy without min_age', () => {
    expect(load('default: allow\n').needsPublishTime({ user: 'u', groups: [] }, 'a.example')).toBe(false);
  });
});

describe('explain', () => {
  const text = `default: deny
rules:
  - name: team-a
    subjects: ["group:team-a"]
    modules: ["git.corp.example/team-a"]
    action: allow
  - name: public
    subjects: ["*"]
    modules: ["golang.org/x"]
    action: allow
  - name: old-net
    subjects: ["*"]
    modules: ["golang.org/x/net@<0.23.0"]
    action: deny
    reason: CVE-2023-44487
  - name: bob-only
    subjects: ["user:bob"]
    modules: ["golang.org/x/net"]
    action: allow
  - name: cooldown
    subjects: ["*"]
    modules: ["golang.org"]
    action: deny
    min_age: 24h
  - name: gone
    subjects: ["*"]
    modules: ["golang.org/x/net"]
    action: allow
    expires: 2026-01-01
  - name: trial
    subjects: ["*"]
    modules: ["golang.org/x/net"]
    action: deny
    mode: dry-run
`;
  const subject = { user: 'alice', groups: ['team-b'] };
  const published = new Date(NOW - 48 * HOUR);

  it('names the deciding rule and says why the others did not decide', () => {
    const e = explain(text, {
      subject,
      module: 'golang.org/x/net',
      version: 'v0.22.0',
      publishedAt: published,
      now: NOW,
    });
    expect(e.decision).toEqual({ action: 'deny', rule: 'old-net', reason: 'CVE-2023-44487' });
    expect(e.decidedBy).toEqual({ rule: 'old-net', action: 'deny', line: 11, kind: 'decided', why: [] });
    expect(e.others.map((f) => [f.rule, f.kind, f.why])).toEqual([
      ['public', 'matched', ['matched, but deny overrides allow (rule "old-net")']],
      ['trial', 'matched', ['dry-run rule: matches, never enforced']],
      ['bob-only', 'near-miss', ['subjects user:bob do not name user alice (groups team-b)']],
      ['cooldown', 'near-miss', ['published 48h ago, not younger than min_age 24h']],
      ['gone', 'near-miss', ['expired (2026-01-01)']],
    ]);
  });

  it('reports a version outside the constraint and the dry-run verdict', () => {
    const e = explain(text, {
      subject,
      module: 'golang.org/x/net',
      version: 'v0.23.0',
      publishedAt: published,
      now: NOW,
    });
    expect(e.decision).toMatchObject({
      action: 'allow',
      rule: 'public',
      dryRun: { action: 'deny', rule: 'trial' },
    });
    const why = Object.fromEntries(e.others.map((f) => [f.rule, f.why.join('; ')]));
    expect(why['old-net']).toBe('version v0.23.0 does not satisfy golang.org/x/net@<0.23.0');
    expect(why.trial).toBe('dry-run rule: decides the dry-run verdict');
  });

  it('without a version explains the module-wide decision', () => {
    const e = explain(text, { subject, module: 'golang.org/x/net', now: NOW });
    expect(e.decision).toMatchObject({ action: 'allow', rule: 'public' });
    const why = Object.fromEntries(e.others.map((f) => [f.rule, f.why.join('; ')]));
    expect(why['old-net']).toBe('applies to some versions only (golang.org/x/net@<0.23.0); give a version');
    expect(why.cooldown).toBe('min_age 24h applies per version; give a version');
  });

  it('agrees with decide on the default', () => {
    const e = explain(text, { subject, module: 'example.com/x', version: 'v1.0.0', now: NOW });
    expect(e.decidedBy).toBeUndefined();
    expect(e.decision).toEqual({
      action: 'deny',
      rule: undefined,
      reason: 'no rule allows this module version',
    });
    expect(e.others).toEqual([]);
  });
});
