/**
 * The policy file format: the committed JSON Schema is the generated one,
 * every problem is reported at once with key path and line, defaults, the
 * content-hash version, and load warnings.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePolicy } from '../policies/load.ts';
import {
  ALWAYS,
  checkPolicyFile,
  parseExpiry,
  policyFileObject,
  renderPolicyJsonSchema,
} from '../policies/schema.ts';

const root = new URL('../', import.meta.url);

/** A valid rule to start broken variants from. */
const RULE = `  - name: r1
    subjects: ["*"]
    modules: ["example.com/m"]
    action: allow
`;

function problems(text: string) {
  const r = parsePolicy('p.yaml', text);
  if (r.ok) throw new Error('expected problems');
  return r.problems;
}

describe('policies/policy.schema.json', () => {
  it('is the schema generated from policies/schema.ts (run npm run gen:policy-schema)', async () => {
    const committed = await readFile(new URL('policies/policy.schema.json', root), 'utf8');
    expect(committed).toBe(renderPolicyJsonSchema());
  });

  it('rejects unknown keys and requires default, for editors too', () => {
    const schema = JSON.parse(renderPolicyJsonSchema());
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['default']);
    expect(schema.properties.rules.items.additionalProperties).toBe(false);
    expect(schema.properties.rules.items.required).toEqual(['name', 'subjects', 'modules', 'action']);
  });

  it('is referenced by the shipped policy', async () => {
    const text = await readFile(new URL('policies/policy.yaml', root), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./policy.schema.json');
  });
});

