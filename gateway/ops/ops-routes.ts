import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseDuration } from '../../core/duration.ts';
import { ModgateError } from '../../core/errors.ts';
import type { Integrity } from '../integrity/integrity.ts';
import type { PolicyStore } from '../pipeline/policy-store.ts';
import { writeJson } from '../pipeline/respond.ts';
import type { Revocations } from '../pipeline/revocations.ts';
import { servePins } from './pins-route.ts';
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
  /** Admin: first-seen records and pinned hashes; see pins-route.ts. */
  pins: '/_modgate/admin/pins',
} as const;

/** Default length of a revocation made without `for`. */
const DEFAULT_REVOCATION = '24h';

export interface OpsDeps {
  readonly policies: PolicyStore;
  readonly readiness: Readiness;
  readonly revocations: Revocations;
  /** The admin bearer token; the admin API is off without one. */
  readonly adminToken: string | undefined;
  /** The integrity stage, whose records the pins API reads and forgets. */
  readonly integrity?: Integrity | undefined;
}

/** What an ops endpoint tells the audit record: the action, and what an admin call acted on. */
export interface OpsAnswer {
  readonly action: string;
  readonly target?: string;
}

/** Answers an ops endpoint; false when the path is not one (the GOPROXY pipeline takes it). */
export async function serveOps(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  deps: OpsDeps,
  /** Called before the answer is written (the audit action must be known if the call is refused). */
  known: (answer: OpsAnswer) => void,
): Promise<boolean> {
  switch (path) {
    case OPS_PATHS.revoke:
      known({ action: 'modgate.admin.revoke' });
      checkAdmin(req, deps);
      known({ action: 'modgate.admin.revoke', target: await revoke(req, res, deps) });
      return true;
    case OPS_PATHS.pins: {
      const action = `modgate.admin.pins.${req.method === 'DELETE' ? 'forget' : 'read'}`;
      known({ action });
      checkAdmin(req, deps);
      await servePins(req, res, deps.integrity, (target) => known({ action, target }));
      return true;
    }
    case OPS_PATHS.health:
      known({ action: 'modgate.health' });
      writeJson(res, { status: 'ok' });
      return true;
    case OPS_PATHS.ready: {
      known({ action: 'modgate.ready' });
      const report = deps.readiness.report();
      writeJson(res, report, report.ready ? 200 : 503);
      return true;
    }
    case OPS_PATHS.status:
      known({ action: 'modgate.status' });
      writeJson(res, { policy: deps.policies.status });
      return true;
    default:
      return false;
  }
}

/** Refuses a call without the admin bearer token (compared in constant time). */
function checkAdmin(req: IncomingMessage, deps: OpsDeps): void {
  const expected = deps.adminToken === undefined ? undefined : Buffer.from(`Bearer ${deps.adminToken}`);
  const given = Buffer.from(req.headers.authorization ?? '');
  if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ModgateError(
      'auth.invalid_credentials',
      deps.adminToken ? 'admin token required' : 'the admin API is not enabled',
    );
  }
}

/** Revokes or lifts; resolves the user acted on. */
async function revoke(req: IncomingMessage, res: ServerResponse, deps: OpsDeps): Promise<string> {
  const query = new URL(req.url ?? '/', 'http://modgate').searchParams;
  const user = query.get('user') ?? '';
  if (user === '' || user.length > 256) throw new ModgateError('request.invalid_path', 'user= is required');
  if (req.method === 'DELETE') {
    await deps.revocations.lift(user);
    writeJson(res, { user, revoked: false });
    return user;
  }
  if (req.method !== 'POST')
    throw new ModgateError('request.method_not_allowed', 'use POST to revoke, DELETE to lift');
  const forMs = parseDuration(query.get('for') ?? DEFAULT_REVOCATION);
  if (forMs === undefined || forMs <= 0)
    throw new ModgateError('request.invalid_path', 'for= must be a duration such as 24h');
  const { until } = await deps.revocations.revoke(user, forMs);
  writeJson(res, { user, revoked: true, until: until.toISOString() });
  return user;
}
