/**
 * Checks for dependencies gateway.yaml cannot configure yet: Redis (shared
 * state, issue 5) and an OIDC identity provider (issue 6). Each reports "not
 * configured" until its settings exist; then its check goes here (Redis: an
 * authenticated PING within the command timeout; IdP: fetching
 * `/.well-known/openid-configuration` and its `jwks_uri`), with the same
 * {@link Check} shape as the others (and, with `offline`, a skip that says so,
 * as gateway/checks/dependencies.ts `notRun` makes).
 */
import type { GatewaySettings } from '../config/settings.ts';
import { type Check, outcome } from './check.ts';

/** Redis: skipped while gateway.yaml has no Redis settings. */
export function redisCheck(_settings: GatewaySettings, _offline = false): Check {
  return { name: 'redis', target: undefined, run: async () => outcome.skip('not configured') };
}

/** The OIDC identity provider: skipped while gateway.yaml has no issuer. */
export function idpCheck(_settings: GatewaySettings, _offline = false): Check {
  return { name: 'idp', target: undefined, run: async () => outcome.skip('not configured') };
}