describe('policy validation', () => {
  const table: [string, string, { path: string; line: number | undefined; message: string }[]][] = [
    ['missing default', 'rules: []\n', [{ path: 'default', line: 1, message: 'required: allow or deny' }]],
    ['bad default', 'default: maybe\n', [{ path: 'default', line: 1, message: 'must be allow or deny' }]],
    [
      'bad mode',
      'default: deny\nmode: audit\n',
      [{ path: 'mode', line: 2, message: 'must be enforce or dry-run' }],
    ],
    [
      'unknown top-level key',
      'default: deny\nrulez: []\n',
      [{ path: 'rulez', line: 2, message: 'unknown key' }],
    ],
    [
      'unknown rule key',
      `default: deny\nrules:\n${RULE}    when: always\n`,
      [{ path: 'rules[0].when', line: 7, message: 'unknown key' }],
    ],
    [
      'bad subject',
      `default: deny\nrules:\n${RULE.replace('"*"', '"team-a"')}`,
      [{ path: 'rules[0].subjects[0]', line: 4, message: 'must be user:<name>, group:<name> or "*"' }],
    ],
    [
      'empty user name',
      `default: deny\nrules:\n${RULE.replace('"*"', '"user:"')}`,
      [{ path: 'rules[0].subjects[0]', line: 4, message: 'must be user:<name>, group:<name> or "*"' }],
    ],
    [
      'malformed glob',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'example.com/[a')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message: 'module pattern "example.com/[a" is not a valid glob (Go path.Match)',
        },
      ],
    ],
    [
      'comma-separated patterns',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'a.com,b.com')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message: 'one pattern per list entry (a comma is not a separator here)',
        },
      ],
    ],
    [
      'unsupported constraint syntax',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'example.com/m@~1.2')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message:
            '"~1.2" in "~1.2" is not a semantic version; use an exact version (v1.2.3) or comparators <, <=, >, >=, = separated by spaces, alternatives by ||',
        },
      ],
    ],
    [
      'empty constraint',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'example.com/m@')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message:
            'empty version constraint in ""; use an exact version (v1.2.3) or comparators <, <=, >, >=, = separated by spaces, alternatives by ||',
        },
      ],
    ],
    [
      'malformed toolchain bound',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'golang.org/toolchain@<go1.23.x')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message:
            '"go1.23.x" in "<go1.23.x" is not a Go toolchain version; write toolchain bounds as Go versions (go1.23.0, go1.21rc2), optionally with a platform (go1.23.0.linux-amd64)',
        },
      ],
    ],
    [
      'toolchain bound with a malformed platform',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'golang.org/toolchain@v0.0.1-go1.23.0.linux_amd64')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message:
            '"v0.0.1-go1.23.0.linux_amd64" in "v0.0.1-go1.23.0.linux_amd64" is not a Go toolchain version; write toolchain bounds as Go versions (go1.23.0, go1.21rc2), optionally with a platform (go1.23.0.linux-amd64)',
        },
      ],
    ],
    [
      'semver bound on golang.org/toolchain (it would order go1.21rc2 above go1.99.0)',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'golang.org/toolchain@<1.23.0')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message:
            'golang.org/toolchain versions (v0.0.1-go1.21.0.linux-amd64) do not order as semantic versions (go1.21rc2 would sort above go1.99.0); write toolchain bounds as Go versions (go1.23.0, go1.21rc2), optionally with a platform (go1.23.0.linux-amd64)',
        },
      ],
    ],
    [
      'toolchain bound on a module that is not golang.org/toolchain',
      `default: deny\nrules:\n${RULE.replace('example.com/m', 'golang.org/x/tools@<go1.23.0')}`,
      [
        {
          path: 'rules[0].modules[0]',
          line: 5,
          message:
            'Go toolchain bounds in "<go1.23.0" compare golang.org/toolchain versions, and "golang.org/x/tools" never matches golang.org/toolchain',
        },
      ],
    ],
    [
      'min_age on an allow rule',
      `default: deny\nrules:\n${RULE}    min_age: 72h\n`,
      [{ path: 'rules[0].min_age', line: 7, message: 'only deny rules take min_age' }],
    ],
    [
      'min_age in days',
      `default: deny\nrules:\n${RULE.replace('allow', 'deny')}    min_age: 3d\n`,
      [
        {
          path: 'rules[0].min_age',
          line: 7,
          message: 'must be a positive duration such as 72h, 90m or 1h30m',
        },
      ],
    ],
    [
      'expires on a day that does not exist',
      `default: deny\nrules:\n${RULE}    expires: 2026-02-30\n`,
      [
        {
          path: 'rules[0].expires',
          line: 7,
          message: 'must be a date (2026-12-31) or an RFC 3339 time (2026-12-31T18:00:00Z)',
        },
      ],
    ],
    [
      'expires without a time zone',
      `default: deny\nrules:\n${RULE}    expires: 2026-12-31T18:00:00\n`,
      [
        {
          path: 'rules[0].expires',
          line: 7,
          message: 'must be a date (2026-12-31) or an RFC 3339 time (2026-12-31T18:00:00Z)',
        },
      ],
    ],
    [
      'reason over two lines',
      `default: deny\nrules:\n${RULE}    reason: "one\\ntwo"\n`,
      [
        {
          path: 'rules[0].reason',
          line: 7,
          message: 'must be one line (it becomes the first line of the refusal go prints)',
        },
      ],
    ],
    [
      'rule named default',
      `default: deny\nrules:\n${RULE.replace('r1', 'default')}`,
      [{ path: 'rules[0].name', line: 3, message: '"default" is reserved for the policy default' }],
    ],
    [
      'no subjects',
      `default: deny\nrules:\n${RULE.replace('["*"]', '[]')}`,
      [{ path: 'rules[0].subjects', line: 4, message: 'list at least one subject' }],
    ],
    [
      'YAML syntax error',
      'default: deny\nrules:\n  - name: [unclosed\n',
      [
        {
          path: '',
          line: 4,
          message: 'Flow sequence in block collection must be sufficiently indented and end with a ]',
        },
      ],
    ],
  ];
  it.each(table)('%s', (_name, text, want) => {
    expect(problems(text)).toEqual(want);
  });

  it('reports every problem at once, duplicate names included', () => {
    const text = `default: deny\nrules:\n${RULE}${RULE.replace('"*"', '"nobody"')}${RULE.replace('allow', 'maybe')}`;
    expect(problems(text)).toEqual([
      { path: 'rules[1].subjects[0]', line: 8, message: 'must be user:<name>, group:<name> or "*"' },
      { path: 'rules[2].action', line: 14, message: 'must be allow or deny' },
      { path: 'rules[1].name', line: 7, message: 'duplicate rule name "r1" (first used by rules[0])' },
      { path: 'rules[2].name', line: 11, message: 'duplicate rule name "r1" (first used by rules[0])' },
    ]);
  });

  it('fills in defaults: mode enforce, no rules', () => {
    const r = parsePolicy('p.yaml', 'default: allow\n');
    expect(r.ok && { mode: r.policy.mode, rules: r.policy.ruleCount }).toEqual({ mode: 'enforce', rules: 0 });
  });

  it('leaves room for a routes: key (the object can be extended)', () => {
    const extended = policyFileObject
      .extend({ routes: z.array(z.string()).default([]) })
      .superRefine(checkPolicyFile, ALWAYS);
    expect(extended.parse({ default: 'deny', routes: ['x'] }).routes).toEqual(['x']);
  });
});

