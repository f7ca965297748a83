import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import type { DirectoryUser } from '../../../auth/directory.ts';
import { isModgateError, ModgateError } from '../../../core/errors.ts';
import type { SsoClient } from '../sso/oidc.ts';
import { clearedCookie, type SealedCookies } from './cookies.ts';
import { redirect } from './http.ts';
import { PAGE_PATHS } from './pages/layout.ts';
import type { Sessions, WebSession } from './session.ts';

/** The cookie that carries a login in progress from /login to /login/callback. */
export const LOGIN_COOKIE = '__Host-modgate-login';
/** How long a person may take at the IdP before the login must start again (seconds). */
export const LOGIN_TTL_S = 600;
/** Longest piece of IdP-supplied text put into a reason (characters). */
const MAX_IDP_TEXT_CHARS = 120;
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
    const { session, setCookie } = this.#sessions.start(user.user);
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

/**
 * Converts what openid-client throws during a login into modgate's codes,
 * once, here at the edge: the IdP said no or its answer did not verify →
 * `sso.login_failed` (with the IdP's OAuth error code); the IdP could not
 * be reached, timed out or answered with a server error → `sso.unavailable`.
 * Causes are attached only where they hold no code, state or secret.
 */
export function fromOidcError(err: unknown): ModgateError {
  if (isModgateError(err)) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    return new ModgateError(
      'sso.login_failed',
      `the identity provider refused the login: ${describe(err.error, err.error_description)}`,
    );
  }
  if (err instanceof oidc.ResponseBodyError) {
    return new ModgateError(
      'sso.login_failed',
      `the identity provider refused the login code: ${describe(err.error, err.error_description)}`,
      { detail: { status: err.status } },
    );
  }
  if (err instanceof oidc.ClientError) {
    if (err.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') {
      return new ModgateError('sso.unavailable', 'the identity provider answered with an error', {
        cause: err,
      });
    }
    return new ModgateError(
      'sso.login_failed',
      `the identity provider's answer did not verify: ${clip(err.message)}`,
      { cause: err },
    );
  }
  if (err instanceof TypeError || (err instanceof DOMException && /^(Timeout|Abort)Error$/.test(err.name))) {
    return new ModgateError('sso.unavailable', 'the identity provider is unavailable', { cause: err });
  }
  return new ModgateError('internal', 'internal error', { cause: err });
}

function describe(error: string, description: string | undefined): string {
  return clip(description ? `${error} (${description})` : error);
}

function clip(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: IdP text must stay one printable line
  const line = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return line.length > MAX_IDP_TEXT_CHARS ? `${line.slice(0, MAX_IDP_TEXT_CHARS - 1)}…` : line;
}
