import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Identity } from '../../auth/identity.ts';
import { isModgateError, ModgateError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';
import type { CompiledPolicy } from '../../policies/types.ts';
import type { CredentialProvider } from '../credentials/credential.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import { countsAsFailure } from '../upstreams/guarded.ts';
import type { BodyRequest, CutShort, MetadataRequest, Trace, Upstream } from '../upstreams/upstream.ts';

/** Everything routing needs, built once at start from gateway.yaml. */
export interface RoutingDeps {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly credentials: ReadonlyMap<string, CredentialProvider>;
  /** Upstream name → the credential it uses when a route names none. */
  readonly defaultCredentials: ReadonlyMap<string, string>;
  /** Upstream name → the upstream that serves its public routes while it is failing. */
  readonly fallbacks: ReadonlyMap<string, string>;
  readonly defaultUpstream: string;
}

/** One request's upstream: the routed upstream with the subject's credential, and a fallback for public routes. */
export interface BoundUpstream {
  /** The routed upstream. */
  readonly name: string;
  readonly route: string | undefined;
  /** Whether the route is private (never falls back, never asks a public checksum database). */
  readonly private: boolean;
  /** The upstream the last call went to: `name`, or the fallback once `name` failed. */
  readonly servedBy: string;
  /** Set once the routed upstream failed and a call went to its fallback. */
  readonly fellBackFrom: string | undefined;
  fetchText(trace: Trace, request: MetadataRequest): Promise<string>;
  fetchBody(trace: Trace, request: BodyRequest): Promise<Readable>;
  serve(trace: Trace, request: GoproxyRequest, req: IncomingMessage, res: ServerResponse): Promise<CutShort>;
}

/**
 * Picks the upstream and credential for a module (docs/policies.md, `routes`): the
 * policy's routes decide, unmatched modules go to the default upstream. A
 * private route never falls back to another upstream, and a checksum lookup
 * of a private module is refused so its name never reaches a public sumdb.
 */
export function bindUpstream(
  policy: CompiledPolicy,
  identity: Identity,
  request: GoproxyRequest,
  deps: RoutingDeps,
): BoundUpstream {
  const subject: Principal = identity;
  const module = request.kind === 'sumdb' ? request.lookup?.module : request.module;
  if (request.kind === 'sumdb' && module !== undefined) {
    const glob = policy.routes.privatePattern(module);
    if (glob !== undefined) {
      throw new ModgateError(
        'policy.denied',
        `${module} is private: checksum lookups are refused; set GONOSUMDB=${glob} (or GOPRIVATE) so go does not ask`,
      );
    }
  }
  const choice =
    module === undefined
      ? { route: undefined, upstream: undefined, private: false, credential: undefined }
      : policy.routes.choose(subject, module);
  const primary = choice.upstream ?? deps.defaultUpstream;
  const fallback = choice.private ? undefined : deps.fallbacks.get(primary);

  const authorization = async (upstream: string, credentialName: string | undefined) => {
    const name = credentialName ?? deps.defaultCredentials.get(upstream);
    if (name === undefined) return undefined;
    const provider = deps.credentials.get(name);
    if (!provider) throw new ModgateError('internal', `credential ${name} is not defined`);
    return provider.authorization(subject);
  };
  const upstreamNamed = (name: string) => {
    const upstream = deps.upstreams.get(name);
    if (!upstream) throw new ModgateError('internal', `upstream ${name} is not defined`);
    return upstream;
  };
  let servedBy = primary;
  let fellBackFrom: string | undefined;
  /** Runs a call on the primary; on a failing primary, once on the fallback with its own credential. */
  const withFallback = async <T>(call: (u: Upstream, auth: string | undefined) => Promise<T>) => {
    servedBy = primary;
    try {
      return await call(upstreamNamed(primary), await authorization(primary, choice.credential));
    } catch (err) {
      // The primary is failing (not merely "no such module"): the fallback may serve a public route.
      const failing = isModgateError(err, 'upstream.circuit_open') || countsAsFailure(err);
      if (fallback === undefined || !failing) throw err;
      servedBy = fallback;
      fellBackFrom = primary;
      return call(upstreamNamed(fallback), await authorization(fallback, undefined));
    }
  };
  return {
    name: primary,
    route: choice.route,
    private: choice.private,
    get servedBy() {
      return servedBy;
    },
    get fellBackFrom() {
      return fellBackFrom;
    },
    fetchText: (trace, r) => withFallback((u, auth) => u.fetchText(trace, r, auth)),
    fetchBody: (trace, r) => withFallback((u, auth) => u.fetchBody(trace, r, auth)),
    serve: (trace, r, req, res) =>
      withFallback((u, auth) => {
        // Once the response started, a failure cannot be retried elsewhere.
        if (res.headersSent) return Promise.resolve(undefined);
        return u.serve(trace, r, req, res, auth);
      }),
  };
}
