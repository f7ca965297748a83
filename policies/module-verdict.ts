/**
 * The decision that holds for every version of a module (CompiledPolicy.decideModule),
 * asked before an upstream is asked for `@v/list` or `@latest`.
 */
import type { CompiledRule } from './compiled-rule.ts';
import type { ModulePattern } from './module-pattern.ts';
import type { Action, Verdict } from './types.ts';

/** The module-wide allow when rules judge individual versions. */
export const PER_VERSION_VERDICT: Verdict = Object.freeze({
  action: 'allow',
  rule: undefined,
  reason: 'versions are decided one by one',
});

/**
 * The decision for every version of a module (CompiledPolicy.decideModule):
 * deny by the first rule that denies the whole path (no constraint, no
 * `min_age`); allow by the first rule that allows the whole path; deny by
 * default when nothing could allow any version; else "decide per version".
 */
export function moduleVerdict(
  hits: readonly { rule: CompiledRule; pattern: ModulePattern }[],
  includeDryRun: boolean,
  defaultAction: Action,
  defaultVerdict: Verdict,
): Verdict {
  let pathDeny: CompiledRule | undefined;
  let pathAllow: CompiledRule | undefined;
  let anyAllow = false;
  let any = false;
  for (const { rule, pattern } of hits) {
    if (rule.dryRun && !includeDryRun) continue;
    any = true;
    const wholePath = pattern.constraint === undefined && rule.minAgeMs === undefined;
    if (rule.action === 'deny') {
      if (wholePath && (pathDeny === undefined || rule.index < pathDeny.index)) pathDeny = rule;
    } else {
      anyAllow = true;
      if (wholePath && (pathAllow === undefined || rule.index < pathAllow.index)) pathAllow = rule;
    }
  }
  if (pathDeny !== undefined) return pathDeny.verdict;
  if (pathAllow !== undefined) return pathAllow.verdict;
  if (defaultAction === 'deny' && !anyAllow) return defaultVerdict;
  return any ? PER_VERSION_VERDICT : defaultVerdict;
}
