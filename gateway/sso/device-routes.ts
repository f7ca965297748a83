import type { PageHandler, SsoDeps } from './routes.ts';

/** Device login for `modgate login` and the token API: not built yet (issue 6, in progress). */
export function deviceRoutes(_deps: SsoDeps): PageHandler {
  return async () => false;
}
