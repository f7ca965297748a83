import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PersonalTokens } from '../../auth/pat/personal-tokens.ts';
import type { AbuseGuard } from '../abuse/guard.ts';
import type { RequestContext } from '../context.ts';
import type { PolicyStore } from '../policy-store.ts';
import type { SelfService } from '../self-service.ts';
import type { StateStore } from '../state/store.ts';
import { webRoutes } from '../web/routes.ts';
import { deviceRoutes } from './device-routes.ts';
import type { SsoClient } from './oidc.ts';

/** Answers a request if the path is one of its own; false lets the GOPROXY pipeline take it. */
export type PageHandler = (
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<boolean>;

/** What the people-facing endpoints (browser pages, device login, token self-service) need. */
export interface SsoDeps {
  readonly sso: SsoClient;
  readonly selfService: SelfService;
  readonly personalTokens: PersonalTokens;
  readonly policies: PolicyStore;
  /** Sessions, CSRF secrets and pending logins, shared by every process. */
  readonly store: StateStore;
  readonly log: Logger;
  /** Limits the unauthenticated calls that reach the IdP. */
  readonly abuse: Pick<AbuseGuard, 'deviceLoginStart'>;
}

/**
 * The endpoints for people rather than for the go command. None is a module
 * path (a module path's first element has a dot), so they cannot shadow one.
 * The browser pages (gateway/web) come first, then device login and the token
 * API (gateway/sso/device-routes.ts).
 */
export function ssoRoutes(deps: SsoDeps): PageHandler {
  const web = webRoutes(deps);
  const device = deviceRoutes(deps);
  return async (ctx, req, res) => (await web(ctx, req, res)) || (await device(ctx, req, res));
}
