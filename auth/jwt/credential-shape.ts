/**
 * Recognises which kind of credential an `Authorization` header carries, so
 * the authenticator picks one verifier instead of trying each in turn.
 * The go command sends tokens mostly as the Basic password (netrc), so a
 * Basic password is inspected too. Opaque tokens look like passwords; they
 * are recognised by the Basic user name they come with (`tokenLogin`).
 */
import { MAX_AUTHORIZATION_BYTES, parseBasic, schemeOf } from '../basic.ts';
import { isJwtShaped, isPatShaped } from '../pat/token-format.ts';

/** The kinds of credential modgate distinguishes. */
export type CredentialKind =
  | 'missing'
  | 'basic-password'
  | 'basic-jwt'
  | 'basic-pat'
  | 'basic-opaque'
  | 'bearer-jwt'
  | 'bearer-pat'
  | 'bearer-opaque'
  | 'malformed';

/** The kind, and the parts the matching verifier needs (or, when malformed, why). */
export type CredentialShape =
  | { readonly kind: 'missing' }
  | {
      readonly kind: 'basic-password';
      readonly username: string;
      readonly secret: string;
    }
  | {
      readonly kind: 'basic-jwt' | 'basic-pat';
      /** Token verifiers ignore it; undefined after the `tokenLogin`, which names no user. */
      readonly username: string | undefined;
      readonly secret: string;
    }
  | { readonly kind: 'basic-opaque' | 'bearer-jwt' | 'bearer-pat' | 'bearer-opaque'; readonly secret: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/** RFC 6750 §2.1 b64token. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface CredentialShapeOptions {
  /**
   * The Basic user name (netrc `login`) that says "the password is a token",
   * so an opaque one is introspected instead of checked as a directory
   * password (go ≤1.23 cannot send Bearer). Undefined: no such name.
   */
  readonly tokenLogin?: string | undefined;
}

/** Classifies an `Authorization` header value (RFC 7235 §4.2); never throws. Basic is parsed as strictly as `parseBasic`. */
export function credentialShape(
  header: string | undefined,
  options: CredentialShapeOptions = {},
): CredentialShape {
  if (header === undefined || header.trim() === '') return { kind: 'missing' };
  if (header.length > MAX_AUTHORIZATION_BYTES) return malformed(header);
  const match = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*) +(\S+) *$/.exec(header);
  if (match === null) return malformed(header);
  const scheme = match[1]!.toLowerCase();
  const value = match[2]!;
  if (scheme === 'basic') return basicShape(header, options.tokenLogin);
  if (scheme === 'bearer') {
    if (!B64TOKEN.test(value)) return malformed(header);
    if (isPatShaped(value)) return { kind: 'bearer-pat', secret: value };
    if (isJwtShaped(value)) return { kind: 'bearer-jwt', secret: value };
    return { kind: 'bearer-opaque', secret: value };
  }
  return malformed(header);
}

function basicShape(header: string, tokenLogin: string | undefined): CredentialShape {
  let parsed: { username: string; password: string };
  try {
    parsed = parseBasic(header);
  } catch (err) {
    return { kind: 'malformed', reason: (err as Error).message };
  }
  const { username, password: secret } = parsed;
  if (username === tokenLogin) {
    if (isPatShaped(secret)) return { kind: 'basic-pat', username: undefined, secret };
    if (isJwtShaped(secret)) return { kind: 'basic-jwt', username: undefined, secret };
    return { kind: 'basic-opaque', secret };
  }
  if (isPatShaped(secret)) return { kind: 'basic-pat', username, secret };
  if (isJwtShaped(secret)) return { kind: 'basic-jwt', username, secret };
  return { kind: 'basic-password', username, secret };
}

/** Why a header is malformed: Basic's precise reason, else the scheme modgate does not take. */
function malformed(header: string): CredentialShape {
  const scheme = schemeOf(header);
  if (scheme === 'basic') {
    try {
      parseBasic(header);
    } catch (err) {
      return { kind: 'malformed', reason: (err as Error).message };
    }
  }
  return {
    kind: 'malformed',
    reason: `unsupported authorization scheme "${scheme.slice(0, 20)}"; use Basic (a password or token) or Bearer (a JWT)`,
  };
}
