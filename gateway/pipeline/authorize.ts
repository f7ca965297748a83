import { ModgateError } from '../../core/errors.ts';
import { pickLatest } from '../../core/gomod/latest.ts';
import { escapeVersion } from '../../core/gomod/module.ts';
import * as semver from '../../core/gomod/semver.ts';
import { versionOrder } from '../../core/gomod/toolchain.ts';
import type { Principal } from '../../core/principal.ts';
import type { CompiledPolicy, Decision, Verdict } from '../../policies/types.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import type { MetadataRequest, Trace } from '../upstreams/upstream.ts';
import { isMissing } from '../upstreams/upstream-errors.ts';
import { isVersionQuery } from './context.ts';
import type { PublishTimes } from './publish-times.ts';
import type { BoundUpstream } from './route.ts';

/** Publish-time lookups one `@v/list` may run at once against the upstream (requests). */
const PUBLISH_TIME_CONCURRENCY = 8;

/** What the pipeline does after authorization: forward as is, or send modgate's own answer. */
export type Authorized =
  | { readonly kind: 'forward' }
  | { readonly kind: 'answer'; readonly body: string; readonly contentType: string };

/** The policy decision that applied, and the policy's content hash. */
export interface PolicyRecord {
  readonly version: string;
  readonly decision: Decision;
}

/** What authorization decided and found, for the pipeline and the audit record. */
export interface Authorization {
  /** What to do; `refuse` carries the denial (`policy.denied`) or the failure that stopped it. */
  readonly outcome: Authorized | { readonly kind: 'refuse'; readonly error: unknown };
  /** The decision that applied, when one did. */
  readonly policy: PolicyRecord | undefined;
  /** Versions removed from an `@v/list` / `@latest` answer. */
  readonly filtered: number;
  /**
   * The canonical version the upstream resolved a version query to (`@latest`,
   * or a branch, tag or commit asked for as `@v/<query>.info`): what the policy decided on.
   */
  readonly resolvedVersion: string | undefined;
}

export interface AuthorizeDeps {
  readonly policy: CompiledPolicy;
  readonly upstream: BoundUpstream;
  readonly publishTimes: PublishTimes;
}

/** One authorization as it runs: what it needs, and what it has found so far. */
interface Run {
  readonly trace: Trace;
  readonly deps: AuthorizeDeps;
  readonly subject: Principal;
  found: { policy: PolicyRecord | undefined; filtered: number; resolvedVersion: string | undefined };
}

/**
 * The one authorization step: applies the policy to a request of any kind
 * (docs/policies.md "Matching"). Versioned requests are decided by version;
 * `@v/list` is answered with the denied versions removed; `@latest` resolves
 * to the newest allowed version. A denial is `policy.denied` (403, never
 * 404, so `GOPROXY=modgate,direct` cannot fetch around it). Never throws: a
 * failure is a `refuse` outcome, returned with what was found until then.
 */
export async function authorize(
  trace: Trace,
  request: GoproxyRequest,
  subject: Principal,
  deps: AuthorizeDeps,
): Promise<Authorization> {
  const run: Run = {
    trace,
    deps,
    subject,
    found: { policy: undefined, filtered: 0, resolvedVersion: undefined },
  };
  let outcome: Authorization['outcome'];
  try {
    outcome = await decide(run, request);
  } catch (error) {
    outcome = { kind: 'refuse', error };
  }
  return { outcome, ...run.found };
}

async function decide(run: Run, request: GoproxyRequest): Promise<Authorized> {
  if (request.kind === 'sumdb') return { kind: 'forward' };
  const { subject, deps } = run;
  const { policy } = deps;
  if (request.kind === 'info' && isVersionQuery(request.version)) return resolveQuery(run, request);
  if ('version' in request) {
    const decision = await decideVersion(run, request.module, request.escapedModule, request.version);
    record(run, decision);
    if (decision.action === 'deny') throw denied(`${request.module}@${request.version}`, decision);
    return { kind: 'forward' };
  }
  const whole = policy.decideModule({ subject, module: request.module });
  record(run, whole);
  if (whole.action === 'deny') throw denied(request.module, whole);
  const listRequest = { kind: 'list', module: request.module, escapedModule: request.escapedModule } as const;
  // For @latest a missing list is not final: the upstream may still resolve a pseudo-version.
  const listed = await deps.upstream
    .fetchText(run.trace, listRequest)
    .catch((err: unknown) => (request.kind === 'latest' && isMissing(err) ? '' : Promise.reject(err)));
  const versions = listed
    .split('\n')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  const verdicts = await decideAll(run, request.module, request.escapedModule, versions);
  const allowed = versions.filter((_, i) => verdicts[i]?.action === 'allow');
  const newestDenied = newestOf(
    request.module,
    versions.filter((_, i) => verdicts[i]?.action === 'deny'),
  );
  if (versions.length > 0 && allowed.length === 0 && newestDenied !== undefined) {
    const decision = verdicts[versions.indexOf(newestDenied)] as Decision;
    record(run, decision);
    throw denied(`${request.module}@${newestDenied}`, decision);
  }
  run.found.filtered = versions.length - allowed.length;
  if (request.kind === 'list') {
    return {
      kind: 'answer',
      body: allowed.map((v) => `${v}\n`).join(''),
      contentType: 'text/plain; charset=utf-8',
    };
  }
  return latest(run, request, pickLatest(allowed, request.module));
}

