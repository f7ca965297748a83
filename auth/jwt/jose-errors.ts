/**
 * Converts jose errors into ModgateError, once, at the edge of the modules
 * that call jose (the IdP JWT verifier and the personal access token
 * verifier). Each rejection carries a one-line public reason; the jose error
 * is kept as `cause` for the log.
 */
import { errors } from 'jose';
import { ModgateError } from '../../core/errors.ts';

/** Public reasons, one line each: the go command prints them. */
export const JWT_REASONS = {
  malformed: 'token is not a well-formed JWT',
  expired: 'token has expired',
  notYetValid: 'token is not yet valid',
  audience: 'token audience is not accepted',
  issuer: 'token issuer is not trusted',
  algorithm: 'token signing algorithm is not allowed',
  unknownKey: 'token signing key is unknown',
  signature: 'token signature is invalid',
  claims: 'token claims are invalid',
  idpUnavailable: 'identity provider is unavailable',
} as const;

/** Claims whose jose validation failure has its own reason. */
const CLAIM_REASONS: Readonly<Record<string, string>> = {
  nbf: JWT_REASONS.notYetValid,
  aud: JWT_REASONS.audience,
  iss: JWT_REASONS.issuer,
  exp: JWT_REASONS.expired,
};

/**
 * Maps an error thrown by jose's `jwtVerify` (or by the remote JWKS it uses)
 * to a ModgateError: `auth.invalid_credentials` for every token problem,
 * `auth.directory_unavailable` when the key set could not be fetched.
 * ModgateErrors pass through unchanged.
 */
export function fromJoseError(err: unknown, detail: Record<string, unknown> = {}): ModgateError {
  if (err instanceof ModgateError) return err;
  const reject = (reason: string) =>
    new ModgateError('auth.invalid_credentials', reason, { cause: err, detail });
  if (err instanceof errors.JWTExpired) return reject(JWT_REASONS.expired);
  if (err instanceof errors.JWTClaimValidationFailed) {
    return reject(CLAIM_REASONS[err.claim] ?? JWT_REASONS.claims);
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return reject(JWT_REASONS.algorithm);
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) {
    return reject(JWT_REASONS.unknownKey);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return reject(JWT_REASONS.signature);
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid)
    return reject(JWT_REASONS.malformed);
  if (err instanceof errors.JWKInvalid) return reject(JWT_REASONS.unknownKey);
  // JWKSTimeout, JWKSInvalid, a non-200 JWKS answer (generic JOSEError) and
  // network failures (TypeError from fetch): the IdP, not the token, is at fault.
  return new ModgateError('auth.directory_unavailable', JWT_REASONS.idpUnavailable, { cause: err, detail });
}
