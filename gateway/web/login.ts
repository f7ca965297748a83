import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import type { DirectoryUser } from '../../auth/directory.ts';
import { ModgateError } from '../../core/errors.ts';
import type { SsoClient } from '../sso/oidc.ts';
import { clearedCookie, type SealedCookies } from './cookies.ts';
import { fromOidcError } from './oidc-errors.ts';
import { PAGE_PATHS } from './pages/layout.ts';
import { redirect } from './respond.ts';
import type { Sessions, WebSession } from './session.ts';

/** The cookie that carries a login in progress from /login to /login/callback. */
export const LOGIN_COOKIE = '__Host-modgate-login';
/** How long a person may take at the IdP before the login must start again (seconds). */
export const LOGIN_TTL_S = 600;
/** Pages a login may return to (no open redirect: anything else goes to the set-up page). */
const RETURN_PATHS: ReadonlySet<string> = new Set([PAGE_PATHS.setup, PAGE_PATHS.tokens]);

/** What /login remembers for the callback: the PKCE verifier and the values the IdP must echo. */
interface PendingLogin {
  readonly verifier: string;
  readonly state: string;
  readonly nonce: string;
  readonly returnTo: string;
  readonly expiresAtMs: number;
}

function isPendingLogin(v: unknown): v is PendingLogin {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    ['verifier', 'state', 'nonce', 'returnTo'].every((k) => typeof p[k] === 'string') &&
    typeof p.expiresAtMs === 'number'
  );
}

/**
 * Browser login by OpenID Connect authorization code with PKCE (RFC 6749
 * §4.1, RFC 7636, OIDC Core §3.1). The pending login lives in a short-lived
 * sealed cookie, so whichever gateway process gets the callback can finish
 * it; `state` ties the callback to this browser and `nonce` the ID token to
 * this login.
 */
export class BrowserLogin {
  readonly #sso: SsoClient;
  readonly #cookies: SealedCookies;
  readonly #sessions: Sessions;

  constructor(sso: SsoClient, cookies: SealedCookies, sessions: Sessions) {
    this.#sso = sso;
    this.#cookies = cookies;
    this.#sessions = sessions;
  }

  /** GET /login[?return=/tokens]: remembers the login and sends the browser to the IdP. */
  async start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const config = await this.#sso.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const pending: PendingLogin = {
      verifier,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      returnTo: returnPath(req),
      expiresAtMs: Date.now() + LOGIN_TTL_S * 1000,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#sso.settings.redirectUri,
      scope: this.#sso.settings.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    res.setHeader('set-cookie', this.#cookies.seal(LOGIN_COOKIE, pending, LOGIN_TTL_S));
    redirect(res, url.href);
  }

  /**
   * GET /login/callback: exchanges the code, verifies the ID token, maps its
   * claims to an enabled directory user and starts a session. The pending
   * login is cleared whatever the outcome.
   */
  async finish(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ user: DirectoryUser; session: WebSession }> {
    res.setHeader('set-cookie', clearedCookie(LOGIN_COOKIE));
    const pending = this.#cookies.open(req, LOGIN_COOKIE, isPendingLogin);
    if (pending === undefined || pending.expiresAtMs <= Date.now()) {
      throw new ModgateError(
        'sso.login_failed',
        'this sign-in expired or was started in another browser; please sign in again',
      );
    }
    const config = await this.#sso.configuration();
    // The callback URL as registered at the IdP, with this request's query: never trust the Host header.
    const current = new URL(this.#sso.settings.redirectUri);
    current.search = new URL(req.url ?? '/', 'https://modgate.invalid').search;
    const tokens = await oidc
      .authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      })
      .catch((err: unknown) => {
        throw fromOidcError(err);
      });
    const claims = tokens.claims();
    if (claims === undefined) {
      throw new ModgateError('sso.login_failed', 'the identity provider sent no ID token');
    }
    const user = await this.#sso.userFor(claims);
    const { session, setCookie } = this.#sessions.start(user.name);
    res.setHeader('set-cookie', [clearedCookie(LOGIN_COOKIE), setCookie]);
    redirect(res, pending.returnTo);
    return { user, session };
  }
}

/** The page to come back to after login: `?return=` when it is one of ours, else the set-up page. */
function returnPath(req: IncomingMessage): string {
  const wanted = new URL(req.url ?? '/', 'https://modgate.invalid').searchParams.get('return');
  return wanted !== null && RETURN_PATHS.has(wanted) ? wanted : PAGE_PATHS.setup;
}
