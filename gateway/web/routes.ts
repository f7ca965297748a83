import type { PageHandler, SsoDeps } from '../sso/routes.ts';

/** Browser login and the set-up and token pages: not built yet (issue 6, in progress). */
export function webRoutes(_deps: SsoDeps): PageHandler {
  return async () => false;
}
