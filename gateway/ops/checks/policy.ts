/**
 * The policy check: the file modgate would load parses, validates and
 * compiles, and every route names an upstream and credentials that exist in
 * gateway.yaml — the same two checks the gateway makes at start and on reload.
 */
import { readFile } from 'node:fs/promises';
import { type Check, type CheckOutcome, outcome } from '../../../core/check.ts';
import { formatProblem, parseYamlWith } from '../../../core/yaml-validate.ts';
import { loadPolicyFile } from '../../../policies/load.ts';
import { policyFileSchema } from '../../../policies/schema.ts';
import type { RoutingDeps } from '../../pipeline/route.ts';
import { checkRouteReferences } from '../../upstreams/build.ts';

/** The policy check as a runnable {@link Check}. */
export function policyCheck(path: string, routing: Pick<RoutingDeps, 'upstreams' | 'credentials'>): Check {
  return { name: 'policy', target: path, run: () => checkPolicy(path, routing) };
}

/** Loads the policy file and cross-checks its routes; warnings (expired rules, …) are a `warn`. */
export async function checkPolicy(
  path: string,
  routing: Pick<RoutingDeps, 'upstreams' | 'credentials'>,
): Promise<CheckOutcome> {
  const loaded = await loadPolicyFile(path);
  const fix = `edit ${path}; 'modgate policy check ${path}' shows every problem with its line`;
  if (!loaded.ok) {
    const lines = loaded.problems.map((p) => formatProblem(path, p));
    return outcome.fail(`${plural(lines.length, 'problem')}: ${lines[0]}`, fix, lines.slice(1));
  }
  const policy = loaded.policy;
  const routeProblems = checkRouteReferences(policy.routes.references, routing);
  if (routeProblems.length > 0) {
    return outcome.fail(
      `${plural(routeProblems.length, 'route problem')}: ${routeProblems[0]}`,
      'define the upstream or credential in gateway.yaml, or change the route',
      routeProblems.slice(1),
    );
  }
  const summary = `version ${policy.version}, ${plural(policy.ruleCount, 'rule')}, ${plural(policy.routes.references.length, 'route')}, mode ${policy.mode}`;
  if (loaded.warnings.length > 0) {
    return outcome.warn(
      `${summary}; ${plural(loaded.warnings.length, 'warning')}: ${loaded.warnings[0]}`,
      fix,
      loaded.warnings.slice(1),
    );
  }
  return outcome.ok(summary);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The module patterns of a policy file's private routes (what a developer's
 * GONOSUMDB must cover), or the file's problems.
 */
export async function privateRoutePatterns(
  path: string,
): Promise<{ ok: true; patterns: string[] } | { ok: false; problems: string[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`${path}: cannot read (${(err as NodeJS.ErrnoException).code})`] };
  }
  const parsed = parseYamlWith(text, policyFileSchema);
  if (!parsed.ok) return { ok: false, problems: parsed.problems.map((p) => formatProblem(path, p)) };
  const patterns = parsed.value.routes.filter((r) => r.private).flatMap((r) => r.modules);
  return { ok: true, patterns: [...new Set(patterns)] };
}
