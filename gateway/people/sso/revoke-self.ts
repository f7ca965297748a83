/**
 * `POST /_modgate/tokens/revoke-self` (`modgate logout`): the personal token
 * presented (Basic password, as in a netrc, or Bearer) is its own proof, so
 * no other login is needed to revoke it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { credentialShape } from '../../../auth/jwt/credential-shape.ts';
import { ModgateError } from '../../../core/errors.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { writeJson } from '../../pipeline/respond.ts';
import { readFields } from './api-request.ts';
import type { SsoDeps } from './deps.ts';

export async function revokeSelf(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: SsoDeps,
): Promise<void> {
  // A browser that cached Basic credentials for modgate would send them along with
  // another site's form post: a cross-origin request may not revoke anything.
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== new URL(deps.sso.settings.publicUrl).origin) {
    throw new ModgateError('request.forbidden', 'cross-origin requests may not revoke tokens');
  }
  await readFields(req);
  const shape = credentialShape(req.headers.authorization);
  if (shape.kind === 'missing') {
    throw new ModgateError('auth.missing', 'send the personal token as the Basic password or a Bearer token');
  }
  if (shape.kind !== 'basic-pat' && shape.kind !== 'bearer-pat') {
    throw new ModgateError('auth.malformed', 'the credential is not a modgate personal token (mgp_…)');
  }
  const revoked = await deps.selfService.revokePresented(shape.secret);
  deps.log.info(
    { event: 'token.revoked', owner: revoked.owner, jti: revoked.jti, via: 'revoke-self', trace: ctx.id },
    'personal token revoked by its holder',
  );
  ctx.bytesSent += writeJson(res, { revoked: true, owner: revoked.owner, jti: revoked.jti });
}
