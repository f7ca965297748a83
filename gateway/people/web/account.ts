import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DirectoryUser } from '../../../auth/directory.ts';
import { isModgateError, ModgateError } from '../../../core/errors.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { SsoDeps } from '../sso/deps.ts';
import { CSRF_FIELD, type Csrf } from './csrf.ts';
import type { SafeHtml } from './html.ts';
import { newNonce, readForm, redirect, sendPage } from './http.ts';
import type { Frame } from './pages/layout.ts';
import { PAGE_PATHS } from './pages/layout.ts';
import { messagePage } from './pages/message.ts';
import { type RouteView, setupPage } from './pages/setup.ts';
import { tokensPage } from './pages/tokens.ts';
import type { Sessions, WebSession } from './session.ts';
import { caLine, envLines, goauthLines, netrcLines } from './setup-lines.ts';

/** A request from a signed-in, currently enabled directory user. */
interface SignedIn {
  readonly session: WebSession;
  readonly user: DirectoryUser;
  readonly csrf: string;
}

/**
 * The pages of a signed-in person: set-up (and minting a token), the token
 * list (and revoking), signing out. Every request looks the user up in the
 * directory again (through the cached lookup token users get), so a user
 * disabled there is out within `auth.cache_ttl`, as their tokens are, and
 * the groups shown are the directory's.
 */
export class AccountPages {
  readonly #deps: SsoDeps;
  readonly #sessions: Sessions;
  readonly #csrf: Csrf;

  constructor(deps: SsoDeps, sessions: Sessions, csrf: Csrf) {
    this.#deps = deps;
    this.#sessions = sessions;
    this.#csrf = csrf;
  }

  /** GET /setup */
  async setup(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const who = await this.#signedIn(ctx, req, res);
    if (who) this.#send(res, 'Set me up', who, (frame) => setupPage(frame, this.#setupView(who)));
  }

  /** POST /setup/token: mints a token and shows it once with the lines that use it. */
  async mint(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { who, form } = await this.#post(ctx, req, res);
    const issued = await this.#deps.selfService.mint(who.user, form.get('name') ?? undefined, 'web');
    this.#deps.log.info(
      { event: 'web.token.minted', user: who.user.user, jti: issued.jti, trace: ctx.id },
      'personal token minted on the set-up page',
    );
    const record = (await this.#deps.selfService.list(who.user.user)).find((r) => r.jti === issued.jti);
    const input = {
      publicUrl: this.#deps.sso.settings.publicUrl,
      user: who.user.user,
      token: issued.token,
      privatePatterns: this.#routes().flatMap((r) => (r.private ? r.modules : [])),
    };
    this.#send(res, 'Set me up', who, (frame) =>
      setupPage(frame, {
        ...this.#setupView(who),
        minted: {
          name: record?.name ?? 'personal token',
          expiresAtMs: issued.expiresAtMs,
          netrc: netrcLines(input),
          env: envLines(input),
          ca: caLine(),
        },
      }),
    );
  }

  /** GET /tokens */
  async tokens(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const who = await this.#signedIn(ctx, req, res);
    if (who) await this.#tokensPage(res, who, undefined);
  }

  /** POST /tokens/revoke: revokes one of the user's tokens by `jti`. */
  async revoke(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { who, form } = await this.#post(ctx, req, res);
    const record = await this.#deps.selfService.revoke(who.user.user, form.get('jti') ?? '');
    this.#deps.log.info(
      { event: 'web.token.revoked', user: who.user.user, jti: record.jti, trace: ctx.id },
      'personal token revoked on the tokens page',
    );
    await this.#tokensPage(res, who, `Revoked “${record.name}”. It no longer works.`);
  }

  /** POST /logout: ends the session everywhere. */
  async logout(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { who } = await this.#post(ctx, req, res);
    res.setHeader('set-cookie', await this.#sessions.end(who.session));
    const nonce = newNonce();
    sendPage(
      res,
      200,
      messagePage(
        { title: 'Signed out', nonce },
        { reason: 'You are signed out of modgate.', kind: 'notice' },
      ),
      nonce,
    );
  }

  async #tokensPage(res: ServerResponse, who: SignedIn, notice: string | undefined) {
    const tokens = await this.#deps.selfService.list(who.user.user);
    this.#send(res, 'My tokens', who, (frame) => tokensPage(frame, { tokens, csrf: who.csrf, notice }));
  }

  /**
   * The signed-in user, or undefined after redirecting a browser without a
   * session to the login (these are browser pages, never GOPROXY paths).
   */
  async #signedIn(ctx: RequestContext, req: IncomingMessage, res: ServerResponse) {
    const session = await this.#sessions.current(req);
    if (session !== undefined) return this.#resolve(ctx, res, session);
    redirect(res, `${PAGE_PATHS.login}?return=${encodeURIComponent(ctx.path)}`);
    return undefined;
  }

  /** A form post: a session (no redirect for posts), the CSRF checks, then the user. */
  async #post(ctx: RequestContext, req: IncomingMessage, res: ServerResponse) {
    const session = await this.#sessions.current(req);
    if (session === undefined) {
      req.resume();
      throw new ModgateError(
        'request.forbidden',
        'you are not signed in (or your session ended); sign in again',
      );
    }
    const form = await readForm(req);
    this.#csrf.check(req, form.get(CSRF_FIELD) ?? undefined, session);
    return { who: await this.#resolve(ctx, res, session), form };
  }

  /** The session's user as the directory has them now; a disabled or removed user's session ends. */
  async #resolve(ctx: RequestContext, res: ServerResponse, session: WebSession): Promise<SignedIn> {
    let user: DirectoryUser;
    try {
      user = await this.#deps.sso.userFor({ [this.#deps.sso.settings.userClaim]: session.user });
    } catch (err) {
      if (isModgateError(err, 'sso.login_failed'))
        res.setHeader('set-cookie', await this.#sessions.end(session));
      throw err;
    }
    ctx.identity = { user: user.user, groups: user.groups, method: 'sso' };
    return { session, user, csrf: this.#csrf.token(session) };
  }

  #setupView(who: SignedIn) {
    return {
      user: who.user.user,
      groups: who.user.groups,
      routes: this.#routes(),
      csrf: who.csrf,
      goauth: goauthLines(this.#deps.sso.settings.publicUrl),
    };
  }

  /** The routes of the policy in force now. */
  #routes(): RouteView[] {
    return this.#deps.policies.current.routes.references.map((r) => ({
      name: r.route,
      modules: r.modules,
      private: r.private,
    }));
  }

  #send(res: ServerResponse, title: string, who: SignedIn, page: (f: Frame) => SafeHtml) {
    const nonce = newNonce();
    const frame: Frame = { title, nonce, session: { user: who.user.user, csrf: who.csrf } };
    sendPage(res, 200, page(frame), nonce);
  }
}
