/**
 * Toolchain rules (docs/policies.md "Go toolchains"): bounds on
 * golang.org/toolchain written as Go versions decide as the go command orders
 * toolchains, not as semver does; the section's examples decide what the page
 * says they decide.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareGoVersions } from '../core/gomod/gover.ts';
import * as semver from '../core/gomod/semver.ts';
import { TOOLCHAIN_MODULE } from '../core/gomod/toolchain.ts';
import { parsePolicy } from '../policies/load.ts';
import type { CompiledPolicy, Decision } from '../policies/types.ts';
import {
  holds,
  type Operator,
  parseConstraint,
  satisfies,
  type VersionConstraint,
} from '../policies/version-constraint.ts';
import { docsSection, yamlBlocks } from './support/docs.ts';
import { toolchainVersion } from './support/toolchain.ts';
import { goVersionArbitrary } from './support/version-arbitrary.ts';

const SUBJECT = { user: 'alice', groups: [] };

function load(text: string): CompiledPolicy {
  const r = parsePolicy('p.yaml', text);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}

/** `allow`/`deny`, with `:rule` when a rule decided. */
function decideShort(policy: CompiledPolicy, version: string, module = TOOLCHAIN_MODULE): string {
  const d: Decision = policy.decide({ subject: SUBJECT, module, version });
  return d.rule === undefined ? d.action : `${d.action}:${d.rule}`;
}

function constraint(text: string): VersionConstraint {
  const c = parseConstraint(text);
  if ('error' in c) throw new Error(c.error);
  return c;
}

const linux = (name: string) => toolchainVersion(name, 'linux-amd64');

describe('toolchain bounds', () => {
  const policy = load(`default: allow
rules:
  - { name: floor, subjects: ["*"], modules: ["golang.org/toolchain@<go1.23.0"], action: deny }
  - { name: module-form, subjects: ["*"], modules: ["golang.org/toolchain@>=v0.0.1-go1.30rc1 <v0.0.1-go1.30.0"], action: deny }
  - { name: windows, subjects: ["*"], modules: ["golang.org/toolchain@<go1.24.0.windows-amd64"], action: deny }
`);
  it.each<[string, string, string]>([
    [
      'a release candidate of the floor is below it (semver would put it above)',
      linux('go1.23rc2'),
      'deny:floor',
    ],
    ['the floor itself', linux('go1.23.0'), 'allow'],
    ['an old go with one-digit minor', linux('go1.9.2'), 'deny:floor'],
    ['go1.22 (the language version, before go1.22rc1)', linux('go1.22'), 'deny:floor'],
    ['a newer release', linux('go1.99.0'), 'allow'],
    ['the module-version form: a release candidate in range', linux('go1.30rc2'), 'deny:module-form'],
    ['the module-version form: the release is outside', linux('go1.30.0'), 'allow'],
    [
      'a platform bound holds for that platform',
      toolchainVersion('go1.23.4', 'windows-amd64'),
      'deny:windows',
    ],
    ['a platform bound does not hold for another', toolchainVersion('go1.23.4', 'linux-arm64'), 'allow'],
    ['a custom -suffix toolchain counts as its Go version', linux('go1.21.1-bigcorp'), 'deny:floor'],
    ['a version of another form satisfies no toolchain bound', 'v1.0.0', 'allow'],
  ])('%s: %s → %s', (_why, version, want) => {
    expect(decideShort(policy, version)).toBe(want);
  });

  it('never apply to another module, even under a glob that matches both', () => {
    const glob = load(`default: allow
rules:
  - { name: old, subjects: ["*"], modules: ["golang.org/*@<go1.23.0"], action: deny }
`);
    expect(decideShort(glob, linux('go1.22.0'))).toBe('deny:old');
    expect(decideShort(glob, 'v0.0.1-go1.22.0.linux-amd64', 'golang.org/x/tools')).toBe('allow');
    expect(decideShort(glob, 'v0.1.0', 'golang.org/x/tools')).toBe('allow');
  });

  const OPS: Operator[] = ['<', '<=', '>', '>=', '='];

  it('hold exactly when gover.Compare says so, in both written forms', () => {
    const valid = goVersionArbitrary.filter(
      (v) => compareGoVersions(v, v) === 0 && compareGoVersions(v, '') > 0,
    );
    fc.assert(
      fc.property(valid, valid, fc.constantFrom(...OPS), (a, b, op) => {
        const version = linux(`go${a}`);
        fc.pre(semver.isValid(version));
        const want = holds(op, compareGoVersions(a, b));
        expect(satisfies(constraint(`${op}go${b}`), version, TOOLCHAIN_MODULE)).toBe(want);
        expect(satisfies(constraint(`${op}v0.0.1-go${b}`), version, TOOLCHAIN_MODULE)).toBe(want);
        expect(satisfies(constraint(`${op}go${b}.linux-amd64`), version, TOOLCHAIN_MODULE)).toBe(want);
        expect(satisfies(constraint(`${op}go${b}.darwin-arm64`), version, TOOLCHAIN_MODULE)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

const toolchainSection = () => docsSection('policies.md', 'Go toolchains');

describe('docs/policies.md "Go toolchains"', () => {
  it('the first example decides every row of the table as the page says', async () => {
    const section = await toolchainSection();
    const [example] = yamlBlocks(section);
    const rows = [...section.matchAll(/^\| `(v0\.0\.1-[^`]+)` +\| (allow|deny by `([^`]+)`) +\|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(7);
    const policy = load(example!);
    for (const [, version, decision, rule] of rows) {
      expect([version, decideShort(policy, version!)]).toEqual([
        version,
        rule === undefined ? decision : `deny:${rule}`,
      ]);
    }
  });

  it('the second example refuses every toolchain, lists included', async () => {
    const blocks = yamlBlocks(await toolchainSection());
    expect(blocks).toHaveLength(2);
    const policy = load(blocks[1]!);
    expect(decideShort(policy, linux('go1.99.0'))).toBe('deny:no-toolchain-downloads');
    expect(policy.decideModule({ subject: SUBJECT, module: TOOLCHAIN_MODULE })).toMatchObject({
      action: 'deny',
      reason: 'toolchains come from the build image; set GOTOOLCHAIN=local',
    });
    expect(decideShort(policy, 'v1.0.0', 'example.com/m')).toBe('allow');
  });

  it('the prose examples mean what it says: go1.23.0 and v0.0.1-go1.23.0 are one bound; a platform narrows it', () => {
    for (const version of [linux('go1.22.9'), linux('go1.23rc1'), linux('go1.23.0'), linux('go1.24.1')]) {
      expect(satisfies(constraint('<go1.23.0'), version, TOOLCHAIN_MODULE)).toBe(
        satisfies(constraint('<v0.0.1-go1.23.0'), version, TOOLCHAIN_MODULE),
      );
    }
    expect(
      satisfies(
        constraint('<go1.24.0.windows-amd64'),
        toolchainVersion('go1.23.5', 'windows-amd64'),
        TOOLCHAIN_MODULE,
      ),
    ).toBe(true);
    expect(satisfies(constraint('<go1.24.0.windows-amd64'), linux('go1.23.5'), TOOLCHAIN_MODULE)).toBe(false);
    expect(compareGoVersions('1.21rc2', '1.21.0')).toBe(-1);
    expect(compareGoVersions('1.21.1', '1.22rc1')).toBe(-1);
    // What the page says semver would do.
    expect(semver.compare(linux('go1.21rc2'), linux('go1.99.0'))).toBe(1);
  });
});
