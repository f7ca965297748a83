import { webRoutes } from '../web/routes.ts';
import type { PageHandler, SsoDeps } from './deps.ts';
import { deviceRoutes } from './device-routes.ts';

/**
 * The endpoints for people rather than for the go command. None is a module
 * path (a module path's first element has a dot), so they cannot shadow one.
 * The browser pages (gateway/people/web) come first, then device login and the token
 * API (gateway/people/sso/device-routes.ts).
 */
export function ssoRoutes(deps: SsoDeps): PageHandler {
  const web = webRoutes(deps);
  const device = deviceRoutes(deps);
  return async (ctx, req, res) => (await web(ctx, req, res)) || (await device(ctx, req, res));
}
