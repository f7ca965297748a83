/**
 * Why a policy decides what it decides (`modgate policy explain`): the
 * decision, the rule that made it, and for every rule that came close (it
 * names the subject or the module) why it did not decide.
 */
import { ModgateError } from '../core/errors.ts';
import { formatProblem } from '../core/yaml-validate.ts';
import { policyInternals } from './compile.ts';
import { type CompiledRule, subjectMatches, tooYoung, versionMatches } from './compiled-rule.ts';
import { parsePolicy } from './load.ts';
import type { Action, CompiledPolicy, Decision, Query, Verdict } from './types.ts';

/** A question for explain: without `version`, the module-wide decision (decideModule). */
export type ExplainQuery = Omit<Query, 'version'> & { readonly version?: string };

/** One rule's part in a decision. */
export interface RuleFinding {
  readonly rule: string;
  readonly action: Action;
  readonly line: number | undefined;
  /**
   * `decided`: this rule made the enforced decision; `matched`: it matched but
   * another rule decided (or it is dry-run); `near-miss`: it matched the
   * subject or the module, not everything.
   */
  readonly kind: 'decided' | 'matched' | 'near-miss';
  /** Why it did not decide (empty for `decided`). */
  readonly why: readonly string[];
}

export interface Explanation {
  readonly decision: Decision;
  readonly policy: {
    readonly file: string | undefined;
    readonly version: string;
    readonly mode: 'enforce' | 'dry-run';
    readonly default: Action;
  };
  /** The deciding rule, or undefined when the policy default (or dry-run mode) decided. */
  readonly decidedBy: RuleFinding | undefined;
  /** Rules that matched but did not decide, then near misses, in file order. */
  readonly others: readonly RuleFinding[];
}

/**
 * Explains the decision for a query. `policy` is a compiled policy or the text
 * of a policy file (an invalid one throws ModgateError('config.invalid')).
 */
export function explain(policy: CompiledPolicy | string, query: ExplainQuery): Explanation {
  const compiled = typeof policy === 'string' ? compileSource(policy) : policy;
  const internals = policyInternals(compiled);
  if (internals === undefined)
    throw new ModgateError('internal', 'explain needs a policy built by policies/load.ts');
  const now = query.now ?? Date.now();
  const withNow = { ...query, now };
  const { version } = query;
  const decision =
    version === undefined ? compiled.decideModule(withNow) : compiled.decide({ ...withNow, version });
  // What the rules decide with dry-run rules counted, whatever the policy mode.
  const real = (
    version === undefined ? internals.moduleVerdicts(withNow) : internals.verdicts({ ...withNow, version })
  ).all;
  const publishedMs = query.publishedAt instanceof Date ? query.publishedAt.getTime() : Number.NaN;
  let decidedBy: RuleFinding | undefined;
  const others: RuleFinding[] = [];
  for (const rule of internals.rules) {
    const finding = judge(rule, query, version, publishedMs, now, decision, real);
    if (finding === undefined) continue;
    if (finding.kind === 'decided') decidedBy = finding;
    else others.push(finding);
  }
  others.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'matched' ? -1 : 1));
  return {
    decision,
    policy: {
      file: internals.file,
      version: compiled.version,
      mode: compiled.mode,
      default: internals.default,
    },
    decidedBy,
    others,
  };
}

function compileSource(text: string): CompiledPolicy {
  const parsed = parsePolicy('<policy>', text);
  if (parsed.ok) return parsed.policy;
  const lines = parsed.problems.map((p) => formatProblem('<policy>', p));
  throw new ModgateError('config.invalid', `policy: ${lines.length} problem(s)\n${lines.join('\n')}`);
}

/**
 * One rule's finding, or undefined when the rule has nothing to do with the
 * query: it matches neither the module nor names the user or one of their groups.
 */