/**
 * `@v/<query>.info` for a branch, tag or commit (or a non-canonical `v1.5`):
 * the upstream answers with the `.info` of the version it resolved, so modgate
 * reads that small document, decides on the resolved version, and only then
 * sends it. (`.mod` and `.zip` are refused for anything but canonical versions
 * when the path is parsed; go only ever asks for those.)
 */
async function resolveQuery(
  run: Run,
  request: Omit<MetadataRequest & { kind: 'info' }, 'kind'>,
): Promise<Authorized> {
  const info = await run.deps.upstream.fetchText(run.trace, { ...request, kind: 'info' });
  return decideResolved(run, request, info, request.version);
}

/**
 * Decides on the version an upstream `.info` answer names (for `query`, as the
 * client asked it) and returns that answer, or throws the denial. An answer
 * without a canonical `Version` is a bad response, never an allow.
 */
async function decideResolved(
  run: Run,
  request: { module: string; escapedModule: string },
  info: string,
  query: string,
): Promise<Authorized> {
  const { module, escapedModule } = request;
  const version = versionOf(info);
  if (version === undefined) {
    throw new ModgateError(
      'upstream.bad_response',
      `upstream ${run.deps.upstream.name} sent an unreadable .info for ${module}@${query}`,
    );
  }
  run.found.resolvedVersion = version;
  const decision = await decideVersion(run, module, escapedModule, version);
  record(run, decision);
  if (decision.action === 'deny') throw denied(`${module}@${version}`, decision);
  return { kind: 'answer', body: info, contentType: 'application/json' };
}

/** `@latest`: the newest allowed listed version's `.info`; without tags, the upstream's own answer; either is decided on the version it names. */
async function latest(
  run: Run,
  request: { kind: 'list' | 'latest'; module: string; escapedModule: string },
  newestAllowed: string | undefined,
): Promise<Authorized> {
  const { module, escapedModule } = request;
  const { upstream } = run.deps;
  // No tagged versions: the upstream resolves @latest (a pseudo-version), which the policy then judges.
  const info =
    newestAllowed === undefined
      ? await upstream.fetchText(run.trace, { kind: 'latest', module, escapedModule })
      : await upstream.fetchText(run.trace, {
          kind: 'info',
          module,
          escapedModule,
          version: newestAllowed,
          escapedVersion: escapeVersion(newestAllowed),
        });
  return decideResolved(run, request, info, 'latest');
}

async function decideVersion(
  run: Run,
  module: string,
  escapedModule: string,
  version: string,
): Promise<Decision> {
  const { deps, subject } = run;
  const now = Date.now();
  const publishedAt = deps.policy.needsPublishTime(subject, module, now)
    ? await deps.publishTimes.of(run.trace, deps.upstream, module, escapedModule, version)
    : undefined;
  return deps.policy.decide({ subject, module, version, publishedAt, now });
}

/** Decides every listed version, fetching publish times (a bounded number at a time) only when a rule needs them. */
async function decideAll(
  run: Run,
  module: string,
  escapedModule: string,
  versions: readonly string[],
): Promise<Decision[]> {
  const out: Decision[] = new Array(versions.length);
  let next = 0;
  const worker = async () => {
    while (next < versions.length) {
      const i = next++;
      out[i] = await decideVersion(run, module, escapedModule, versions[i] as string);
    }
  };
  const workers = run.deps.policy.needsPublishTime(run.subject, module) ? PUBLISH_TIME_CONCURRENCY : 1;
  await Promise.all(Array.from({ length: Math.min(workers, Math.max(versions.length, 1)) }, worker));
  return out;
}

/** The newest valid version of `module` in the list (by Go's order for golang.org/toolchain). */
function newestOf(module: string, versions: readonly string[]): string | undefined {
  const order = versionOrder(module);
  return versions
    .filter((v) => semver.isValid(v))
    .reduce<string | undefined>((a, v) => (a === undefined || order(v, a) > 0 ? v : a), undefined);
}

/** The `Version` of an `.info` document, if it is a canonical semantic version. */
function versionOf(infoJson: string): string | undefined {
  try {
    const v = (JSON.parse(infoJson) as { Version?: unknown }).Version;
    return typeof v === 'string' && !isVersionQuery(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function record(run: Run, decision: Decision): void {
  run.found.policy = { version: run.deps.policy.version, decision };
}

/** The refusal the go command prints: `<module>@<version> denied by rule "<name>": <reason>`. */
export function denied(target: string, verdict: Verdict): ModgateError {
  const by = verdict.rule === undefined ? 'by the default policy' : `by rule "${verdict.rule}"`;
  const reason = verdict.reason ? `: ${verdict.reason}` : '';
  return new ModgateError('policy.denied', `${target} denied ${by}${reason}`);
}
