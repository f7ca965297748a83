import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Identity } from '../../auth/identity.ts';
import type { CredentialKind } from '../../auth/jwt/credential-shape.ts';
import type { ModgateError } from '../../core/errors.ts';
import { canonicalVersion } from '../../core/gomod/module.ts';
import { isValid } from '../../core/gomod/semver.ts';
import type { Decision } from '../../policies/types.ts';
import type { IntegrityFacts } from '../integrity/integrity.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import { clientIp, TrustedProxies } from './client-ip.ts';

/**
 * What the audit record and the metrics say of one request (parse →
 * authenticate → authorize → forward). The stages return what they found and
 * the pipeline (gateway/pipeline/handler.ts) writes it here; status and body
 * bytes are read from the response when it closes. Nothing is hung on `req`.
 */
export interface RequestContext {
  /** Random id, returned as `x-request-id` and logged as `trace.id`. */
  readonly id: string;
  readonly startedAt: bigint;
  readonly sourceIp: string;
  readonly method: string;
  /** The raw request path, without the query. */
  readonly path: string;
  request: GoproxyRequest | undefined;
  /** The audit `event.action` for requests that are not GOPROXY requests (e.g. `modgate.status`). */
  action: string | undefined;
  /** What an admin call acted on (a user, a module version), audited as `labels.target`. */
  adminTarget: string | undefined;
  identity: Identity | undefined;
  /** The kind of credential the request carried (known once authentication starts). */
  credential: CredentialKind | undefined;
  /** The user name a Basic credential claimed, as sent (audited when authentication fails). */
  claimedUser: string | undefined;
  upstream: string | undefined;
  /** The policy route that chose the upstream (undefined: the default upstream). */
  route: string | undefined;
  /** Set when the routed upstream failed and its fallback served the request. */
  fellBackFrom: string | undefined;
  /** The policy decision that applied, and the policy's content hash. */
  policy: { readonly version: string; readonly decision: Decision } | undefined;
  /** Versions removed from an `@v/list` / `@latest` answer by the policy. */
  policyFiltered: number;
  /**
   * The canonical version the upstream resolved a version query to (`@latest`,
   * or a branch, tag or commit asked for as `@v/<query>.info`): what the policy decided on.
   */
  resolvedVersion: string | undefined;
  /** What verifying a `.mod` / `.zip` found (gateway/integrity), when it was verified. */
  integrity: IntegrityFacts | undefined;
  /** The refusal, when the request was refused or failed. */
  error: ModgateError | undefined;
  status: number;
  /** Body bytes sent to the client (counted by gateway/pipeline/counted-response.ts). */
  bytesSent: number;
}

/** A new context; the source IP honours X-Forwarded-For only from trusted proxies. */
export function newRequestContext(
  req: IncomingMessage,
  trusted: TrustedProxies = TrustedProxies.none,
): RequestContext {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    id: newRequestId(),
    startedAt: process.hrtime.bigint(),
    sourceIp: clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted) ?? '',
    method: req.method ?? 'GET',
    path: q === -1 ? url : url.slice(0, q),
    request: undefined,
    action: undefined,
    adminTarget: undefined,
    identity: undefined,
    credential: undefined,
    claimedUser: undefined,
    upstream: undefined,
    route: undefined,
    fellBackFrom: undefined,
    policy: undefined,
    policyFiltered: 0,
    resolvedVersion: undefined,
    integrity: undefined,
    error: undefined,
    status: 0,
    bytesSent: 0,
  };
}

/** A request id: 122 random bits from Node's buffered pool (cheaper than a CSPRNG call per request). */
export function newRequestId(): string {
  return randomUUID().replaceAll('-', '');
}

/**
 * Module path and version of the request, for audit and messages. A version
 * query (`latest`, a branch, tag or commit) is `query`; `version` is then what
 * the upstream resolved it to, when it got that far.
 */
export function moduleOf(
  request: GoproxyRequest | undefined,
  resolvedVersion?: string,
): { path?: string; version?: string; query?: string } {
  if (!request) return {};
  if (request.kind === 'sumdb')
    return request.lookup ? { path: request.lookup.module, version: request.lookup.version } : {};
  if (request.kind === 'latest') return { path: request.module, version: resolvedVersion, query: 'latest' };
  if (!('version' in request)) return { path: request.module };
  if (isVersionQuery(request.version))
    return { path: request.module, version: resolvedVersion, query: request.version };
  return { path: request.module, version: request.version };
}

/** Whether an `.info` request names a query (branch, tag, commit, `v1.5`) rather than a canonical semantic version. */
export function isVersionQuery(version: string): boolean {
  return !isValid(version) || canonicalVersion(version) !== version;
}
