/**
 * Module patterns of a policy rule: a GOPRIVATE glob (`go help
 * module-private`), optionally followed by `@<version constraint>`.
 *
 * The glob matches a module path and everything below it, comparing
 * element-wise with Go's `path.Match` (module.MatchPrefixPatterns). Patterns
 * are compiled once, at load: a glob without metacharacters becomes a string
 * prefix test, one whose only metacharacter is `*` a RegExp, and anything
 * else (`?`, `[...]`, `\`) goes through the exact `path.Match` port.
 */
import { checkImportPath, matchPrefixPatterns } from '../core/gomod/module.ts';
import { isValidPattern } from '../core/gomod/path-match.ts';
import { TOOLCHAIN_MODULE } from '../core/gomod/toolchain.ts';
import {
  boundKinds,
  parseConstraint,
  TOOLCHAIN_BOUND_SYNTAX,
  type VersionConstraint,
} from './version-constraint.ts';

/** The characters that make a glob element more than a literal string (Go path.Match syntax). */
const GLOB_META = /[*?[\\]/;

/** A parsed, compiled module pattern. */
export interface ModulePattern {
  /** The pattern as written, constraint included. */
  readonly text: string;
  /** The glob without its constraint (and without a trailing slash, which Go ignores). */
  readonly glob: string;
  /** The leading glob elements that contain no metacharacters: the key of the rule index. */
  readonly literalPrefix: readonly string[];
  /** Whether the whole glob is literal, so reaching its index node is the match. */
  readonly literal: boolean;
  readonly constraint: VersionConstraint | undefined;
  /** Whether the module path matches the glob (module.MatchPrefixPatterns). */
  matchesPath(module: string): boolean;
}

/** Parses `glob[@constraint]`; returns a message for `policy check` when it is malformed. */
export function parseModulePattern(text: string): ModulePattern | { error: string } {
  const at = text.indexOf('@');
  let glob = at < 0 ? text : text.slice(0, at);
  if (glob.endsWith('/')) glob = glob.slice(0, -1);
  if (glob === '') return { error: 'empty module pattern' };
  if (glob.includes(',')) return { error: 'one pattern per list entry (a comma is not a separator here)' };
  if (/\s/.test(glob)) return { error: `module pattern "${glob}" contains white space` };
  if (!isValidPattern(glob)) return { error: `module pattern "${glob}" is not a valid glob (Go path.Match)` };
  let constraint: VersionConstraint | undefined;
  if (at >= 0) {
    const parsed = parseConstraint(text.slice(at + 1));
    if ('error' in parsed) return parsed;
    constraint = parsed;
  }
  const elements = glob.split('/');
  const firstGlob = elements.findIndex((e) => GLOB_META.test(e));
  const literal = firstGlob < 0;
  const matchesPath = compileGlob(glob, literal);
  const problem = constraint === undefined ? undefined : toolchainProblem(glob, matchesPath, constraint);
  if (problem !== undefined) return { error: problem };
  return {
    text,
    glob,
    literalPrefix: literal ? elements : elements.slice(0, firstGlob),
    literal,
    constraint,
    matchesPath,
  };
}

/**
 * Why toolchain and semver bounds are mixed up, or undefined: toolchain
 * bounds on a glob that cannot match golang.org/toolchain never hold, and
 * semver bounds on golang.org/toolchain itself would order its versions
 * wrongly (policies/version-constraint.ts).
 */
function toolchainProblem(
  glob: string,
  matchesPath: (module: string) => boolean,
  constraint: VersionConstraint,
): string | undefined {
  const kinds = boundKinds(constraint);
  if (kinds.toolchain && !matchesPath(TOOLCHAIN_MODULE)) {
    return `Go toolchain bounds in "${constraint.text}" compare ${TOOLCHAIN_MODULE} versions, and "${glob}" never matches ${TOOLCHAIN_MODULE}`;
  }
  if (kinds.semver && glob === TOOLCHAIN_MODULE) {
    return `${TOOLCHAIN_MODULE} versions (v0.0.1-go1.21.0.linux-amd64) do not order as semantic versions (go1.21rc2 would sort above go1.99.0); ${TOOLCHAIN_BOUND_SYNTAX}`;
  }
  return undefined;
}

/**
 * Why a literal pattern can never match a module path, or undefined. Only
 * literal patterns are judged: a glob may match paths no literal could.
 */
export function neverMatchesReason(pattern: ModulePattern): string | undefined {
  if (!pattern.literal) return undefined;
  try {
    checkImportPath(pattern.glob);
  } catch (err) {
    return (err as Error).message;
  }
  const first = pattern.literalPrefix[0] ?? '';
  if (!first.includes('.')) return `module paths start with a domain name; "${first}" has no dot`;
  return undefined;
}

function compileGlob(glob: string, literal: boolean): (module: string) => boolean {
  if (literal) {
    const below = `${glob}/`;
    return (module) => module === glob || module.startsWith(below);
  }
  if (!/[?[\\]/.test(glob)) {
    // `*` alone: any run of non-slash characters. The glob covers as many path
    // elements as it has, and the module may continue below them.
    const source = glob
      .split('*')
      .map((part) => part.replace(/[.+^${}()|\]]/g, '\\$&'))
      .join('[^/]*');
    const re = new RegExp(`^${source}(?:/|$)`);
    return (module) => re.test(module);
  }
  return (module) => matchPrefixPatterns(glob, module);
}
