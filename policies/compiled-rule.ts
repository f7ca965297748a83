/**
 * One policy rule compiled for evaluation: subjects as sets, patterns as
 * matchers, times as numbers, and its verdicts built once so that a decision
 * allocates nothing for the common case.
 */
import { parseDuration } from '../core/duration.ts';
import type { Principal } from '../core/principal.ts';
import { type ModulePattern, parseModulePattern } from './module-pattern.ts';
import { type PolicyRule, parseExpiry } from './schema.ts';
import { compileSubjects, inSubjectSet, type SubjectSet } from './subjects.ts';
import type { Action, Verdict } from './types.ts';
import { satisfies } from './version-constraint.ts';

export interface CompiledRule extends SubjectSet {
  /** Position in the file: among matching rules, the first deny (else the first allow) decides. */
  readonly index: number;
  readonly name: string;
  readonly action: Action;
  readonly dryRun: boolean;
  readonly patterns: readonly ModulePattern[];
  /** When the rule stops applying (ms since epoch); Infinity without `expires`. */
  readonly expiresAt: number;
  /** `min_age` in ms, or undefined. */
  readonly minAgeMs: number | undefined;
  /** The verdict when this rule decides (for `min_age` rules: the version is too young). */
  readonly verdict: Verdict;
  /** For `min_age` rules: the verdict when the publish time is unknown. */
  readonly unknownAgeVerdict: Verdict;
  /** The rule as validated from the file. */
  readonly source: PolicyRule;
  /** 1-based line of the rule in the file, when known. */
  readonly line: number | undefined;
}

/** Compiles a validated rule; its fields were checked by the schema, so parsing cannot fail here. */
export function compileRule(source: PolicyRule, index: number, line: number | undefined): CompiledRule {
  const patterns = source.modules.map((text) => {
    const p = parseModulePattern(text);
    if ('error' in p) throw new TypeError(`unvalidated module pattern ${text}: ${p.error}`);
    return p;
  });
  const minAgeMs = source.min_age === undefined ? undefined : parseDuration(source.min_age);
  const verdict = (reason: string | undefined): Verdict =>
    Object.freeze({ action: source.action, rule: source.name, reason });
  const young = `versions published less than ${source.min_age} ago are held back (min_age ${source.min_age})`;
  const unknown = `publish time unknown; versions younger than ${source.min_age} are held back (min_age ${source.min_age})`;
  return {
    index,
    name: source.name,
    action: source.action,
    dryRun: source.mode === 'dry-run',
    ...compileSubjects(source.subjects),
    patterns,
    expiresAt: source.expires === undefined ? Number.POSITIVE_INFINITY : (parseExpiry(source.expires) ?? 0),
    minAgeMs,
    verdict: verdict(source.reason ?? (minAgeMs === undefined ? undefined : young)),
    unknownAgeVerdict: verdict(source.reason ?? unknown),
    source,
    line,
  };
}

/** Whether the rule names this subject: `*`, the user, or one of the groups. */
export function subjectMatches(rule: CompiledRule, subject: Principal): boolean {
  return inSubjectSet(rule, subject);
}

/** Whether the pattern's constraint (if any) admits the version of the module. */
export function versionMatches(pattern: ModulePattern, module: string, version: string): boolean {
  return pattern.constraint === undefined || satisfies(pattern.constraint, version, module);
}

/**
 * Whether a `min_age` rule holds the version back: published less than
 * `min_age` before `now`, or publish time unknown (fail closed). True for
 * rules without `min_age`.
 */
export function tooYoung(rule: CompiledRule, publishedMs: number, now: number): boolean {
  return rule.minAgeMs === undefined || !(now - publishedMs >= rule.minAgeMs);
}

/** The verdict of a deciding rule, with the cooldown reason that fits the publish time. */
export function verdictOf(rule: CompiledRule, publishedMs: number): Verdict {
  return rule.minAgeMs !== undefined && Number.isNaN(publishedMs) ? rule.unknownAgeVerdict : rule.verdict;
}
