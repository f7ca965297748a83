import type { ServerResponse } from 'node:http';
import type { RequestContext } from './context.ts';
import type { PolicyStore } from './policy-store.ts';
import type { Readiness } from './readiness.ts';
import { writeJson } from './respond.ts';

/**
 * modgate's own endpoints, unauthenticated, none of them a module path (a
 * module path's first element needs a dot): liveness, readiness, status.
 */
export const OPS_PATHS = {
  /** 200 while the process serves requests at all. */
  health: '/healthz',
  /** 200 when every dependency check passes and modgate is not draining, else 503; JSON per component. */
  ready: '/readyz',
  /** The policy in force and the last rejected edit. */
  status: '/_modgate/status',
} as const;

export interface OpsDeps {
  readonly policies: PolicyStore;
  readonly readiness: Readiness;
}

/** Answers an ops endpoint; false when the path is not one (the GOPROXY pipeline takes it). */
export function serveOps(ctx: RequestContext, res: ServerResponse, deps: OpsDeps): boolean {
  switch (ctx.path) {
    case OPS_PATHS.health:
      ctx.action = 'modgate.health';
      ctx.bytesSent += writeJson(res, { status: 'ok' });
      return true;
    case OPS_PATHS.ready: {
      ctx.action = 'modgate.ready';
      const report = deps.readiness.report();
      ctx.bytesSent += writeJson(res, report, report.ready ? 200 : 503);
      return true;
    }
    case OPS_PATHS.status:
      ctx.action = 'modgate.status';
      ctx.bytesSent += writeJson(res, { policy: deps.policies.status });
      return true;
    default:
      return false;
  }
}
