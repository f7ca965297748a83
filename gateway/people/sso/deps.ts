/**
 * What the people-facing endpoints need, as types only: a leaf that the
 * browser pages (gateway/people/web) and device login (gateway/people/sso) both import, so
 * neither imports the other's router.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PersonalTokens } from '../../../auth/pat/personal-tokens.ts';
import type { AbuseGuard } from '../../abuse/guard.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { PolicyStore } from '../../pipeline/policy-store.ts';
import type { StateStore } from '../../state/store.ts';
import type { SelfService } from '../self-service.ts';
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
