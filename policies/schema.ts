import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import { unsafe } from '../core/unsafe-settings.ts';
import { parseModulePattern } from './module-pattern.ts';

/**
 * The shape of a policy file (policies/policy.yaml, docs/policies.md "Policy
 * semantics"). Every object is strict: unknown keys are errors. Field checks
 * that need a parser (module patterns, constraints, times, durations) run here
 * so that every problem is reported with its line; policies/compile.ts then
 * turns the validated strings into matchers.
 */

/** Mode of the policy, and of a rule, when the file does not say. */
export const DEFAULT_MODE = 'enforce';
/** Rule name that `policy test` cases use for "the policy's default decided"; no rule may take it. */
export const DEFAULT_RULE_NAME = 'default';
/** Longest rule name (characters); it appears in the first line of a 403. */
const MAX_RULE_NAME = 100;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})[Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
/** Milliseconds in a day: a date-only `expires` lasts through the end of that day (UTC). */
const DAY_MS = 86_400_000;

/**
 * When an `expires` value ends the rule (ms since epoch): an RFC 3339 time as
 * written, a date at the end of that day in UTC. Undefined when malformed.
 */
export function parseExpiry(text: string): number | undefined {
  const dateOnly = DATE.test(text);
  const m = DATE_TIME.exec(text);
  if (!dateOnly && m === null) return undefined;
  const date = dateOnly ? text : m![1]!;
  const midnight = Date.parse(`${date}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over to March; a calendar date must round-trip.
  if (Number.isNaN(midnight) || new Date(midnight).toISOString().slice(0, 10) !== date) return undefined;
  if (dateOnly) return midnight + DAY_MS;
  const at = Date.parse(text.toUpperCase().replace(' ', 'T'));
  return Number.isNaN(at) ? undefined : at;
}

const action = z.enum(['allow', 'deny'], {
  error: (issue) => (issue.input === undefined ? 'required: allow or deny' : 'must be allow or deny'),
});
const mode = z.enum(['enforce', 'dry-run'], { error: 'must be enforce or dry-run' });

const subject = z
  .string()
  .regex(/^(?:\*|(?:user|group):\S(?:.*\S)?)$/, 'must be user:<name>, group:<name> or "*"')
  .meta({ description: 'user:<name>, group:<name>, or "*" for any authenticated identity' });

const modulePattern = z
  .string()
  .superRefine((text, ctx) => {
    const parsed = parseModulePattern(text);
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error });
  })
  .meta({
    description:
      'GOPRIVATE glob (matches the module and everything below it), optionally @<version constraint>: ' +
      '@v1.2.3, @<0.23.0, @>=1.0.0 <1.4.2, @<1.0.0 || >=2.0.0; golang.org/toolchain takes Go versions: @<go1.23.0',
  });

const ruleName = z
  .string()
  .max(MAX_RULE_NAME)
  .regex(/^[^\s"\\](?:[^"\\\p{Cc}]*[^\s"\\])?$/u, 'must be one line, without quotes or backslashes')
  .refine((n) => n !== DEFAULT_RULE_NAME, `"${DEFAULT_RULE_NAME}" is reserved for the policy default`);

const oneLine = z
  .string()
  .min(1)
  .regex(/^\P{Cc}*$/u, 'must be one line (it becomes the first line of the refusal go prints)');

const expires = z
  .string()
  .refine(
    (t) => parseExpiry(t) !== undefined,
    'must be a date (2026-12-31) or an RFC 3339 time (2026-12-31T18:00:00Z)',
  )
  .meta({ description: 'the rule stops applying after this date (end of day, UTC) or RFC 3339 time' });

const minAge = z
  .string()
  .refine((t) => (parseDuration(t) ?? 0) > 0, 'must be a positive duration such as 72h, 90m or 1h30m')
  .meta({ description: 'deny versions published less than this long ago (the .info Time); deny rules only' });

export const ruleSchema = z
  .strictObject({
    name: ruleName.meta({ description: 'unique; shown in refusals, audit records and explain' }),
    subjects: z.array(subject).min(1, 'list at least one subject'),
    modules: z.array(modulePattern).min(1, 'list at least one module pattern'),
    action,
    reason: oneLine.optional().meta({ description: 'shown to the user in the refusal' }),
    expires: expires.optional(),
    min_age: minAge.optional(),
    // Not unsafe: a rule in dry-run changes nothing that is enforced (a way to try a new deny).
    mode: mode.default(DEFAULT_MODE).meta({ description: 'dry-run: evaluated and audited, never enforced' }),
  })
  .superRefine((rule, ctx) => {
    if (rule.min_age !== undefined && rule.action !== 'deny') {
      ctx.addIssue({ code: 'custom', path: ['min_age'], message: 'only deny rules take min_age' });
    }
  });

/**
 * The policy file object without file-wide checks, for extension (a later
 * `routes:` key): `policyFileObject.extend({ routes: ... })`, then
 * `.superRefine(checkPolicyFile, ALWAYS)`.
 */
/** Which credential a route uses for whom: the first entry whose subjects match. */
const routeCredentialSchema = z.strictObject({
  subjects: z.array(subject).min(1, 'list at least one subject'),
  credential: z.string().min(1).meta({ description: 'a credential name from gateway.yaml `credentials`' }),
});

export const routeSchema = z.strictObject({
  name: ruleName.meta({ description: 'unique; shown in the audit record' }),
  modules: z
    .array(modulePattern.refine((p) => !p.includes('@'), 'routes match module paths, without versions'))
    .min(1, 'list at least one module pattern'),
  upstream: z.string().min(1).meta({ description: 'an upstream name from gateway.yaml `upstreams`' }),
  private: z.boolean().default(false).meta({
    description:
      'private module paths: matched before all other routes, never sent to another upstream (no fallback), sumdb lookups refused',
  }),
  credentials: z.array(routeCredentialSchema).default([]),
});

export const policyFileObject = z.strictObject({
  default: action.meta({ description: 'what happens when no rule matches' }),
  mode: mode.default(DEFAULT_MODE).meta({
    description: 'dry-run: decide and audit, never block',
    ...unsafe('dry-run', 'decisions are audited, nothing is blocked'),
  }),
  rules: z.array(ruleSchema).default([]),
  /** Module patterns → upstream and credential; first match wins (private routes first); unmatched → default_upstream. */
  routes: z.array(routeSchema).default([]),
});

/**
 * File-wide checks: rule names are unique. Runs even when other problems were
 * found (every problem is reported at once), so it reads the value defensively.
 */
export function checkPolicyFile(file: unknown, ctx: z.RefinementCtx): void {
  checkUniqueNames(file, 'rules', ctx);
  checkUniqueNames(file, 'routes', ctx);
}

function checkUniqueNames(file: unknown, key: 'rules' | 'routes', ctx: z.RefinementCtx): void {
  const rules = (file as Record<string, unknown> | undefined)?.[key];
  if (!Array.isArray(rules)) return;
  const first = new Map<string, number>();
  rules.forEach((rule: unknown, i) => {
    const name = (rule as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return;
    const seen = first.get(name);
    if (seen === undefined) first.set(name, i);
    else {
      ctx.addIssue({
        code: 'custom',
        path: [key, i, 'name'],
        message: `duplicate ${key === 'rules' ? 'rule' : 'route'} name "${name}" (first used by ${key}[${seen}])`,
      });
    }
  });
}

/** Runs a file-wide check even when fields had problems. */
export const ALWAYS = { when: () => true } as const;

export const policyFileSchema = policyFileObject.superRefine(checkPolicyFile, ALWAYS);

/** A validated policy file (defaults filled in). */
export type PolicyFile = z.output<typeof policyFileSchema>;
export type PolicyRule = z.output<typeof ruleSchema>;
export type PolicyRoute = z.output<typeof routeSchema>;

/** The JSON Schema committed as policies/policy.schema.json, for editors (`yaml-language-server`). */
export function renderPolicyJsonSchema(): string {
  const schema = z.toJSONSchema(policyFileSchema, { io: 'input', target: 'draft-2020-12' });
  const { $schema, ...rest } = schema;
  const doc = {
    $schema,
    title: 'modgate policy',
    description:
      'Who may fetch which Go module versions through modgate. Generated by scripts/gen-policy-schema.ts.',
    ...rest,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
