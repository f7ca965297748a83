import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/authenticator.ts';
import { ModgateError } from '../../core/errors.ts';
import type { AbuseGuard } from '../abuse/guard.ts';
import type { Integrity } from '../integrity/integrity.ts';
import type { AuditLog } from '../ops/audit.ts';
import type { Metrics } from '../ops/metrics.ts';
import { type OpsAnswer, serveOps } from '../ops/ops-routes.ts';
import type { Readiness } from '../ops/readiness.ts';
import type { PageHandler } from '../people/sso/deps.ts';
import type { ParsedPaths } from '../protocol/parsed-paths.ts';
import { isBodyRequest } from '../upstreams/upstream.ts';
import { admit } from './admit.ts';
import { authorize } from './authorize.ts';
import type { TrustedProxies } from './client-ip.ts';
import { newRequestContext, type RequestContext } from './context.ts';
import { bodyBytesOf } from './counted-response.ts';
import { retryAfterOf, statusOf, toModgateError } from './errors.ts';
import type { PolicyStore } from './policy-store.ts';
import type { PublishTimes } from './publish-times.ts';
import { writeAnswer, writeRefusal } from './respond.ts';
import type { Revocations } from './revocations.ts';
import { type BoundUpstream, bindUpstream, type RoutingDeps } from './route.ts';

export interface PipelineDeps {
  readonly authenticator: Authenticator;
  readonly routing: RoutingDeps;
  readonly policies: PolicyStore;
  readonly readiness: Readiness;
  readonly revocations: Revocations;
  readonly adminToken: string | undefined;
  readonly metrics: Metrics;
  readonly publishTimes: PublishTimes;
  readonly audit: AuditLog;
  readonly log: Logger;
  readonly realm: string;
  readonly abuse: AbuseGuard;
  readonly trustedProxies: TrustedProxies;
  /** The checksum databases served under `/sumdb/<name>/` (`checksum_databases`). */
  readonly checksumDatabases: ReadonlySet<string>;
  /** Recently parsed GOPROXY paths. */
  readonly paths: ParsedPaths;
  /** Verifies `.mod` and `.zip` before serving them, unless `integrity.mode` is off. */
  readonly integrity?: Integrity | undefined;
  /** Login, set-up and token pages, when `sso` is configured. */
  readonly pages?: PageHandler | undefined;
}

/**
 * The request pipeline: parse → authenticate → authorize → forward, then one audit record
 * when the response is over (however it ended). Each stage is a function of
 * its own; this only sequences them and turns a thrown ModgateError into the
 * refusal the go command prints.
 */
export function createHandler(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const authLog = deps.log.child({ stream: 'auth' });
  return (req, res) => {
    const ctx = newRequestContext(req, deps.trustedProxies);
    res.setHeader('x-request-id', ctx.id);
    // Draining: finish this response, then close the connection so the client reconnects elsewhere.
    if (deps.readiness.draining) res.setHeader('connection', 'close');
    // Which upstream served is known once serve ends; the response may close before run resumes.
    const served: Served = {};
    res.once('close', () => {
      if (served.by) {
        ctx.upstream = served.by.servedBy;
        ctx.fellBackFrom = served.by.fellBackFrom;
      }
      ctx.status = res.headersSent ? res.statusCode : 0;
      ctx.bytesSent = bodyBytesOf(res);
      deps.audit.record(ctx);
      deps.metrics.request(ctx);
    });
    run(ctx, served, req, res, deps, authLog).catch((err: unknown) =>
      refuse(ctx, res, toModgateError(err), deps),
    );
  };
}

/** The upstream a request was bound to, read when its response closes. */
interface Served {
  by?: BoundUpstream;
}

async function run(
  ctx: RequestContext,
  served: Served,
  req: IncomingMessage,
  res: ServerResponse,
  deps: PipelineDeps,
  authLog: Logger,
) {
  const ops = (answer: OpsAnswer) => {
    ctx.action = answer.action;
    ctx.adminTarget = answer.target;
  };
  if (await serveOps(ctx.path, req, res, deps, ops)) return;
  if (deps.pages && (await deps.pages(ctx, req, res))) return;
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
    throw new ModgateError(
      'request.method_not_allowed',
      `method ${ctx.method.slice(0, 16)} not allowed; GOPROXY is read-only`,
    );
  }
  const request = deps.paths.parse(ctx.path);
  ctx.request = request;
  admit(req.url ?? '', request, deps.checksumDatabases);
  // Parsed once: the lockout needs the claimed user name, authentication the rest.
  const shape = deps.authenticator.shape(req.headers.authorization);
  ctx.credential = shape.kind;
  const claimed = 'username' in shape ? shape.username : undefined;
  ctx.claimedUser = claimed;
  await deps.abuse.beforeAuthentication(claimed);
  try {
    ctx.identity = await deps.authenticator.authenticate(req.headers.authorization, shape);
  } catch (err) {
    const e = toModgateError(err);
    authLog.info({ event: 'auth.failure', code: e.code, reason: e.message, ip: ctx.sourceIp, trace: ctx.id });
    const password = shape.kind === 'basic-password';
    throw await deps.abuse.authenticationFailed(e, { username: claimed, ip: ctx.sourceIp, password });
  }
  await deps.abuse.rateLimit(ctx.identity);
  // One policy per request, even if a reload lands meanwhile.
  const policy = deps.policies.current;
  const upstream = bindUpstream(policy, ctx.identity, request, deps.routing);
  served.by = upstream;
  ctx.upstream = upstream.name;
  ctx.route = upstream.route;
  res.once('close', await deps.abuse.enterUpstream(upstream.name));
  const authorization = await authorize(ctx, request, ctx.identity, {
    policy,
    upstream,
    publishTimes: deps.publishTimes,
  });
  ctx.policy = authorization.policy;
  ctx.policyFiltered = authorization.filtered;
  ctx.resolvedVersion = authorization.resolvedVersion;
  const { outcome } = authorization;
  if (outcome.kind === 'refuse') throw outcome.error;
  if (outcome.kind === 'answer') {
    writeAnswer(res, outcome.body, outcome.contentType);
    return;
  }
  if (deps.integrity && isBodyRequest(request)) {
    ctx.error = await deps.integrity.serve(ctx, request, upstream, req, res, (facts) => {
      ctx.integrity = facts;
    });
    return;
  }
  ctx.error = await upstream.serve(ctx, request, req, res);
}

function refuse(ctx: RequestContext, res: ServerResponse, err: ModgateError, deps: PipelineDeps): void {
  ctx.error = err;
  const status = statusOf(err);
  if (status >= 500) {
    deps.log.error({ err, code: err.code, detail: err.detail, trace: ctx.id, path: ctx.path }, err.message);
  }
  const headers: Record<string, string> = {};
  let hints: string[] = [];
  if (status === 401) headers['www-authenticate'] = `Basic realm="${deps.realm}", charset="UTF-8"`;
  if (status === 405) headers.allow = 'GET, HEAD';
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  if (err.code === 'auth.missing') hints = netrcHints(res.req);
  writeRefusal(res, ctx.id, err, headers, hints);
}

/** Tells a go user where credentials go: ~/.netrc (go sends them only over https). */
function netrcHints(req: IncomingMessage): string[] {
  const host = (req.headers.host ?? 'this-host').replace(/:\d+$/, '').replace(/[^A-Za-z0-9.:[\]-]/g, '');
  return [
    `add your credentials to ~/.netrc (or the file $NETRC names):`,
    `  machine ${host} login <user> password <password or token>`,
  ];
}
