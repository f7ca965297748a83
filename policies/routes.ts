/**
 * Routes: which upstream serves a module, and which upstream credential is
 * used for whom. Compiled once per policy load, like the rules.
 *
 * Private routes are matched before all others, whatever their place in the
 * file: a private module path must never reach another upstream because a
 * broader route happens to come first.
 */
import { pathMatch } from '../core/gomod/path-match.ts';
import type { Principal } from '../core/principal.ts';
import { type ModulePattern, parseModulePattern } from './module-pattern.ts';
import type { PolicyRoute } from './schema.ts';
import { compileSubjects, inSubjectSet, type SubjectSet } from './subjects.ts';

/** Where a module goes. `route` is undefined when no route matched (the gateway's default upstream). */
export interface RouteChoice {
  readonly route: string | undefined;
  readonly upstream: string | undefined;
  readonly private: boolean;
  /** The credential name for this subject, or undefined for the upstream's own default. */
  readonly credential: string | undefined;
}

export interface RouteTable {
  /**
   * Every route's upstream and credential names, for cross-checking against
   * gateway.yaml, with its module patterns (shown to people on the set-up page).
   */
  readonly references: readonly {
    readonly route: string;
    readonly upstream: string;
    readonly credentials: readonly string[];
    readonly modules: readonly string[];
    readonly private: boolean;
  }[];
  choose(subject: Principal, module: string): RouteChoice;
  /**
   * The glob of the private route a module path belongs to (its name must not
   * reach a public checksum DB), or undefined.
   */
  privatePattern(module: string): string | undefined;
}

interface CompiledRoute {
  readonly name: string;
  readonly upstream: string;
  readonly private: boolean;
  readonly patterns: readonly ModulePattern[];
  readonly credentials: readonly { readonly subjects: SubjectSet; readonly credential: string }[];
}

const NO_ROUTE: RouteChoice = Object.freeze({
  route: undefined,
  upstream: undefined,
  private: false,
  credential: undefined,
});

export function compileRoutes(routes: readonly PolicyRoute[]): RouteTable {
  const compiled: CompiledRoute[] = routes.map((r) => ({
    name: r.name,
    upstream: r.upstream,
    private: r.private,
    patterns: r.modules.map((text) => {
      const p = parseModulePattern(text);
      if ('error' in p) throw new TypeError(`unvalidated route pattern ${text}: ${p.error}`);
      return p;
    }),
    credentials: r.credentials.map((c) => ({
      subjects: compileSubjects(c.subjects),
      credential: c.credential,
    })),
  }));
  const privates = compiled.filter((r) => r.private);
  const publics = compiled.filter((r) => !r.private);
  // A private route also takes the paths above its modules (`corp.example` for `corp.example/*`),
  // which `go get` probes: their names must not reach another upstream either.
  const privateHit = (module: string) => {
    for (const r of privates) {
      const p = r.patterns.find((q) => q.matchesPath(module) || isProbePrefix(q.glob, module));
      if (p) return { route: r, glob: p.glob };
    }
    return undefined;
  };
  const find = (module: string) =>
    privateHit(module)?.route ?? publics.find((r) => r.patterns.some((p) => p.matchesPath(module)));
  return {
    references: compiled.map((r) => ({
      route: r.name,
      upstream: r.upstream,
      credentials: r.credentials.map((c) => c.credential),
      modules: r.patterns.map((p) => p.glob),
      private: r.private,
    })),
    choose(subject, module) {
      const route = find(module);
      if (!route) return NO_ROUTE;
      return {
        route: route.name,
        upstream: route.upstream,
        private: route.private,
        credential: route.credentials.find((c) => inSubjectSet(c.subjects, subject))?.credential,
      };
    },
    privatePattern: (module) => privateHit(module)?.glob,
  };
}

/** Whether `module` has fewer elements than `glob` and matches its leading elements (a parent path go probes). */
function isProbePrefix(glob: string, module: string): boolean {
  const globElements = glob.split('/');
  const elements = module.split('/');
  if (elements.length >= globElements.length) return false;
  return elements.every((e, i) => pathMatch(globElements[i] as string, e).matched);
}
