/**
 * Errors of the login and token API as JSON, in the vocabulary of OAuth
 * token endpoints (RFC 6749 §5.2, RFC 8628 §3.5): `error` for programs,
 * `error_description` (one printable line) for people, and the request id.
 * The GOPROXY refusal (text/plain for the go command) does not fit a JSON API
 * whose client is `modgate login`.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ErrorCode, ModgateError } from '../../../core/errors.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { retryAfterOf, statusOf } from '../../pipeline/errors.ts';
import { writeJson } from '../../pipeline/respond.ts';

/** The OAuth `error` value of each kind of failure; codes not listed are `server_error`. */
const OAUTH_ERROR: Partial<Record<ErrorCode, string>> = {
  'request.invalid': 'invalid_request',
  'request.method_not_allowed': 'invalid_request',
  'request.forbidden': 'invalid_request',
  'auth.missing': 'invalid_token',
  'auth.malformed': 'invalid_token',
  'auth.invalid_credentials': 'invalid_token',
  'auth.revoked': 'invalid_token',
  'auth.user_disabled': 'invalid_token',
  'sso.pending': 'authorization_pending',
  'sso.login_failed': 'access_denied',
  'sso.unavailable': 'temporarily_unavailable',
  'state.unavailable': 'temporarily_unavailable',
  'auth.directory_unavailable': 'temporarily_unavailable',
  'request.rate_limited': 'temporarily_unavailable',
};

export interface ApiErrorOptions {
  /** The `error` value when the code's default does not say enough (`slow_down`, `expired_token`). */
  readonly error?: string;
  /** The HTTP status when the code's default does not fit. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Writes `err` as a JSON error answer, records it on the context, logs server errors. */
export function writeApiError(
  ctx: RequestContext,
  res: ServerResponse,
  err: ModgateError,
  log: Logger,
  options: ApiErrorOptions = {},
): void {
  ctx.error = err;
  const status = options.status ?? statusOf(err);
  if (status >= 500) {
    log.error({ err, code: err.code, detail: err.detail, trace: ctx.id, path: ctx.path }, err.message);
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) res.setHeader(name, value);
  if (status === 405) res.setHeader('allow', 'POST');
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) res.setHeader('retry-after', retryAfter);
  const reason = oneLine(err.message);
  writeJson(
    res,
    {
      error: options.error ?? OAUTH_ERROR[err.code] ?? 'server_error',
      error_description: status >= 500 ? `${reason} (request ${ctx.id})` : reason,
      request_id: ctx.id,
    },
    status,
  );
}

function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return (text.split('\n', 1)[0] ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ');
}
