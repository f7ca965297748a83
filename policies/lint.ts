/**
 * Warnings for a valid policy: things that load fine but are probably not
 * what the author meant (`modgate policy check` prints them; the gateway logs
 * them on every load). Cheap checks only.
 */
import type { CompiledRule } from './compiled-rule.ts';
import { type ModulePattern, neverMatchesReason } from './module-pattern.ts';
import type { PolicyFile } from './schema.ts';

/** A warning located by line (undefined when unknown). */
export interface PolicyWarning {
  readonly line: number | undefined;
  readonly message: string;
}

type LineOf = (path: readonly PropertyKey[]) => number | undefined;

/** Lints a validated, compiled policy as of `now` (ms since epoch). */
export function lintPolicy(
  file: PolicyFile,
  rules: readonly CompiledRule[],
  lineOf: LineOf,
  now: number,
): PolicyWarning[] {
  const warnings: PolicyWarning[] = [];
  const warn = (path: PropertyKey[], message: string) => warnings.push({ line: lineOf(path), message });
  // `mode: dry-run` itself is warned about as an unsafe setting (policies/schema.ts, core/unsafe-settings.ts).
  for (const rule of rules) {
    const at = (...path: PropertyKey[]) => ['rules', rule.index, ...path];
    if (rule.expiresAt <= now) {
      warn(at('expires'), `rule "${rule.name}" expired (${rule.source.expires}) and no longer applies`);
    }
    if (file.mode === 'dry-run' && rule.dryRun) {
      warn(at('mode'), `rule "${rule.name}": mode dry-run is redundant, the whole policy is in dry-run mode`);
    }
    rule.patterns.forEach((p, j) => {
      const why = neverMatchesReason(p);
      if (why !== undefined) warn(at('modules', j), `rule "${rule.name}": "${p.glob}" never matches: ${why}`);
    });
    const shadow = rule.expiresAt <= now ? undefined : rules.find((s) => s !== rule && shadows(s, rule));
    if (shadow !== undefined) {
      const what = rule.action === 'allow' && shadow.action === 'deny' ? 'denies' : 'decides';
      warn(
        at('name'),
        `rule "${rule.name}" never decides: rule "${shadow.name}" ${what} everything it matches` +
          (shadow.action === rule.action ? ' and comes first' : ' (deny overrides allow)'),
      );
    }
  }
  return warnings;
}

/**
 * Whether rule `s` always decides in place of rule `r`: `s` is enforced,
 * permanent and without `min_age`, names every subject `r` names, covers all
 * versions of every module `r` matches, and wins (a deny over an allow, or
 * the same action earlier in the file).
 */
function shadows(s: CompiledRule, r: CompiledRule): boolean {
  const wins =
    s.action === 'deny'
      ? r.action === 'allow' || s.index < r.index
      : r.action === 'allow' && s.index < r.index;
  if (!wins || s.dryRun || s.expiresAt !== Number.POSITIVE_INFINITY || s.minAgeMs !== undefined) return false;
  const subjects =
    s.anySubject ||
    (!r.anySubject &&
      [...r.users].every((u) => s.users.has(u)) &&
      [...r.groups].every((g) => s.groups.has(g)));
  return subjects && r.patterns.every((p) => s.patterns.some((q) => covers(q, p)));
}

/** Whether unconstrained pattern `q` matches every module `p` can match (literal prefixes and `*` only). */
function covers(q: ModulePattern, p: ModulePattern): boolean {
  if (q.constraint !== undefined) return false;
  if (/^\*+$/.test(q.glob)) return true;
  if (!q.literal || p.literalPrefix.length < q.literalPrefix.length) return false;
  return q.literalPrefix.every((e, i) => p.literalPrefix[i] === e);
}
