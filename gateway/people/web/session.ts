import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type StateStore, stateKey } from '../../state/store.ts';
import { clearedCookie, type SealedCookies } from './cookies.ts';

/** The session cookie; `__Host-` makes the browser insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-modgate-session';
/** Random bytes of a session id (128 bits). */
const SESSION_ID_BYTES = 16;
/** Namespace of the state-store marks of sessions ended by signing out. */
const ENDED_NAMESPACE = 'web-session-ended';

/**
 * A signed-in browser: who (the directory user name), which session (random
 * id, the CSRF tokens are bound to it) and until when. It lives only in the
 * sealed cookie; the user is looked up in the directory again on every page
 * (account.ts), so one disabled there loses access whatever the cookie says.
 */
export interface WebSession {
  readonly user: string;
  readonly sid: string;
  readonly expiresAtMs: number;
}

function isSession(v: unknown): v is WebSession {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.user === 'string' && typeof s.sid === 'string' && typeof s.expiresAtMs === 'number';
}

/**
 * Browser sessions in sealed cookies (stateless, so any gateway process
 * serves any page). Signing out also marks the session id as ended in the
 * shared state store until it would have expired, so a copy of the cookie
 * taken before sign-out is useless afterwards.
 */
export class Sessions {
  readonly #cookies: SealedCookies;
  readonly #store: StateStore;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(cookies: SealedCookies, store: StateStore, ttlMs: number, now: () => number = Date.now) {
    this.#cookies = cookies;
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** A new session for `user` and the `Set-Cookie` value that carries it. */
  start(user: string): { session: WebSession; setCookie: string } {
    const session: WebSession = {
      user,
      sid: randomBytes(SESSION_ID_BYTES).toString('base64url'),
      expiresAtMs: this.#now() + this.#ttlMs,
    };
    return { session, setCookie: this.#cookies.seal(SESSION_COOKIE, session, this.#ttlMs / 1000) };
  }

  /** The request's session, or undefined when it has none, or an expired, forged or ended one. */
  async current(req: IncomingMessage): Promise<WebSession | undefined> {
    const session = this.#cookies.open(req, SESSION_COOKIE, isSession);
    if (session === undefined || session.expiresAtMs <= this.#now()) return undefined;
    if ((await this.#store.get(stateKey(ENDED_NAMESPACE, session.sid))) !== undefined) return undefined;
    return session;
  }

  /** Ends `session` everywhere; returns the `Set-Cookie` value that removes the cookie. */
  async end(session: WebSession): Promise<string> {
    const left = session.expiresAtMs - this.#now();
    if (left > 0) await this.#store.set(stateKey(ENDED_NAMESPACE, session.sid), '1', Math.ceil(left));
    return clearedCookie(SESSION_COOKIE);
  }
}
