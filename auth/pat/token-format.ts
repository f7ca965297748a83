/**
 * The wire format of a modgate personal access token: `mgp_` followed by a
 * compact JWS (RFC 7515 §7.1) signed by modgate. The prefix lets the
 * authenticator pick the PAT verifier from the credential's shape, and lets
 * secret scanners recognise leaked tokens.
 */

/** Prefix of every personal access token. */
export const PAT_PREFIX = 'mgp_';
/** JOSE `typ` header of a personal access token, so no other JWT can pass as one. */
export const PAT_TYP = 'modgate-pat+jwt';

/** Three base64url segments, the first a JSON object (`eyJ` is base64url of `{"`); the signature may be empty (`alg: none`). */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether `text` looks like a compact JWS/JWT. Says nothing about validity. */
export function isJwtShaped(text: string): boolean {
  return JWT_SHAPE.test(text);
}

/** Whether `text` looks like a personal access token. */
export function isPatShaped(text: string): boolean {
  return text.startsWith(PAT_PREFIX) && isJwtShaped(text.slice(PAT_PREFIX.length));
}
