/**
 * `POST /_modgate/tokens/revoke-self` (`modgate logout`): the personal token
 * presented (Basic password, as in a netrc, or Bearer) is its own proof, so
 * no other login is needed to revoke it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../../pipeline/context.ts';
import { writeJson } from '../../pipeline/respond.ts';
import type { SsoDeps } from './deps.ts';
import { presentedToken } from './presented-token.ts';

export async function revokeSelf(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: SsoDeps,
): Promise<void> {
  const token = await presentedToken(req, deps, 'revoke tokens');
  const revoked = await deps.selfService.revokePresented(token);
  deps.log.info(
    { event: 'token.revoked', owner: revoked.owner, jti: revoked.jti, via: 'revoke-self', trace: ctx.id },
    'personal token revoked by its holder',
  );
  writeJson(res, { revoked: true, owner: revoked.owner, jti: revoked.jti });
}
