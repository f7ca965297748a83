/**
 * `POST /_modgate/tokens/refresh` (`modgate credential`, the GOAUTH helper):
 * the refresh token of a sign-in, as a Bearer token, buys a new short-lived
 * access token for the go command. No browser, no directory password.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../../pipeline/context.ts';
import { writeJson } from '../../pipeline/respond.ts';
import type { SsoDeps } from './deps.ts';
import { presentedToken } from './presented-token.ts';

export async function refreshAccess(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: SsoDeps,
): Promise<void> {
  const token = await presentedToken(req, deps, 'refresh tokens');
  const issued = await deps.selfService.refresh(token);
  ctx.identity = { user: issued.owner, groups: [], method: 'pat' };
  deps.log.info(
    { event: 'token.refreshed', owner: issued.owner, jti: issued.jti, parent: issued.parent, trace: ctx.id },
    'access token refreshed',
  );
  writeJson(res, {
    token: issued.token,
    user: issued.owner,
    expires_at: new Date(issued.expiresAtMs).toISOString(),
  });
}
