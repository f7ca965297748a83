import { hkdfSync } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ValueSealer } from '../../state/crypto.ts';

/** HKDF salt for keys derived from `sso.session_key` (RFC 5869 §3.1): names the use, not a secret. */
const KEY_SALT = 'modgate web v1';
/** Id of the derived sealing key in sealed cookie values. */
const COOKIE_KEY_ID = 'w1';
/** Most cookie bytes read from a request; browsers keep a cookie under 4 KiB (RFC 6265 §6.1). */
const MAX_COOKIE_HEADER_CHARS = 16_384;

/** A 32-byte key for `use`, derived from the configured session key (HKDF-SHA256, RFC 5869). */
export function deriveKey(sessionKey: string, use: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionKey, KEY_SALT, use, 32));
}

/** The cookies of a request by name (the first of duplicates wins, as browsers send the most specific first). */
export function parseCookies(req: IncomingMessage): Map<string, string> {
  const cookies = new Map<string, string>();
  const header = (req.headers.cookie ?? '').slice(0, MAX_COOKIE_HEADER_CHARS);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/**
 * A `Set-Cookie` value for a `__Host-` cookie: Secure, no Domain and Path=/
 * as that prefix requires (RFC 6265bis §4.1.3.2), HttpOnly so page scripts
 * never see it, SameSite=Lax so it comes back on the IdP's redirect to the
 * callback (a top-level GET) but not on cross-site form posts.
 */
export function hostCookie(name: string, value: string, maxAgeS: number): string {
  return `${name}=${value}; Max-Age=${Math.max(0, Math.floor(maxAgeS))}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

/** A `Set-Cookie` value that removes the cookie `name`. */
export function clearedCookie(name: string): string {
  return hostCookie(name, '', 0);
}

/**
 * Cookie values sealed with AES-256-GCM (gateway/state/crypto.ts) under a key
 * derived from `sso.session_key`, so any gateway process with the same key
 * can open them and none can be forged or read by the browser. The cookie
 * name is the additional authenticated data: a value moved to another
 * cookie does not open.
 */
export class SealedCookies {
  readonly #sealer: ValueSealer;

  constructor(sessionKey: string) {
    this.#sealer = new ValueSealer([{ id: COOKIE_KEY_ID, key: deriveKey(sessionKey, 'cookie sealing') }]);
  }

  /** The `Set-Cookie` value holding `value` (JSON) sealed for `maxAgeS` seconds. */
  seal(name: string, value: unknown, maxAgeS: number): string {
    return hostCookie(name, this.#sealer.seal(name, JSON.stringify(value)), maxAgeS);
  }

  /** The value of the cookie `name` if it opens and `isValid` accepts it; otherwise undefined. */
  open<T>(req: IncomingMessage, name: string, isValid: (v: unknown) => v is T): T | undefined {
    const sealed = parseCookies(req).get(name);
    if (sealed === undefined || sealed === '') return undefined;
    const text = this.#sealer.open(name, sealed);
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return isValid(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
}
