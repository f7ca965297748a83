/**
 * The contract between the policy engine (policies/) and its users (gateway/,
 * the CLI). Plain values only: policies/ never imports gateway/.
 *
 * Semantics (docs/policies.md "Matching"): rules match a subject and a module
 * pattern (GOPRIVATE glob, optional `@<constraint>` on the version); deny
 * overrides allow; `default` decides when no rule matches.
 */
import type { Principal } from '../core/principal.ts';
import type { RouteTable } from './routes.ts';

export type Action = 'allow' | 'deny';

/** The outcome of evaluating rules. `rule` is undefined when `default` decided. */
export interface Verdict {
  readonly action: Action;
  /** Name of the rule that decided; undefined when the policy's `default` did. */
  readonly rule: string | undefined;
  /** The rule's `reason` (or, for `default`/cooldown, a generated one). */
  readonly reason: string | undefined;
}

/**
 * What the gateway enforces, plus what dry-run rules (or the whole policy in
 * `mode: dry-run`) would have decided. `dryRun` is present only when it differs
 * from the enforced verdict.
 */
export interface Decision extends Verdict {
  readonly dryRun?: Verdict;
}

/** One decision question. */
export interface Query {
  readonly subject: Principal;
  /** Module path, unescaped (`github.com/Acme/tool`). */
  readonly module: string;
  /** Canonical version (`v1.2.3`, pseudo-versions, `+incompatible`). */
  readonly version: string;
  /**
   * When the version was published (the upstream `.info` `Time`), needed only
   * when {@link CompiledPolicy.needsPublishTime} says so. Unknown → a matching
   * `min_age` rule denies (fail closed).
   */
  readonly publishedAt?: Date;
  /** Evaluation time (ms since epoch) for `expires` and `min_age`; defaults to Date.now(). */
  readonly now?: number;
}

/** A loaded, validated, compiled policy. Immutable; reload by building a new one. */
export interface CompiledPolicy {
  /** Content hash of the policy file (first 12 hex digits of its SHA-256). */
  readonly version: string;
  readonly mode: 'enforce' | 'dry-run';
  /** Number of rules (for status and logs). */
  readonly ruleCount: number;
  /** Module → upstream and credential (`routes:` in the file). */
  readonly routes: RouteTable;
  /** The decision for one module version. Never throws. */
  decide(query: Query): Decision;
  /**
   * The decision that holds for every version of a module, used before asking
   * an upstream for `@v/list`/`@latest`: deny when a rule without a version
   * constraint and without `min_age` denies the path, or when nothing could
   * allow any version of it (no allow rule matches the path and `default` is
   * deny). Otherwise allow, meaning "decide per version". Never throws.
   */
  decideModule(query: Omit<Query, 'version' | 'publishedAt'>): Decision;
  /**
   * Whether some `min_age` rule applies to this subject and module, i.e.
   * whether {@link decide} needs `publishedAt`. Cheap; never throws.
   */
  needsPublishTime(subject: Principal, module: string, now?: number): boolean;
}
