import type { IncomingMessage } from 'node:http';
import { credentialShape } from '../../../auth/jwt/credential-shape.ts';
import { ModgateError } from '../../../core/errors.ts';
import { readFields } from './api-request.ts';
import type { SsoDeps } from './deps.ts';

/**
 * The modgate token a token API call presents as its own proof (Basic
 * password, as in a netrc, or Bearer), after the request's checks: same
 * origin (a browser that cached Basic credentials for modgate would send them
 * along with another site's form post) and a well-formed body.
 */
export async function presentedToken(req: IncomingMessage, deps: SsoDeps, what: string): Promise<string> {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== new URL(deps.sso.settings.publicUrl).origin) {
    throw new ModgateError('request.forbidden', `cross-origin requests may not ${what}`);
  }
  await readFields(req);
  const shape = credentialShape(req.headers.authorization);
  if (shape.kind === 'missing') {
    throw new ModgateError('auth.missing', 'send the personal token as the Basic password or a Bearer token');
  }
  if (shape.kind !== 'basic-pat' && shape.kind !== 'bearer-pat') {
    throw new ModgateError('auth.malformed', 'the credential is not a modgate personal token (mgp_…)');
  }
  return shape.secret;
}
