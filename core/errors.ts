/**
 * The one error type modgate code throws. Callers match on `code`, never on
 * message text. `message` is the public, one-line reason a client may see (no
 * secrets, no internals); `detail` and `cause` are for the operational log only.
 *
 * The mapping code → HTTP status lives in gateway/pipeline/errors.ts.
 */
export type ErrorCode =
  // request shape
  | 'request.invalid_path'
  | 'request.not_found'
  | 'request.method_not_allowed'
  | 'request.query_refused' // a GOPROXY request with a query string (go never sends one)
  | 'request.sumdb_not_served' // a checksum database that is not configured
  | 'request.headers_timeout' // the request headers did not arrive in time (slowloris)
  | 'request.headers_too_large' // the request headers exceed Node's limit
  | 'request.malformed' // not parseable as HTTP/1.1
  // authentication
  | 'auth.missing'
  | 'auth.malformed'
  | 'auth.invalid_credentials'
  | 'auth.user_disabled'
  | 'auth.directory_unavailable'
  | 'auth.revoked'
  | 'auth.locked_out'
  | 'auth.throttled' // a failed login from a source that fails for many user names
  | 'request.rate_limited'
  | 'upstream.busy'
  // authorization
  | 'policy.denied'
  // upstream
  | 'upstream.not_found'
  | 'upstream.gone'
  | 'upstream.unreachable'
  | 'upstream.circuit_open'
  | 'upstream.timeout'
  | 'upstream.rejected_credential'
  | 'upstream.refused'
  | 'upstream.bad_response'
  // checksum database (sumdb/)
  | 'sumdb.forked' // a tree head inconsistent with the one accepted before
  | 'sumdb.unavailable' // the checksum database could not be asked
  | 'sumdb.bad_response' // an answer that does not verify
  // integrity (gateway/integrity)
  | 'integrity.mismatch' // the bytes do not hash to what the checksum database or the pin says
  | 'integrity.unverifiable' // nothing to verify against right now (checksum database unreachable, nothing recorded)
  | 'integrity.unlisted' // a public module version the checksum database has no record of
  // browser pages, token self-service and login (gateway/people/web, gateway/people/sso)
  | 'request.invalid' // a form or API body that does not make sense
  | 'request.forbidden' // CSRF check failed, or not the owner
  | 'sso.login_failed' // the IdP said no, or its answer did not check out
  | 'sso.pending' // device grant: the person has not approved yet
  | 'sso.unavailable' // the IdP could not be asked
  | 'state.unavailable' // the shared store could not be asked for something that must not be guessed
  // configuration (start-up and CLI)
  | 'config.invalid'
  | 'config.secret_unresolved'
  // anything else: a bug
  | 'internal';

export interface ModgateErrorOptions {
  /** The foreign error this one converts, for the log. */
  cause?: unknown;
  /** Extra context for the log; never shown to clients. */
  detail?: Record<string, unknown>;
}

export class ModgateError extends Error {
  override readonly name = 'ModgateError';
  readonly code: ErrorCode;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ModgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.detail = options.detail;
  }
}

export function isModgateError(err: unknown, code?: ErrorCode): err is ModgateError {
  return err instanceof ModgateError && (code === undefined || err.code === code);
}
