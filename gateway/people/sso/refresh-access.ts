/**
 * `POST /_modgate/tokens/refresh` (`modgate credential`, the GOAUTH helper):
 * the refresh token of a sign-in, as a Bearer token, buys a new short-lived
 * access token for the go command. No browser, no directory password.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialShape } from '../../../auth/jwt/credential-shape.ts';
import { ModgateError } from '../../../core/errors.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { writeJson } from '../../pipeline/respond.ts';
import { readFields } from './api-request.ts';
import type { SsoDeps } from './deps.ts';

export async function refreshAccess(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: SsoDeps,
): Promise<void> {
  await readFields(req);
  const shape = credentialShape(req.headers.authorization);
  if (shape.kind === 'missing') {
    throw new ModgateError('auth.missing', 'send the refresh token of modgate login as a Bearer token');
  }
  if (shape.kind !== 'bearer-pat' && shape.kind !== 'basic-pat') {
    throw new ModgateError('auth.malformed', 'the credential is not a modgate refresh token (mgp_…)');
  }
  const issued = await deps.selfService.refresh(shape.secret);
  ctx.identity = { user: issued.owner, groups: [], method: 'pat' };
  deps.log.info(
    { event: 'token.refreshed', owner: issued.owner, jti: issued.jti, parent: issued.parent, trace: ctx.id },
    'access token refreshed',
  );
  ctx.bytesSent += writeJson(res, {
    token: issued.token,
    user: issued.owner,
    expires_at: new Date(issued.expiresAtMs).toISOString(),
  });
}
