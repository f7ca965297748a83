import { ModgateError } from '../core/errors.ts';

/** A parsed `Authorization: Basic` credential (RFC 7617). */
export interface BasicCredential {
  readonly username: string;
  readonly password: string;
}

/** RFC 7235 token68, as Basic uses it: base64 with optional padding. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Longest Authorization header value accepted (bytes); a JWT with many claims fits. */
export const MAX_AUTHORIZATION_BYTES = 8192;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses an Authorization header value that uses the Basic scheme, strictly:
 * case-insensitive scheme, one space, canonical base64, valid UTF-8, a colon,
 * a non-empty user-id, and no control characters (RFC 7617 §2).
 * Malformed input is `auth.malformed` with a reason the client can act on.
 */
export function parseBasic(header: string): BasicCredential {
  if (header.length > MAX_AUTHORIZATION_BYTES) throw malformed('Authorization header is too long');
  const space = header.indexOf(' ');
  if (space === -1 || header.slice(0, space).toLowerCase() !== 'basic') {
    throw malformed('expected "Authorization: Basic <base64>"');
  }
  const token = header.slice(space + 1);
  if (!BASE64.test(token) || token.length % 4 !== 0)
    throw malformed('Basic credentials are not valid base64');
  let decoded: string;
  try {
    decoded = strictUtf8.decode(Buffer.from(token, 'base64'));
  } catch {
    throw malformed('Basic credentials are not valid UTF-8');
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) throw malformed('Basic credentials lack the ":" between user and password');
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (username === '') throw malformed('Basic credentials have an empty user name');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 7617 forbids control characters
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw malformed('Basic credentials contain control characters');
  return { username, password };
}

/** The scheme of an Authorization header value, lowercased ("basic", "bearer", ...). */
export function schemeOf(header: string): string {
  const space = header.indexOf(' ');
  return (space === -1 ? header : header.slice(0, space)).toLowerCase();
}

function malformed(reason: string): ModgateError {
  return new ModgateError('auth.malformed', reason);
}
