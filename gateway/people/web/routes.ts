import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModgateError } from '../../../core/errors.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { statusOf, toModgateError } from '../../pipeline/errors.ts';
import type { PageHandler, SsoDeps } from '../sso/deps.ts';
import { AccountPages } from './account.ts';
import { SealedCookies } from './cookies.ts';
import { Csrf } from './csrf.ts';
import { newNonce, sendPage } from './http.ts';
import { BrowserLogin } from './login.ts';
import { PAGE_PATHS } from './pages/layout.ts';
import { messagePage } from './pages/message.ts';
import { Sessions } from './session.ts';

/** One page: its method, its audit action and what serves it. */
interface PageRoute {
  readonly method: 'GET' | 'POST';
  readonly action: string;
  readonly serve: (ctx: RequestContext, req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/**
 * Browser login and the pages for people: `/login` and its callback
 * (authorization code + PKCE), "Set me up" (`/setup`, a token with the
 * netrc and environment lines), "My tokens" (`/tokens`, revoke) and sign-out.
 * Every answer is an HTML page with strict security headers (http.ts);
 * failures become a page with the one-line reason and the status of
 * gateway/pipeline/errors.ts. Anything else is left to the GOPROXY pipeline.
 */
export function webRoutes(deps: SsoDeps): PageHandler {
  const settings = deps.sso.settings;
  const cookies = new SealedCookies(settings.sessionKey);
  const sessions = new Sessions(cookies, deps.store, settings.sessionTtlMs);
  const csrf = new Csrf(settings.sessionKey, settings.publicUrl);
  const login = new BrowserLogin(deps.sso, cookies, sessions);
  const account = new AccountPages(deps, sessions, csrf);

  const routes = new Map<string, PageRoute>([
    [
      PAGE_PATHS.login,
      { method: 'GET', action: 'modgate.web.login', serve: (_, req, res) => login.start(req, res) },
    ],
    [
      PAGE_PATHS.callback,
      {
        method: 'GET',
        action: 'modgate.web.login.callback',
        serve: async (ctx, req, res) => {
          const { user } = await login.finish(req, res);
          ctx.identity = { user: user.user, groups: user.groups, method: 'sso' };
          deps.log.info({ event: 'web.login', user: user.user, trace: ctx.id }, 'signed in on the web');
        },
      },
    ],
    [
      PAGE_PATHS.setup,
      { method: 'GET', action: 'modgate.web.setup', serve: (c, q, r) => account.setup(c, q, r) },
    ],
    [
      PAGE_PATHS.mint,
      { method: 'POST', action: 'modgate.web.token.mint', serve: (c, q, r) => account.mint(c, q, r) },
    ],
    [
      PAGE_PATHS.tokens,
      { method: 'GET', action: 'modgate.web.tokens', serve: (c, q, r) => account.tokens(c, q, r) },
    ],
    [
      PAGE_PATHS.revoke,
      { method: 'POST', action: 'modgate.web.token.revoke', serve: (c, q, r) => account.revoke(c, q, r) },
    ],
    [
      PAGE_PATHS.logout,
      { method: 'POST', action: 'modgate.web.logout', serve: (c, q, r) => account.logout(c, q, r) },
    ],
  ]);

  return async (ctx, req, res) => {
    const route = routes.get(ctx.path);
    if (route === undefined) return false;
    ctx.action = route.action;
    try {
      if (ctx.method !== route.method) {
        req.resume();
        res.setHeader('allow', route.method);
        throw new ModgateError(
          'request.method_not_allowed',
          `method ${ctx.method.slice(0, 16)} not allowed here; use ${route.method}`,
        );
      }
      await route.serve(ctx, req, res);
    } catch (err) {
      failurePage(ctx, res, toModgateError(err), deps);
    }
    return true;
  };
}

/** The page for a refusal or failure: status by code, the one-line reason; server errors logged with the request id. */
function failurePage(ctx: RequestContext, res: ServerResponse, err: ModgateError, deps: SsoDeps): void {
  ctx.error = err;
  const status = statusOf(err);
  const fields = { event: 'web.failure', code: err.code, detail: err.detail, trace: ctx.id, path: ctx.path };
  if (status >= 500) deps.log.error({ ...fields, err }, err.message);
  else deps.log.info(fields, err.message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const nonce = newNonce();
  const signIn = err.code.startsWith('sso.') || ctx.path === PAGE_PATHS.callback;
  const page = messagePage(
    { title: signIn ? 'Sign-in failed' : 'Request refused', nonce },
    { reason: err.message, kind: 'error', requestId: status >= 500 ? ctx.id : undefined, retry: signIn },
  );
  sendPage(res, status, page, nonce);
}
