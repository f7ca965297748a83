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
 *
 * Toolchain bounds: a version written in Go's form (`go1.23.0`, `go1.21rc2`,
 * optionally `.linux-amd64`) or as the toolchain module version
 * (`v0.0.1-go1.23.0[.linux-amd64]`) compares golang.org/toolchain versions
 * by the Go version inside, as the go command orders them
 * (core/gomod/gover.ts: go1.21rc2 < go1.21.0 < go1.21.1), not by semver, which
 * would put `go1.21rc2` above `go1.99.0`. A platform suffix on the bound
 * restricts the comparator to that platform. A toolchain bound holds only
 * for toolchain versions of golang.org/toolchain.
 */
import { compareGoVersions, isValidGoVersion } from '../core/gomod/gover.ts';
import { compare, isValid } from '../core/gomod/semver.ts';
import { parseToolchainVersion, TOOLCHAIN_MODULE, type ToolchainVersion } from '../core/gomod/toolchain.ts';

export type Operator = '<' | '<=' | '>' | '>=' | '=';

/**
 * One comparator: `version <op> bound`. A semver comparator's `bound` is a
 * valid semver with its `v`; a toolchain comparator's `go` is a valid Go
 * version without `go` (`1.23.0`), `platform` its `<goos>-<goarch>` if given.
 */
export type Comparator =
  | { readonly kind: 'semver'; readonly op: Operator; readonly bound: string }
  | { readonly kind: 'toolchain'; readonly op: Operator; readonly go: string; readonly platform?: string };

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
      const op = OPERATORS.find((o) => token.startsWith(o)) ?? '=';
      const raw = token.startsWith(op) ? token.slice(op.length) : token;
      const comparator = parseBound(op, raw, text);
      if ('error' in comparator) return comparator;
      comparators.push(comparator);
    }
    alternatives.push(comparators);
  }
  return { text, alternatives };
}

/** How a toolchain bound is written: the Go version, or the toolchain module version, optionally with the platform. */
export const TOOLCHAIN_BOUND_SYNTAX =
  'write toolchain bounds as Go versions (go1.23.0, go1.21rc2), optionally with a platform (go1.23.0.linux-amd64)';

/** The module-version prefix of a toolchain version (`v0.0.1-go1.23.0.linux-amd64`). */
const TOOLCHAIN_VERSION_PREFIX = 'v0.0.1-';

/** `<goos>-<goarch>` as the toolchain module's versions end. */
const PLATFORM = /^[a-z0-9]+-[a-z0-9]+$/;

function parseBound(op: Operator, raw: string, text: string): Comparator | { error: string } {
  const toolchain = raw.startsWith('go')
    ? raw
    : raw.startsWith(`${TOOLCHAIN_VERSION_PREFIX}go`)
      ? raw.slice(TOOLCHAIN_VERSION_PREFIX.length)
      : undefined;
  if (toolchain === undefined) {
    const bound = raw.startsWith('v') ? raw : `v${raw}`;
    if (!isValid(bound))
      return { error: `"${raw}" in "${text}" is not a semantic version; ${CONSTRAINT_SYNTAX}` };
    return { kind: 'semver', op, bound };
  }
  const dot = toolchain.lastIndexOf('.');
  const platform = dot >= 0 && toolchain.slice(dot + 1).includes('-') ? toolchain.slice(dot + 1) : undefined;
  const go = (platform === undefined ? toolchain : toolchain.slice(0, dot)).slice('go'.length);
  if (!isValidGoVersion(go) || (platform !== undefined && !PLATFORM.test(platform))) {
    return { error: `"${raw}" in "${text}" is not a Go toolchain version; ${TOOLCHAIN_BOUND_SYNTAX}` };
  }
  return platform === undefined ? { kind: 'toolchain', op, go } : { kind: 'toolchain', op, go, platform };
}

/** Whether the constraint has toolchain bounds, semver bounds. */
export function boundKinds(constraint: VersionConstraint): { toolchain: boolean; semver: boolean } {
  const all = constraint.alternatives.flat();
  return { toolchain: all.some((c) => c.kind === 'toolchain'), semver: all.some((c) => c.kind === 'semver') };
}

/**
 * Reports whether `version` of `module` satisfies the constraint. A version
 * that is not valid semver (a branch name, garbage) satisfies no constraint;
 * toolchain bounds hold only for versions of golang.org/toolchain. Never
 * throws.
 */
export function satisfies(constraint: VersionConstraint, version: string, module: string): boolean {
  if (!isValid(version)) return false;
  // Parsed on the first toolchain comparator only; null: not a toolchain version.
  let toolchain: ToolchainVersion | null | undefined;
  const holdsFor = (c: Comparator): boolean => {
    if (c.kind === 'semver') return holds(c.op, compare(version, c.bound));
    if (toolchain === undefined)
      toolchain = module === TOOLCHAIN_MODULE ? (parseToolchainVersion(version) ?? null) : null;
    if (toolchain === null || (c.platform !== undefined && c.platform !== toolchain.platform)) return false;
    return holds(c.op, compareGoVersions(toolchain.go, c.go));
  };
  return constraint.alternatives.some((comparators) => comparators.every(holdsFor));
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
