/**
 * The policy modgate runs with in `npm run bench`: default deny and 1,000
 * rules in the mix a platform team accumulates — team allows on literal
 * trees, CVE denies with version ranges, globs in the first and later path
 * elements, per-user expiring exceptions, cooldowns (min_age), dry-run trials
 * — generated deterministically. The bench modules are allowed to the bench
 * users' group by one rule in the middle of the file; deny rules on the
 * bench tree (old graph versions, `-internal` names) match nothing the bench
 * fetches, so each request meets a few rules that match its path but not its
 * version or name, as real requests do.
 */
import { stringify } from 'yaml';
import { BENCH_PREFIX, GRAPH_MODULES, graphModule } from './bench-modules.ts';

/** Rules in the generated policy. */
export const POLICY_RULES = 1_000;
/** The directory group the bench users are in (the fixture's `developers`). */
export const BENCH_GROUP = 'developers';

type Rule = Record<string, unknown>;

const rule = (subjects: string[], modules: string[], action: 'allow' | 'deny', extra: Rule = {}): Rule => ({
  subjects,
  modules,
  action,
  ...extra,
});

/**
 * One rule per template, in turn. `i` is the rule's index: it makes one path
 * element of each rule unique, so no rule repeats another (a repeat would
 * never decide, and `modgate policy check` would say so); `i % k` spreads
 * teams, orgs and users.
 */
const TEMPLATES: ReadonlyArray<(i: number) => Rule> = [
  (i) => rule([`group:team-${i % 50}`], [`git.corp.example/team-${i % 50}/svc-${i}`], 'allow'),
  (i) => rule([`group:team-${i % 50}`], [`git.corp.example/team-${i % 50}/lib-${i}/*`], 'allow'),
  (i) => rule(['*'], [`github.com/org-${i % 100}/repo-${i}@<1.${i % 10}.0`], 'deny', cve(i)),
  (i) => rule([`group:team-${i % 50}`, `user:user-${i % 200}`], [`github.com/org-${i}`], 'allow'),
  (i) => rule([`group:team-${i % 50}`], [`github.com/org-${i}/*-internal`], 'deny'),
  (i) =>
    rule([`user:user-${i % 200}`], [`github.com/org-${i % 100}/repo-${i}@v1.${i % 10}.0`], 'allow', {
      expires: ['2025-01-31', '2027-12-31'][i % 2],
    }),
  (i) => rule(['*'], [`*.corp-${i}.example`], 'allow'),
  (i) => rule([`group:team-${i % 50}`], [`github.com/fast-${i}`], 'deny', { min_age: '72h' }),
  (i) => rule(['*'], [`golang.org/x/m${i}@>=0.${i % 5}.0 <0.${5 + (i % 20)}.0`], 'deny', cve(i)),
  (i) => rule(['*'], [`github.com/org-${i % 100}/trial-${i}`], 'deny', { mode: 'dry-run' }),
  // CVE denies on old versions of the bench graph's modules: one each for 83 of the 300.
  (i) =>
    rule(
      ['*'],
      [`${graphModule((Math.floor(i / TEMPLATES.length) * 11) % GRAPH_MODULES)}@<1.0.0`],
      'deny',
      cve(i),
    ),
  (i) => rule([`group:${BENCH_GROUP}`], [`${BENCH_PREFIX}/*-internal`, `${BENCH_PREFIX}/old-${i}`], 'deny'),
];

function cve(n: number): Rule {
  return { reason: `CVE-2024-${10_000 + n}; upgrade` };
}

/** The policy file's text: `default: deny`, {@link POLICY_RULES} rules, the bench allow at the middle. */
export function benchPolicyYaml(): string {
  const rules = Array.from({ length: POLICY_RULES - 1 }, (_, i) => ({
    name: `r${i}`,
    ...TEMPLATES[i % TEMPLATES.length]!(i),
  }));
  rules.splice(POLICY_RULES / 2, 0, {
    name: 'bench-modules',
    ...rule([`group:${BENCH_GROUP}`], [BENCH_PREFIX], 'allow'),
  });
  return stringify({ default: 'deny', rules });
}
