import { type ErrorCode, isModgateError, ModgateError } from '../../core/errors.ts';

/**
 * The one registry from error code to HTTP status. The text a client sees is
 * the error's own one-line message (gateway/pipeline/respond.ts writes it).
 *
 * Status choices follow how the go command treats them (docs/troubleshooting.md): 404/410
 * let go try the next GOPROXY entry, so a refusal is never 404.
 */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  'request.invalid_path': 400,
  'request.not_found': 404,
  'request.method_not_allowed': 405,
  'request.query_refused': 400,
  // 404, like a proxy without sumdb support: go then asks the checksum database directly.
  'request.sumdb_not_served': 404,
  'request.headers_timeout': 408,
  'request.headers_too_large': 431,
  'request.malformed': 400,
  'auth.missing': 401,
  'auth.malformed': 401,
  'auth.invalid_credentials': 401,
  'auth.user_disabled': 403,
  'auth.directory_unavailable': 503,
  'auth.revoked': 403,
  'auth.locked_out': 429,
  'auth.throttled': 429,
  'request.rate_limited': 429,
  'upstream.busy': 503,
  'policy.denied': 403,
  'upstream.not_found': 404,
  'upstream.gone': 410,
  'upstream.unreachable': 502,
  'upstream.circuit_open': 503,
  'upstream.timeout': 504,
  'upstream.rejected_credential': 502,
  'upstream.refused': 403,
  'upstream.bad_response': 502,
  'sumdb.forked': 502,
  'sumdb.unavailable': 503,
  'sumdb.bad_response': 502,
  // Never 404: go would fetch the module around modgate from the next GOPROXY entry.
  'integrity.mismatch': 502,
  'integrity.unverifiable': 503,
  'integrity.unlisted': 502,
  'request.invalid': 400,
  'request.forbidden': 403,
  'sso.login_failed': 401,
  'sso.pending': 428,
  'sso.unavailable': 502,
  'state.unavailable': 503,
  'config.invalid': 500,
  'config.secret_unresolved': 500,
  internal: 500,
};

/** Converts anything thrown into a ModgateError; unknown errors become `internal` with a generic message. */
export function toModgateError(err: unknown): ModgateError {
  if (isModgateError(err)) return err;
  return new ModgateError('internal', 'internal error', { cause: err });
}

export function statusOf(err: ModgateError): number {
  return STATUS_BY_CODE[err.code];
}

/** The `Retry-After` value (whole seconds, ≥ 1) of a refusal that says when to retry, else undefined. */
export function retryAfterOf(err: ModgateError): string | undefined {
  const retryInMs = err.detail?.retryInMs;
  return typeof retryInMs === 'number' ? String(Math.max(1, Math.ceil(retryInMs / 1000))) : undefined;
}
