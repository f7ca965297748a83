/**
 * Compiles a validated policy file into a {@link CompiledPolicy}: rules become
 * sets and matchers, indexed by module path (policies/rule-index.ts), once per
 * load. Decisions follow docs/policies.md "Matching": among the matching,
 * unexpired rules the first deny in file order decides, else the first allow,
 * else the policy `default`.
 */

import type { Principal } from '../core/principal.ts';
import {
  type CompiledRule,
  compileRule,
  subjectMatches,
  tooYoung,
  verdictOf,
  versionMatches,
} from './compiled-rule.ts';
import { moduleVerdict } from './module-verdict.ts';
import { compileRoutes } from './routes.ts';
import { buildRuleIndex, type IndexEntry } from './rule-index.ts';
import type { PolicyFile } from './schema.ts';
import type { Action, CompiledPolicy, Decision, Query, Verdict } from './types.ts';

/** What the policy enforces in `mode: dry-run`: everything is allowed, the real evaluation goes to `dryRun`. */
export const DRY_RUN_VERDICT: Verdict = Object.freeze({
  action: 'allow',
  rule: undefined,
  reason: 'policy in dry-run mode',
});
/** What a decision falls back to if evaluation ever throws: deny (fail closed). */
export const FAILED_VERDICT: Verdict = Object.freeze({
  action: 'deny',
  rule: undefined,
  reason: 'policy evaluation failed',
});

/** What policies/explain.ts needs beyond the CompiledPolicy contract. */
export interface PolicyInternals {
  readonly file: string | undefined;
  readonly default: Action;
  readonly mode: 'enforce' | 'dry-run';
  readonly rules: readonly CompiledRule[];
  /** The default verdict of `decide` (per version) and of `decideModule`. */
  readonly defaultVerdict: Verdict;
  readonly defaultModuleVerdict: Verdict;
  /**
   * What the rules decide, whatever the policy mode: `enforced` by the
   * enforce-mode rules, `all` with dry-run rules counted too.
   */
  verdicts(query: Query): { enforced: Verdict; all: Verdict };
  moduleVerdicts(query: Omit<Query, 'version' | 'publishedAt'>): { enforced: Verdict; all: Verdict };
  /** The rules with a pattern whose glob matches the module path, through the index, in file order. */
  rulesMatchingPath(module: string): CompiledRule[];
}

const INTERNALS = new WeakMap<CompiledPolicy, PolicyInternals>();

/** The compiled rules behind a policy built by {@link compilePolicy}, for explain and tests. */
export function policyInternals(policy: CompiledPolicy): PolicyInternals | undefined {
  return INTERNALS.get(policy);
}

export interface CompileOptions {
  /** The content hash (policies/load.ts computes it from the file text). */
  readonly version: string;
  /** For explain output. */
  readonly file?: string;
  /** Line of a key path in the file (from core/yaml-validate.ts), for explain output. */
  readonly lineOf?: (path: readonly PropertyKey[]) => number | undefined;
}

/** The four candidates for deciding: first deny/allow among enforced rules, and among all rules. */
interface Winners {
  enforcedDeny: CompiledRule | undefined;
  enforcedAllow: CompiledRule | undefined;
  deny: CompiledRule | undefined;
  allow: CompiledRule | undefined;
}

type Entry = IndexEntry<CompiledRule>;

