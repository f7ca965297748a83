/**
 * `modgate policy check | explain | test`, called in-process with captured
 * output: broken files with their lines, explain output, cases that pass and
 * fail with their exit statuses, and the shipped example policy and cases.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyCommand } from '../bin/commands/policy.ts';
import { policyVersion } from '../policies/load.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await policyCommand(argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

const POLICY = `default: deny
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
  - name: cooldown
    subjects: ["*"]
    modules: ["golang.org/x/crypto"]
    action: deny
    min_age: 72h
  - name: trial
    subjects: ["*"]
    modules: ["golang.org/x/net"]
    action: deny
    mode: dry-run
`;

describe('modgate policy', () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-policy-cli-'));
    await writeFile(file('policy.yaml'), POLICY);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('check', () => {
    it('accepts the shipped policy (the default file)', async () => {
      const { code, out } = await run('check');
      expect(code).toBe(0);
      expect(out).toMatch(/^policies\/policy\.yaml: ok: 1 rule, mode enforce, version [0-9a-f]{12}\n$/);
    });

    it('prints every error as file:line: path: message and exits 1', async () => {
      const broken = `default: deny
rules:
  - name: a
    subjects: ["team-a"]
    modules: ["github.com/[x", "golang.org/x/net@~0.23"]
    action: allow
    min_age: 72h
  - name: a
    subjects: ["*"]
    modules: ["*"]
    action: deny
    expire: 2026-01-01
`;
      await writeFile(file('broken.yaml'), broken);
      const { code, out } = await run('check', file('broken.yaml'));
      expect(code).toBe(1);
      const f = file('broken.yaml');
      expect(out.split('\n')).toEqual([
        `${f}:4: rules[0].subjects[0]: must be user:<name>, group:<name> or "*"`,
        `${f}:5: rules[0].modules[0]: module pattern "github.com/[x" is not a valid glob (Go path.Match)`,
        `${f}:5: rules[0].modules[1]: "~0.23" in "~0.23" is not a semantic version; use an exact version (v1.2.3) or comparators <, <=, >, >=, = separated by spaces, alternatives by ||`,
        `${f}:7: rules[0].min_age: only deny rules take min_age`,
        `${f}:8: rules[1].name: duplicate rule name "a" (first used by rules[0])`,
        `${f}:12: rules[1].expire: unknown key`,
        `${f}: 6 errors`,
        '',
      ]);
    });

    it('prints warnings with their lines and still exits 0', async () => {
      const text = `default: allow
rules:
  - name: old
    subjects: ["user:alice"]
    modules: ["example.com/x"]
    action: deny
    expires: 2020-01-01
`;
      await writeFile(file('warn.yaml'), text);
      const { code, out } = await run('check', file('warn.yaml'));
      expect(code).toBe(0);
      expect(out).toBe(
        `${file('warn.yaml')}:7: warning: rule "old" expired (2020-01-01) and no longer applies\n` +
          `${file('warn.yaml')}: ok: 1 rule, mode enforce, version ${policyVersion(text)}, 1 warning\n`,
      );
    });

    it('reports a YAML syntax error with its line', async () => {
      await writeFile(file('syntax.yaml'), 'default: deny\nrules:\n  - name: "unclosed\n');
      const { code, out } = await run('check', file('syntax.yaml'));
      expect(code).toBe(1);
      // The yaml library places an unclosed quote at the end of the input.
      expect(out).toMatch(new RegExp(`^${file('syntax.yaml')}:4: \\(document\\): Missing closing "quote`));
    });

    it('exits 1 for a file that cannot be read', async () => {
      const { code, out } = await run('check', file('missing.yaml'));
      expect(code).toBe(1);
      expect(out).toBe(
        `${file('missing.yaml')}: (document): cannot read the policy file: ENOENT\n${file('missing.yaml')}: 1 error\n`,
      );
    });
  });

  describe('explain', () => {
    it('prints the decision, the deciding rule with its reason, and why others did not decide', async () => {
      const { code, out } = await run(
        'explain',
        '--policy',
        file('policy.yaml'),
        '--user',
        'alice',
        '--group',
        'team-b',
        'golang.org/x/net@v0.22.0',
      );
      expect(code).toBe(0);
      const f = file('policy.yaml');
      expect(out).toBe(
        [
          'golang.org/x/net@v0.22.0: deny',
          `  decided by rule "old-net" (${f}:11): CVE-2023-44487`,
          `  policy ${policyVersion(POLICY)} (enforce, default deny)`,
          'other rules:',
          `  rule "public" (${f}:7, allow): matched, but deny overrides allow (rule "old-net")`,
          `  rule "trial" (${f}:21, deny): dry-run rule: matches, never enforced`,
          '',
        ].join('\n'),
      );
    });

    it('shows near misses: another subject, another version, an old enough release, the dry-run verdict', async () => {
      const { out } = await run(
        'explain',
        '--policy',
        file('policy.yaml'),
        '--user',
        'alice',
        '--group',
        'team-a',
        'golang.org/x/net@v0.24.0',
      );
      const f = file('policy.yaml');
      expect(out).toBe(
        [
          'golang.org/x/net@v0.24.0: allow',
          `  decided by rule "public" (${f}:7)`,
          '  dry-run: would deny by rule "trial"',
          `  policy ${policyVersion(POLICY)} (enforce, default deny)`,
          'other rules:',
          `  rule "trial" (${f}:21, deny): dry-run rule: decides the dry-run verdict`,
          `  rule "team-a" (${f}:3, allow): module golang.org/x/net matches none of git.corp.example/team-a`,
          `  rule "old-net" (${f}:11, deny): version v0.24.0 does not satisfy golang.org/x/net@<0.23.0`,
          '',
        ].join('\n'),
      );
      const aged = await run(
        'explain',
        '--policy',
        file('policy.yaml'),
        '--user',
        'bob',
        '--published',
        '2026-01-01T00:00:00Z',
        '--now',
        '2026-01-05T12:00:00Z',
        'golang.org/x/crypto@v0.30.0',
      );
      expect(aged.out).toContain(
        `rule "cooldown" (${f}:16, deny): published 108h ago, not younger than min_age 72h`,
      );
      const fresh = await run(
        'explain',
        '--policy',
        file('policy.yaml'),
        '--user',
        'bob',
        'golang.org/x/crypto@v0.30.0',
      );
      expect(fresh.out.split('\n').slice(0, 2)).toEqual([
        'golang.org/x/crypto@v0.30.0: deny',
        `  decided by rule "cooldown" (${f}:16): publish time unknown; versions younger than 72h are held back (min_age 72h)`,
      ]);
    });

    it('without a version explains the module-wide decision', async () => {
      const { out } = await run(
        'explain',
        '--policy',
        file('policy.yaml'),
        '--user',
        'bob',
        'example.com/other',
      );
      expect(out.split('\n').slice(0, 2)).toEqual([
        'example.com/other: deny',
        '  decided by the policy default (deny): no rule allows this module',
      ]);
    });

    it.each([
      [['explain', 'golang.org/x/net'], 'explain needs --user'],
      [['explain', '--user', 'a'], 'explain takes one <module>[@version]'],
      [
        ['explain', '--user', 'a', 'golang.org/x/net@v0.22'],
        '"v0.22" is not a canonical version such as v1.2.3 (did you mean v0.22.0?)',
      ],
      [
        ['explain', '--user', 'a', 'Foo/bar'],
        'malformed module path "Foo/bar": missing dot in first path element',
      ],
      [
        ['explain', '--user', 'a', '--published', 'yesterday', 'a.example'],
        '--published must be an RFC 3339 time',
      ],
      [['explain', '--user', 'a', '--bogus', 'a.example'], "Unknown option '--bogus'"],
      [['frobnicate'], 'unknown subcommand "frobnicate"'],
      [[], 'missing subcommand'],
    ])('%j is a usage error (exit 2)', async (argv, message) => {
      const { code, err } = await run(...argv);
      expect(code).toBe(2);
      expect(err).toContain(message);
      expect(err).toContain('usage: modgate policy check [file]');
    });
  });

  describe('test', () => {
    it('runs the shipped example cases against the shipped policy', async () => {
      const { code, out } = await run('test', 'policies/policy.example-cases.yaml');
      expect(code).toBe(0);
      expect(out).toMatch(
        /^5 cases: 5 passed, 0 failed \(policy policies\/policy\.yaml, version [0-9a-f]{12}\)\n$/,
      );
    });

    it('prints one line per failing case and exits 1', async () => {
      const cases = `policy: policy.yaml
now: 2026-06-01T00:00:00Z
cases:
  - name: old net is denied
    user: alice
    module: golang.org/x/net
    version: v0.22.0
    expect: deny
    rule: old-net
  - name: wrong expectation
    user: alice
    module: golang.org/x/net
    version: v0.24.0
    expect: deny
  - name: wrong rule
    user: bob
    groups: [team-a]
    module: git.corp.example/team-a/svc
    version: v1.0.0
    expect: allow
    rule: public
  - user: carol
    module: example.com/x
    expect: deny
    rule: default
  - name: the trial would deny
    user: carol
    module: golang.org/x/net
    version: v0.30.0
    expect: allow
    dry_run: allow
  - name: an old crypto passes the cooldown
    user: carol
    module: golang.org/x/crypto
    version: v0.30.0
    published: 2026-05-01T00:00:00Z
    expect: allow
`;
      await writeFile(file('cases.yaml'), cases);
      const { code, out } = await run('test', file('cases.yaml'));
      expect(code).toBe(1);
      const c = file('cases.yaml');
      expect(out).toBe(
        [
          `${c}:10: FAIL wrong expectation: expected deny, got allow by rule "public"`,
          `${c}:15: FAIL wrong rule: expected rule "public" to decide, got rule "team-a"`,
          `${c}:26: FAIL the trial would deny: expected dry-run allow, got deny`,
          `6 cases: 3 passed, 3 failed (policy ${join(dir, 'policy.yaml')}, version ${policyVersion(POLICY)})`,
          '',
        ].join('\n'),
      );
    });

    it('--policy overrides the file, --verbose prints passing cases', async () => {
      await writeFile(file('allow-all.yaml'), 'default: allow\n');
      await writeFile(
        file('one.yaml'),
        'policy: does-not-exist.yaml\ncases:\n  - { user: a, module: example.com/x, version: v1.0.0, expect: allow }\n',
      );
      const { code, out } = await run('test', '--policy', file('allow-all.yaml'), '-v', file('one.yaml'));
      expect(code).toBe(0);
      expect(out.split('\n')[0]).toBe(`${file('one.yaml')}:3: ok a example.com/x@v1.0.0`);
    });

    it('reports a broken cases file with lines (exit 1)', async () => {
      await writeFile(
        file('bad-cases.yaml'),
        'cases:\n  - user: a\n    module: not a module\n    version: v1.2\n    expect: maybe\n    extra: 1\n',
      );
      const { code, out } = await run('test', '--policy', file('policy.yaml'), file('bad-cases.yaml'));
      expect(code).toBe(1);
      const c = file('bad-cases.yaml');
      expect(out.split('\n')).toEqual([
        `${c}:3: cases[0].module: must be a valid module path (golang.org/x/mod CheckPath)`,
        `${c}:4: cases[0].version: must be a canonical version such as v1.2.3`,
        `${c}:5: cases[0].expect: must be allow or deny`,
        `${c}:6: cases[0].extra: unknown key`,
        `${c}: 4 errors`,
        '',
      ]);
    });

    it('exits 1 when the policy under test is broken', async () => {
      await writeFile(file('bad-policy.yaml'), 'default: sometimes\n');
      const { code, out } = await run(
        'test',
        '--policy',
        file('bad-policy.yaml'),
        'policies/policy.example-cases.yaml',
      );
      expect(code).toBe(1);
      expect(out).toBe(
        `${file('bad-policy.yaml')}:1: default: must be allow or deny\n${file('bad-policy.yaml')}: 1 error\n`,
      );
    });
  });
});
