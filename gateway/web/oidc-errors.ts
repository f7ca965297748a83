import * as oidc from 'openid-client';
import { isModgateError, ModgateError } from '../../core/errors.ts';

/** Longest piece of IdP-supplied text put into a reason (characters). */
const MAX_IDP_TEXT_CHARS = 120;

/**
 * Converts what openid-client throws during a login into modgate's codes,
 * once, here at the edge: the IdP said no or its answer did not verify →
 * `sso.login_failed` (with the IdP's OAuth error code); the IdP could not
 * be reached, timed out or answered with a server error → `sso.unavailable`.
 * Causes are attached only where they hold no code, state or secret.
 */
export function fromOidcError(err: unknown): ModgateError {
  if (isModgateError(err)) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    return new ModgateError(
      'sso.login_failed',
      `the identity provider refused the login: ${describe(err.error, err.error_description)}`,
    );
  }
  if (err instanceof oidc.ResponseBodyError) {
    return new ModgateError(
      'sso.login_failed',
      `the identity provider refused the login code: ${describe(err.error, err.error_description)}`,
      { detail: { status: err.status } },
    );
  }
  if (err instanceof oidc.ClientError) {
    if (err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
      return new ModgateError('sso.unavailable', 'the identity provider answered with an error', {
        cause: err,
      });
    }
    return new ModgateError(
      'sso.login_failed',
      `the identity provider's answer did not verify: ${clip(err.message)}`,
      { cause: err },
    );
  }
  if (err instanceof TypeError || (err instanceof DOMException && /^(Timeout|Abort)Error$/.test(err.name))) {
    return new ModgateError('sso.unavailable', 'the identity provider is unavailable', { cause: err });
  }
  return new ModgateError('internal', 'internal error', { cause: err });
}

function describe(error: string, description: string | undefined): string {
  return clip(description ? `${error} (${description})` : error);
}

function clip(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: IdP text must stay one printable line
  const line = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return line.length > MAX_IDP_TEXT_CHARS ? `${line.slice(0, MAX_IDP_TEXT_CHARS - 1)}…` : line;
}
