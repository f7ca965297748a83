/**
 * The identity provider check: for each JWT issuer and the SSO issuer in
 * gateway.yaml, its OIDC discovery document (`/.well-known/openid-configuration`)
 * and the JWKS it names must answer with keys — what token verification and
 * login need at run time.
 */
import type { GatewaySettings } from '../config/settings.ts';
import { type Check, outcome } from './check.ts';

/** The IdP checks: one per configured issuer (JWT issuers, then SSO's if not among them), or one "not configured" line. */
export function idpChecks(settings: GatewaySettings, offline = false): Check[] {
  const issuers: { issuer: string; jwksUri?: string | undefined; key: string }[] = (
    settings.jwt?.issuers ?? []
  ).map((i) => ({ ...i, key: 'jwt.issuers' }));
  const sso = settings.sso;
  if (sso !== undefined && !issuers.some((i) => i.issuer === sso.issuer))
    issuers.push({ issuer: sso.issuer, key: 'sso.issuer' });
  if (issuers.length === 0)
    return [{ name: 'idp', target: undefined, run: async () => outcome.skip('not configured') }];
  return issuers.map((i) => ({
    name: 'idp',
    target: i.issuer,
    run: async (signal: AbortSignal) =>
      offline ? outcome.skip('not checked (--offline)') : checkIssuer(i, signal),
  }));
}

async function checkIssuer(
  issuer: { issuer: string; jwksUri?: string | undefined; key: string },
  signal: AbortSignal,
) {
  const fix = `check ${issuer.key} ${issuer.issuer}: the IdP must serve OIDC discovery and its JWKS to modgate`;
  try {
    let jwksUri = issuer.jwksUri;
    if (jwksUri === undefined) {
      const discovery = `${issuer.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const res = await fetch(discovery, { signal });
      if (!res.ok) return outcome.fail(`discovery answered ${res.status}`, fix);
      const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
      if (doc.issuer !== issuer.issuer)
        return outcome.fail(`discovery names issuer ${String(doc.issuer)}`, fix);
      if (typeof doc.jwks_uri !== 'string') return outcome.fail('discovery has no jwks_uri', fix);
      jwksUri = doc.jwks_uri;
    }
    const keys = await fetch(jwksUri, { signal });
    if (!keys.ok) return outcome.fail(`JWKS ${jwksUri} answered ${keys.status}`, fix);
    const count = ((await keys.json()) as { keys?: unknown[] }).keys?.length ?? 0;
    if (count === 0) return outcome.fail(`JWKS ${jwksUri} holds no keys`, fix);
    return outcome.ok(`discovery and JWKS answer (${count} key${count === 1 ? '' : 's'})`);
  } catch (err) {
    return outcome.fail(`unreachable: ${(err as Error).message}`, fix);
  }
}
