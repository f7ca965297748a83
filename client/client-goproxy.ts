/**
 * Doctor's checks of where the go command sends module requests: GOPROXY must
 * name modgate first and must not skip past its answers with `|`; private
 * module paths must stay away from the public checksum database (GONOSUMDB)
 * and must not be fetched around modgate (GONOPROXY).
 */
import { type CheckOutcome, outcome } from '../core/check.ts';
import { type GoSettings, setCommand } from './client-go.ts';
import { globsCover, globsTouching, parseGoproxy, sameProxy, splitGlobs, withoutUserinfo } from './go-env.ts';

/** GOPROXY lists modgate, first, followed by `,` (or nothing), never `|`. */
export function checkGoproxy(go: GoSettings, modgate: URL): CheckOutcome {
  const value = go.vars.GOPROXY;
  const shown = parseGoproxy(value)
    .map((e) => withoutUserinfo(e.value) + (e.separator ?? ''))
    .join('');
  const base = modgate.href.replace(/\/$/, '');
  const fix = setCommand(go, 'GOPROXY', base);
  if (modgate.protocol !== 'https:') {
    return outcome.fail(
      `${base} is not https: the go command sends credentials only over https`,
      'use the https URL of modgate (modgate doctor --url https://…)',
    );
  }
  const entries = parseGoproxy(value);
  const at = entries.findIndex((e) => sameProxy(e.value, modgate));
  if (at < 0) return outcome.fail(`GOPROXY=${shown} does not name ${base}`, fix);
  if (at > 0) {
    return outcome.fail(
      `GOPROXY=${shown} names ${withoutUserinfo(entries[0]!.value)} before modgate: go asks it first, around modgate's policy`,
      fix,
    );
  }
  const entry = entries[at]!;
  const next = entries[at + 1];
  if (entry.separator === '|' && next !== undefined) {
    return outcome.fail(
      `GOPROXY=${shown}: '|' makes go try ${withoutUserinfo(next.value)} after any error from modgate, its denials (403) included, so the policy can be bypassed`,
      fix,
    );
  }
  if (entry.value !== withoutUserinfo(entry.value)) {
    return outcome.warn(
      `GOPROXY=${shown} carries a password in the URL: it shows in 'go env', logs and process lists; keep it in ~/.netrc instead`,
      fix,
    );
  }
  const rest =
    next === undefined
      ? ''
      : `; then ${withoutUserinfo(next.value)} only for modules modgate answers 404/410 for`;
  return outcome.ok(`GOPROXY=${shown}: modgate first${rest}`);
}

/**
 * For each private route pattern: GONOSUMDB (or GOPRIVATE, its default) must
 * cover it, or go asks the public checksum database about private paths
 * (modgate refuses those lookups); GONOPROXY (default GOPRIVATE) must not
 * match it, or go fetches it straight from version control, around modgate.
 */
export function checkPrivateModules(go: GoSettings, privatePatterns: readonly string[]): CheckOutcome {
  if (privatePatterns.length === 0) {
    return outcome.skip(
      "no private module patterns to check: pass --private 'corp.example/*' (repeatable) or --policy policy.yaml",
    );
  }
  const { GONOSUMDB, GONOPROXY, GOSUMDB } = go.vars;
  const problems: { detail: string; fix: string }[] = [];
  const bypassing = [...new Set(privatePatterns.flatMap((p) => globsTouching(GONOPROXY, p)))];
  if (bypassing.length > 0) {
    const keep = splitGlobs(GONOPROXY).filter((g) => !bypassing.includes(g));
    const why = GONOPROXY === go.vars.GOPRIVATE ? 'GONOPROXY (defaults to GOPRIVATE)' : 'GONOPROXY';
    problems.push({
      detail: `${why}=${GONOPROXY} sends ${bypassing.join(',')} straight to version control, around modgate`,
      fix: setCommand(go, 'GONOPROXY', keep.length === 0 ? 'none' : keep.join(',')),
    });
  }
  const uncovered = privatePatterns.filter((p) => !globsCover(GONOSUMDB, p));
  const setNoSumDb = setCommand(go, 'GONOSUMDB', [...splitGlobs(GONOSUMDB), ...uncovered].join(','));
  if (uncovered.length > 0 && GOSUMDB !== 'off') {
    const current = GONOSUMDB === '' ? ' (it is empty)' : ` (it is ${GONOSUMDB})`;
    problems.push({
      detail: `GONOSUMDB does not cover ${uncovered.join(',')}${current}: go would ask ${GOSUMDB} about private module paths, which modgate refuses`,
      fix: setNoSumDb,
    });
  }
  if (problems.length > 0) {
    return outcome.fail(problems.map((p) => p.detail).join('; '), problems.map((p) => p.fix).join(' && '));
  }
  if (GOSUMDB === 'off') {
    return outcome.warn(
      'GOSUMDB=off: no module is checked against a checksum database, public ones included',
      uncovered.length === 0
        ? setCommand(go, 'GOSUMDB', 'sum.golang.org')
        : `${setNoSumDb} && ${setCommand(go, 'GOSUMDB', 'sum.golang.org')}`,
    );
  }
  return outcome.ok(
    `GONOSUMDB=${GONOSUMDB} covers ${privatePatterns.join(',')}; GONOPROXY leaves them to modgate`,
  );
}
