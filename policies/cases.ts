/**
 * Policy unit tests (`modgate policy test <cases.yaml>`): a table of
 * subject, module, version and the expected decision, which a security team
 * runs in its own CI against the policy it ships.
 */
import { z } from 'zod';
import { canonicalVersion, checkPath } from '../core/gomod/module.ts';
import { parseYamlWith, type YamlProblem } from '../core/yaml-validate.ts';
import { DEFAULT_RULE_NAME } from './schema.ts';
import type { CompiledPolicy, Decision } from './types.ts';

const time = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 time such as 2026-01-31T12:00:00Z' });
const action = z.enum(['allow', 'deny'], { error: 'must be allow or deny' });

const caseSchema = z.strictObject({
  name: z.string().min(1).optional(),
  user: z.string().min(1),
  groups: z.array(z.string().min(1)).default([]),
  module: z.string().refine(isModulePath, 'must be a valid module path (golang.org/x/mod CheckPath)'),
  /** Without a version, the module-wide decision (what @v/list and @latest see first). */
  version: z
    .string()
    .refine((v) => canonicalVersion(v) === v, 'must be a canonical version such as v1.2.3')
    .optional(),
  published: time.optional(),
  now: time.optional(),
  expect: action,
  /** The rule that must decide; `default` for the policy default. */
  rule: z.string().min(1).optional(),
  /** The would-be decision with dry-run rules and mode counted (Decision.dryRun, else the decision). */
  dry_run: action.optional(),
});

export const casesFileSchema = z.strictObject({
  /** The policy under test, relative to the cases file (the CLI's --policy overrides it). */
  policy: z.string().min(1).optional(),
  /** Evaluation time for every case without its own `now`; defaults to the current time. */
  now: time.optional(),
  cases: z.array(caseSchema).min(1, 'list at least one case'),
});

export type CasesFile = z.output<typeof casesFileSchema>;
export type PolicyCase = z.output<typeof caseSchema>;

export interface CaseResult {
  readonly index: number;
  readonly name: string;
  readonly line: number | undefined;
  readonly decision: Decision;
  /** What did not meet the expectation; empty when the case passed. */
  readonly failures: readonly string[];
}

/** Parses a cases file: the cases with their lines, or every problem with its line. */
export function parseCases(
  text: string,
):
  | { ok: true; file: CasesFile; lineOf: (i: number) => number | undefined }
  | { ok: false; problems: YamlProblem[] } {
  const parsed = parseYamlWith(text, casesFileSchema);
  if (!parsed.ok) return parsed;
  return { ok: true, file: parsed.value, lineOf: (i) => parsed.lineOf(['cases', i]) };
}

/** Runs every case against the policy. `now` is the default evaluation time (ms since epoch). */
export function runCases(
  policy: CompiledPolicy,
  file: CasesFile,
  lineOf: (i: number) => number | undefined,
  now = Date.now(),
): CaseResult[] {
  const fileNow = file.now === undefined ? now : Date.parse(file.now);
  return file.cases.map((c, index) => {
    const decision = decideCase(policy, c, fileNow);
    return {
      index,
      name: c.name ?? describeCase(c),
      line: lineOf(index),
      decision,
      failures: check(c, decision),
    };
  });
}

/** `alice (team-a) golang.org/x/net@v0.22.0`: how an unnamed case is shown. */
export function describeCase(c: PolicyCase): string {
  const groups = c.groups.length > 0 ? ` (${c.groups.join(', ')})` : '';
  return `${c.user}${groups} ${c.module}${c.version === undefined ? '' : `@${c.version}`}`;
}

function decideCase(policy: CompiledPolicy, c: PolicyCase, fileNow: number): Decision {
  const subject = { user: c.user, groups: c.groups };
  const now = c.now === undefined ? fileNow : Date.parse(c.now);
  if (c.version === undefined) return policy.decideModule({ subject, module: c.module, now });
  const publishedAt = c.published === undefined ? undefined : new Date(c.published);
  return policy.decide({ subject, module: c.module, version: c.version, publishedAt, now });
}

function check(c: PolicyCase, d: Decision): string[] {
  const failures: string[] = [];
  const by = d.rule === undefined ? 'the default' : `rule "${d.rule}"`;
  if (d.action !== c.expect) failures.push(`expected ${c.expect}, got ${d.action} by ${by}`);
  if (c.rule !== undefined) {
    const want = c.rule === DEFAULT_RULE_NAME ? undefined : c.rule;
    if (d.rule !== want) {
      failures.push(`expected ${want === undefined ? 'the default' : `rule "${want}"`} to decide, got ${by}`);
    }
  }
  const wouldBe = d.dryRun ?? d;
  if (c.dry_run !== undefined && wouldBe.action !== c.dry_run) {
    failures.push(`expected dry-run ${c.dry_run}, got ${wouldBe.action}`);
  }
  return failures;
}

function isModulePath(path: string): boolean {
  try {
    checkPath(path);
    return true;
  } catch {
    return false;
  }
}
