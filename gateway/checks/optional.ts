/**
 * The identity provider check: "not configured" until gateway.yaml can name
 * an OIDC issuer (issue 6). Then it fetches
 * `/.well-known/openid-configuration` and its `jwks_uri`, with the same
 * {@link Check} shape as the others (and, offline, a skip that says so, as
 * gateway/checks/dependencies.ts `notRun` makes).
 */
import type { GatewaySettings } from '../config/settings.ts';
import { type Check, outcome } from './check.ts';

/** The OIDC identity provider: skipped while gateway.yaml has no issuer. */
export function idpCheck(_settings: GatewaySettings, _offline = false): Check {
  return { name: 'idp', target: undefined, run: async () => outcome.skip('not configured') };
}
