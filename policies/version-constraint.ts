/**
 * Version constraints after `@` in a policy module pattern
 * (`golang.org/x/net@<0.23.0`, `example.com/m@>=1.0.0 <1.4.2 || >=2.0.0`).
 *
 * Grammar: alternatives separated by `||`; each a space-separated list of
 * comparators that must all hold; a comparator is an optional operator
 * (`<`, `<=`, `>`, `>=`, `=`; none means `=`) and a version whose leading `v`
 * is optional. Versions compare by Go semver precedence (core/gomod/semver.ts):
 * a pseudo-version is a pre-release of its base (`v1.2.4-0.2023…` sorts
 * between v1.2.3 and v1.2.4), pre-releases sort before their release, and
 * build metadata such as `+incompatible` is ignored.
 */
import { compare, isValid } from '../core/gomod/semver.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '=';

/** One comparator: `version <op> bound`. `bound` is a valid semver with its `v`. */
export interface Comparator {
  readonly op: Operator;
  readonly bound: string;
}

/** A parsed constraint: any alternative whose comparators all hold. */
export interface VersionConstraint {
  /** The constraint as written in the policy file. */
  readonly text: string;
  readonly alternatives: readonly (readonly Comparator[])[];
}

const OPERATORS: readonly Operator[] = ['<=', '>=', '<', '>', '='];

/** What the parser says about a bad constraint, for the policy check output. */
export const CONSTRAINT_SYNTAX =
  'use an exact version (v1.2.3) or comparators <, <=, >, >=, = separated by spaces, alternatives by ||';

/** Parses a constraint; returns a message for `policy check` when it is malformed. */
export function parseConstraint(text: string): VersionConstraint | { error: string } {
  const alternatives: Comparator[][] = [];
  for (const alt of text.split('||')) {
    const tokens = alt
      .trim()
      .split(/\s+/)
      .filter((t) => t !== '');
    if (tokens.length === 0) return { error: `empty version constraint in "${text}"; ${CONSTRAINT_SYNTAX}` };
    const comparators: Comparator[] = [];
    for (let i = 0; i < tokens.length; i++) {
      let token = tokens[i]!;
      // An operator alone (`>= 1.0.0`) takes the next token as its version.
      if ((OPERATORS as readonly string[]).includes(token) && i + 1 < tokens.length) token += tokens[++i];
      const op = OPERATORS.find((o) => token.startsWith(o));
      const raw = op === undefined ? token : token.slice(op.length);
      const bound = raw.startsWith('v') ? raw : `v${raw}`;
      if (!isValid(bound)) {
        return { error: `"${raw}" in "${text}" is not a semantic version; ${CONSTRAINT_SYNTAX}` };
      }
      comparators.push({ op: op ?? '=', bound });
    }
    alternatives.push(comparators);
  }
  return { text, alternatives };
}

/**
 * Reports whether `version` satisfies the constraint. A version that is not
 * valid semver (a branch name, garbage) satisfies no constraint. Never throws.
 */
export function satisfies(constraint: VersionConstraint, version: string): boolean {
  if (!isValid(version)) return false;
  for (const comparators of constraint.alternatives) {
    let all = true;
    for (const c of comparators) {
      if (!holds(c.op, compare(version, c.bound))) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

/** Whether `cmp` (semver.Compare(version, bound)) satisfies `op`. */
export function holds(op: Operator, cmp: number): boolean {
  switch (op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '=':
      return cmp === 0;
  }
}