function judge(
  rule: CompiledRule,
  query: ExplainQuery,
  version: string | undefined,
  publishedMs: number,
  now: number,
  decision: Decision,
  real: Verdict,
): RuleFinding | undefined {
  const subjectOk = subjectMatches(rule, query.subject);
  const onPath = rule.patterns.filter((p) => p.matchesPath(query.module));
  // A rule for everyone ("*") on another module is no near miss: it would list every such rule.
  const namesSubject = subjectOk && subjectMatches({ ...rule, anySubject: false }, query.subject);
  if (onPath.length === 0 && !namesSubject) return undefined;
  const why: string[] = [];
  if (!subjectOk) {
    const groups =
      query.subject.groups.length === 0 ? 'no groups' : `groups ${query.subject.groups.join(', ')}`;
    why.push(
      `subjects ${rule.source.subjects.join(', ')} do not name user ${query.subject.user} (${groups})`,
    );
  }
  if (onPath.length === 0) {
    why.push(`module ${query.module} matches none of ${rule.patterns.map((p) => p.text).join(', ')}`);
  } else if (version !== undefined && !onPath.some((p) => versionMatches(p, query.module, version))) {
    why.push(`version ${version} does not satisfy ${onPath.map((p) => p.text).join(', ')}`);
  } else if (version === undefined && onPath.every((p) => p.constraint !== undefined)) {
    why.push(`applies to some versions only (${onPath.map((p) => p.text).join(', ')}); give a version`);
  }
  if (rule.minAgeMs !== undefined) {
    if (version === undefined) why.push(`min_age ${rule.source.min_age} applies per version; give a version`);
    else if (!tooYoung(rule, publishedMs, now)) {
      why.push(
        `published ${formatAge(now - publishedMs)} ago, not younger than min_age ${rule.source.min_age}`,
      );
    }
  }
  if (rule.expiresAt <= now) why.push(`expired (${rule.source.expires})`);
  const base = { rule: rule.name, action: rule.action, line: rule.line };
  if (why.length > 0) return { ...base, kind: 'near-miss', why };
  if (rule.name === decision.rule) return { ...base, kind: 'decided', why };
  if (rule.name === real.rule) {
    const role = rule.dryRun
      ? 'dry-run rule: decides the dry-run verdict'
      : 'would decide; the policy is in dry-run mode';
    return { ...base, kind: 'matched', why: [role] };
  }
  if (rule.dryRun) return { ...base, kind: 'matched', why: ['dry-run rule: matches, never enforced'] };
  // The rule that won instead: the enforced one, or in dry-run mode the one that would have.
  const winner = decision.rule === undefined ? real : decision;
  const over =
    rule.action === 'allow' && winner.action === 'deny'
      ? `deny overrides allow (rule "${winner.rule}")`
      : `rule "${winner.rule}" comes first`;
  return { ...base, kind: 'matched', why: [`matched, but ${over}`] };
}

/** `100h`, `3h20m`, `45m`, `30s`: an age for humans (negative ages read as 0s). */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`;
  return m > 0 ? `${m}m` : `${s}s`;
}

/** The explanation as `modgate policy explain` prints it. */
export function renderExplanation(e: Explanation, target: string): string {
  const where = (f: RuleFinding) => {
    const file = e.policy.file ?? 'policy';
    return f.line === undefined ? file : `${file}:${f.line}`;
  };
  const reason = (r: string | undefined) => (r ? `: ${r}` : '');
  const d = e.decision;
  const lines = [`${target}: ${d.action}`];
  if (e.decidedBy !== undefined) {
    lines.push(`  decided by rule "${e.decidedBy.rule}" (${where(e.decidedBy)})${reason(d.reason)}`);
  } else {
    const by =
      e.policy.mode === 'dry-run' ? 'the policy mode (dry-run)' : `the policy default (${e.policy.default})`;
    lines.push(`  decided by ${by}${reason(d.reason)}`);
  }
  if (d.dryRun !== undefined) {
    const by = d.dryRun.rule === undefined ? 'the policy default' : `rule "${d.dryRun.rule}"`;
    lines.push(`  dry-run: would ${d.dryRun.action} by ${by}${reason(d.dryRun.reason)}`);
  }
  lines.push(`  policy ${e.policy.version} (${e.policy.mode}, default ${e.policy.default})`);
  if (e.others.length > 0) lines.push('other rules:');
  for (const f of e.others) {
    lines.push(`  rule "${f.rule}" (${where(f)}, ${f.action}): ${f.why.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