export function compilePolicy(file: PolicyFile, options: CompileOptions): CompiledPolicy {
  const rules = file.rules.map((r, i) => compileRule(r, i, options.lineOf?.(['rules', i])));
  const entries = rules.flatMap((rule) => rule.patterns.map((pattern) => ({ rule, pattern })));
  const index = buildRuleIndex(entries);
  const minAgeIndex = buildRuleIndex(entries.filter((e) => e.rule.minAgeMs !== undefined));
  const hasDryRunRules = rules.some((r) => r.dryRun);
  const policyDryRun = file.mode === 'dry-run';
  const defaultVerdict = Object.freeze({
    action: file.default,
    rule: undefined,
    reason:
      file.default === 'deny'
        ? 'no rule allows this module version'
        : 'no rule matched; the policy default is allow',
  });
  const defaultModuleVerdict = Object.freeze({
    ...defaultVerdict,
    reason: file.default === 'deny' ? 'no rule allows this module' : defaultVerdict.reason,
  });

  /** Combines the enforced and the all-rules verdict into the Decision contract. */
  const combine = (enforced: Verdict, all: Verdict): Decision => {
    if (policyDryRun) return all.action === 'deny' ? { ...DRY_RUN_VERDICT, dryRun: all } : DRY_RUN_VERDICT;
    if (enforced.action === all.action && enforced.rule === all.rule) return enforced;
    return { ...enforced, dryRun: all };
  };

  const pick = (
    deny: CompiledRule | undefined,
    allow: CompiledRule | undefined,
    publishedMs: number,
  ): Verdict => {
    if (deny !== undefined) return verdictOf(deny, publishedMs);
    return allow !== undefined ? allow.verdict : defaultVerdict;
  };

  /** The enforced verdict and the all-rules verdict (dry-run rules included) for one version. */
  const verdicts = (query: Query): { enforced: Verdict; all: Verdict } => {
    const now = query.now ?? Date.now();
    const publishedMs = query.publishedAt instanceof Date ? query.publishedAt.getTime() : Number.NaN;
    const { subject, version } = query;
    const w: Winners = {
      enforcedDeny: undefined,
      enforcedAllow: undefined,
      deny: undefined,
      allow: undefined,
    };
    index.forEachMatch(query.module, (e) => {
      const r = e.rule;
      if (r.expiresAt <= now || !subjectMatches(r, subject)) return;
      if (!versionMatches(e.pattern, query.module, version) || !tooYoung(r, publishedMs, now)) return;
      record(w, r);
    });
    const all = pick(w.deny, w.allow, publishedMs);
    if (!hasDryRunRules) return { enforced: all, all };
    return { enforced: pick(w.enforcedDeny, w.enforcedAllow, publishedMs), all };
  };

  const decide = (query: Query): Decision => {
    const { enforced, all } = verdicts(query);
    return !hasDryRunRules && !policyDryRun ? all : combine(enforced, all);
  };

  /** The same as {@link verdicts} for every version of a module. */
  const moduleVerdicts = (
    query: Omit<Query, 'version' | 'publishedAt'>,
  ): { enforced: Verdict; all: Verdict } => {
    const now = query.now ?? Date.now();
    const hits: Entry[] = [];
    index.forEachMatch(query.module, (e) => {
      if (e.rule.expiresAt > now && subjectMatches(e.rule, query.subject)) hits.push(e);
    });
    const all = moduleVerdict(hits, true, file.default, defaultModuleVerdict);
    if (!hasDryRunRules) return { enforced: all, all };
    return { enforced: moduleVerdict(hits, false, file.default, defaultModuleVerdict), all };
  };

  const decideModule = (query: Omit<Query, 'version' | 'publishedAt'>): Decision => {
    const { enforced, all } = moduleVerdicts(query);
    return !hasDryRunRules && !policyDryRun ? all : combine(enforced, all);
  };

  const needsPublishTime = (subject: Principal, module: string, now = Date.now()): boolean => {
    if (minAgeIndex.size === 0) return false;
    let found = false;
    minAgeIndex.forEachMatch(module, (e) => {
      if (!found && e.rule.expiresAt > now && subjectMatches(e.rule, subject)) found = true;
    });
    return found;
  };

  const policy: CompiledPolicy = Object.freeze({
    version: options.version,
    mode: file.mode,
    ruleCount: rules.length,
    routes: compileRoutes(file.routes),
    decide: (query: Query) => failClosed(() => decide(query)),
    decideModule: (query: Omit<Query, 'version' | 'publishedAt'>) => failClosed(() => decideModule(query)),
    needsPublishTime: (subject: Principal, module: string, now?: number) => {
      try {
        return needsPublishTime(subject, module, now);
      } catch {
        return true;
      }
    },
  });
  INTERNALS.set(policy, {
    file: options.file,
    default: file.default,
    mode: file.mode,
    rules,
    defaultVerdict,
    defaultModuleVerdict,
    verdicts,
    moduleVerdicts,
    rulesMatchingPath(module) {
      const found = new Set<CompiledRule>();
      index.forEachMatch(module, (e) => found.add(e.rule));
      return [...found].sort((a, b) => a.index - b.index);
    },
  });
  return policy;
}

function record(w: Winners, r: CompiledRule): void {
  if (r.action === 'deny') {
    if (!r.dryRun && (w.enforcedDeny === undefined || r.index < w.enforcedDeny.index)) w.enforcedDeny = r;
    if (w.deny === undefined || r.index < w.deny.index) w.deny = r;
  } else {
    if (!r.dryRun && (w.enforcedAllow === undefined || r.index < w.enforcedAllow.index)) w.enforcedAllow = r;
    if (w.allow === undefined || r.index < w.allow.index) w.allow = r;
  }
}

function failClosed(decide: () => Decision): Decision {
  try {
    return decide();
  } catch {
    return FAILED_VERDICT;
  }
}
