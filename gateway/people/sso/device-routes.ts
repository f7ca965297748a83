/**
 * The JSON API behind `modgate login` and `modgate logout`:
 *
 * - `POST /_modgate/login/device` starts a device authorization at the IdP
 *   (RFC 8628 §3.1) and answers its codes, at most DEVICE_LOGIN_STARTS per
 *   source IP per minute (429 with `Retry-After` beyond);
 * - `POST /_modgate/login/device/token` (`device_code`, optional `name`) asks
 *   the IdP's token endpoint once: `authorization_pending` (428) or
 *   `slow_down` (400) while the person has not approved (RFC 8628 §3.5), else
 *   a new personal token for the enabled directory user the ID token names;
 * - `POST /_modgate/tokens/revoke-self` revokes the token presented.
 *
 * Tokens, device codes and the client secret are never logged or audited.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tokenName } from '../../../auth/pat/token-registry.ts';
import { ModgateError } from '../../../core/errors.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { toModgateError } from '../../pipeline/errors.ts';
import { writeJson } from '../../pipeline/respond.ts';
import { readFields, requirePost } from './api-request.ts';
import { writeApiError } from './api-response.ts';
import type { PageHandler, SsoDeps } from './deps.ts';
import { DeviceGrant, MAX_DEVICE_CODE_CHARS } from './device-grant.ts';
import { refreshAccess } from './refresh-access.ts';
import { revokeSelf } from './revoke-self.ts';

/** The paths of the login and token API. */
export const DEVICE_PATHS = {
  start: '/_modgate/login/device',
  token: '/_modgate/login/device/token',
  revokeSelf: '/_modgate/tokens/revoke-self',
  refresh: '/_modgate/tokens/refresh',
} as const;

/** Label of a token minted by `modgate login` without `--name`. */
const DEFAULT_DEVICE_TOKEN_NAME = 'modgate login';

/** The RFC 8628 §3.5 `error` values modgate passes on from the IdP; other failures use their code's value. */
const DEVICE_ERRORS = new Set(['access_denied', 'expired_token']);

type Handler = (ctx: RequestContext, req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function deviceRoutes(deps: SsoDeps): PageHandler {
  const grant = new DeviceGrant(deps.sso);
  const routes: Record<string, { action: string; run: Handler }> = {
    [DEVICE_PATHS.start]: {
      action: 'modgate.login.device.start',
      run: async (ctx, req, res) => {
        await readFields(req);
        await deps.abuse.deviceLoginStart(ctx.sourceIp);
        const started = await grant.start();
        deps.log.info({ event: 'sso.device.start', trace: ctx.id }, 'device login started');
        writeJson(res, started);
      },
    },
    [DEVICE_PATHS.token]: {
      action: 'modgate.login.device.token',
      run: (ctx, req, res) => deviceToken(ctx, req, res, deps, grant),
    },
    [DEVICE_PATHS.revokeSelf]: {
      action: 'modgate.token.revoke_self',
      run: (ctx, req, res) => revokeSelf(ctx, req, res, deps),
    },
    [DEVICE_PATHS.refresh]: {
      action: 'modgate.token.refresh',
      run: (ctx, req, res) => refreshAccess(ctx, req, res, deps),
    },
  };
  return async (ctx, req, res) => {
    const route = Object.hasOwn(routes, ctx.path) ? routes[ctx.path] : undefined;
    if (route === undefined) return false;
    ctx.action = route.action;
    try {
      requirePost(ctx);
      await route.run(ctx, req, res);
    } catch (err) {
      const e = toModgateError(err);
      const oauthError = e.detail?.error;
      writeApiError(ctx, res, e, deps.log, {
        ...(typeof oauthError === 'string' && DEVICE_ERRORS.has(oauthError) ? { error: oauthError } : {}),
        // RFC 6750 §3: a refused token gets a Bearer challenge (the go command never calls this API).
        ...(e.code.startsWith('auth.')
          ? { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } }
          : {}),
        ...(e.code === 'sso.login_failed' ? { status: 403 } : {}),
      });
    }
    return true;
  };
}

async function deviceToken(
  ctx: RequestContext,
  req: IncomingMessage,
  res: ServerResponse,
  deps: SsoDeps,
  grant: DeviceGrant,
): Promise<void> {
  const fields = await readFields(req);
  const deviceCode = fields.device_code ?? '';
  if (deviceCode === '' || deviceCode.length > MAX_DEVICE_CODE_CHARS) {
    throw new ModgateError('request.invalid', 'device_code is required');
  }
  const polled = await grant.poll(deviceCode);
  if (polled.state !== 'approved') {
    const pending = new ModgateError('sso.pending', 'waiting for you to approve the sign-in');
    // RFC 8628 §3.5: slow_down is an error like the others; 428 marks plain waiting.
    writeApiError(ctx, res, pending, deps.log, {
      error: polled.state,
      ...(polled.state === 'slow_down' ? { status: 400 } : {}),
    });
    return;
  }
  const user = await deps.sso.userFor(polled.claims);
  ctx.identity = { user: user.user, groups: user.groups, method: 'sso' };
  const name = tokenName(fields.name, DEFAULT_DEVICE_TOKEN_NAME);
  // goauth=1 (`modgate login` for GOAUTH): a refresh token for `modgate credential` and a first access token.
  const signIn =
    fields.goauth === '1' ? await deps.selfService.mintRefreshable(user, name, 'device') : undefined;
  const issued = signIn?.access ?? (await deps.selfService.mint(user, name, 'device'));
  deps.log.info(
    { event: 'sso.device.login', user: user.user, jti: signIn?.refresh.jti ?? issued.jti, trace: ctx.id },
    signIn
      ? 'sign-in for modgate credential issued through device login'
      : 'personal token issued through device login',
  );
  writeJson(res, {
    token: issued.token,
    user: user.user,
    groups: user.groups,
    expires_at: new Date(issued.expiresAtMs).toISOString(),
    ...(signIn
      ? {
          refresh_token: signIn.refresh.token,
          refresh_expires_at: new Date(signIn.refresh.expiresAtMs).toISOString(),
        }
      : {}),
    private_patterns: privatePatterns(deps),
  });
}

/** The module patterns of the private routes in force, which the developer's GONOSUMDB must cover. */
function privatePatterns(deps: SsoDeps): string[] {
  const routes = deps.policies.current.routes.references;
  return [...new Set(routes.flatMap((r) => (r.private ? r.modules : [])))];
}
