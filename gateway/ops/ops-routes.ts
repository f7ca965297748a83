import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../../core/duration.ts';
import { ModgateError } from '../../core/errors.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { PolicyStore } from '../pipeline/policy-store.ts';
import { writeJson } from '../pipeline/respond.ts';
import type { Revocations } from '../pipeline/revocations.ts';
import type { Readiness } from './readiness.ts';

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
  /** Admin: `POST ?user=alice&for=24h` revokes, `DELETE ?user=alice` lifts; `Authorization: Bearer <admin.token>`. */
  revoke: '/_modgate/admin/revoke',
} as const;

/** Default length of a revocation made without `for`. */
const DEFAULT_REVOCATION = '24h';

export interface OpsDeps {
  readonly policies: PolicyStore;
  readonly readiness: Readiness;
  readonly revocations: Revocations;
  /** The admin bearer token; the admin API is off without one. */
  readonly adminToken: string | undefined;
}

/** Answers an ops endpoint; false when the path is not one (the GOPROXY pipeline takes it). */
export async function serveOps(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: OpsDeps,
): Promise<boolean> {
  if (ctx.path === OPS_PATHS.revoke) {
    ctx.action = 'modgate.admin.revoke';
    await revoke(req, res, deps);
    return true;
  }
  switch (ctx.path) {
    case OPS_PATHS.health:
      ctx.action = 'modgate.health';
      writeJson(res, { status: 'ok' });
      return true;
    case OPS_PATHS.ready: {
      ctx.action = 'modgate.ready';
      const report = deps.readiness.report();
      writeJson(res, report, report.ready ? 200 : 503);
      return true;
    }
    case OPS_PATHS.status:
      ctx.action = 'modgate.status';
      writeJson(res, { policy: deps.policies.status });
      return true;
    default:
      return false;
  }
}

async function revoke(req: IncomingMessage, res: ServerResponse, deps: OpsDeps): Promise<void> {
  const expected = deps.adminToken === undefined ? undefined : Buffer.from(`Bearer ${deps.adminToken}`);
  const given = Buffer.from(req.headers.authorization ?? '');
  if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ModgateError(
      'auth.invalid_credentials',
      deps.adminToken ? 'admin token required' : 'the admin API is not enabled',
    );
  }
  const query = new URL(req.url ?? '/', 'http://modgate').searchParams;
  const user = query.get('user') ?? '';
  if (user === '' || user.length > 256) throw new ModgateError('request.invalid_path', 'user= is required');
  if (req.method === 'DELETE') {
    await deps.revocations.lift(user);
    writeJson(res, { user, revoked: false });
    return;
  }
  if (req.method !== 'POST')
    throw new ModgateError('request.method_not_allowed', 'use POST to revoke, DELETE to lift');
  const forMs = parseDuration(query.get('for') ?? DEFAULT_REVOCATION);
  if (forMs === undefined || forMs <= 0)
    throw new ModgateError('request.invalid_path', 'for= must be a duration such as 24h');
  const { until } = await deps.revocations.revoke(user, forMs);
  writeJson(res, { user, revoked: true, until: until.toISOString() });
}