describe('expires', () => {
  it.each([
    ['2026-12-31', Date.UTC(2027, 0, 1)],
    ['2026-12-31T18:00:00Z', Date.UTC(2026, 11, 31, 18)],
    ['2026-12-31t18:00:00z', Date.UTC(2026, 11, 31, 18)],
    ['2026-12-31T18:00:00+02:00', Date.UTC(2026, 11, 31, 16)],
    ['2026-12-31T18:00:00.250Z', Date.UTC(2026, 11, 31, 18, 0, 0, 250)],
    ['2024-02-29', Date.UTC(2024, 2, 1)],
    ['2026-02-29', undefined],
    ['2026-12-31T24:00:00Z', undefined],
    ['31.12.2026', undefined],
    ['tomorrow', undefined],
  ])('%s → %s', (text, want) => {
    expect(parseExpiry(text)).toBe(want);
  });
});

describe('policy version and warnings', () => {
  it('is the first 12 hex digits of the SHA-256 of the content', () => {
    const text = 'default: allow\n';
    const r = parsePolicy('p.yaml', text);
    expect(r.ok && r.policy.version).toBe(createHash('sha256').update(text).digest('hex').slice(0, 12));
    const other = parsePolicy('p.yaml', 'default: allow # changed\n');
    expect(other.ok && other.policy.version).not.toBe(r.ok && r.policy.version);
  });

  it('the shipped policy loads without warnings', async () => {
    const text = await readFile(new URL('policies/policy.yaml', root), 'utf8');
    const r = parsePolicy('policies/policy.yaml', text);
    expect(r.ok && r.warnings).toEqual([]);
    expect(
      r.ok &&
        r.policy.decide({
          subject: { user: 'demo', groups: [] },
          module: 'example.com/hello',
          version: 'v1.1.0',
        }).action,
    ).toBe('allow');
  });

  it('warns about expired rules, shadowed rules, patterns that never match and dry-run mode', () => {
    const text = `default: deny
mode: dry-run
rules:
  - name: everything
    subjects: ["*"]
    modules: ["github.com/acme"]
    action: deny
  - name: alice-tool
    subjects: ["user:alice"]
    modules: ["github.com/acme/tool@v1.2.3"]
    action: allow
  - name: old-exception
    subjects: ["group:team-a"]
    modules: ["example.com/x"]
    action: allow
    expires: 2026-01-31
    mode: dry-run
  - name: typo
    subjects: ["*"]
    modules: ["https://github.com/foo", "corp/internal", "*.corp.example"]
    action: deny
`;
    const r = parsePolicy('p.yaml', text, { now: Date.UTC(2026, 1, 1) });
    expect(r.ok && r.warnings).toEqual([
      'p.yaml:2: warning: unsafe setting mode: dry-run (decisions are audited, nothing is blocked)',
      'p.yaml:8: warning: rule "alice-tool" never decides: rule "everything" denies everything it matches (deny overrides allow)',
      'p.yaml:16: warning: rule "old-exception" expired (2026-01-31) and no longer applies',
      'p.yaml:17: warning: rule "old-exception": mode dry-run is redundant, the whole policy is in dry-run mode',
      'p.yaml:20: warning: rule "typo": "https://github.com/foo" never matches: malformed import path "https://github.com/foo": double slash',
      'p.yaml:20: warning: rule "typo": "corp/internal" never matches: module paths start with a domain name; "corp" has no dot',
    ]);
    // The day before it expired, the exception is fine.
    const before = parsePolicy('p.yaml', text, { now: Date.UTC(2026, 0, 31, 23) });
    expect(before.ok && before.warnings.some((w) => w.includes('expired'))).toBe(false);
  });
});
