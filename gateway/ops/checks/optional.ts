/**
 * The identity provider check: for each JWT issuer, the introspection issuer
 * and the SSO issuer in gateway.yaml, what modgate needs of it at run time:
 * its OIDC discovery document (`/.well-known/openid-configuration`), the
 * JWKS it names (JWT and SSO issuers: keys to verify tokens with), and its
 * introspection endpoint (RFC 7662, for opaque tokens).
 */

import { type Check, outcome } from '../../../core/check.ts';
import type { GatewaySettings } from '../../config/settings.ts';

/** One issuer to check, and what modgate needs of it. */
interface IssuerNeeds {
  readonly issuer: string;
  readonly jwksUri?: string | undefined;
  /** The gateway.yaml key that names it (for the fix line). */
  readonly key: string;
  /** Keys to verify JWTs or ID tokens with. */
  readonly jwks: boolean;
  /** An RFC 7662 introspection endpoint. */
  introspection: boolean;
}

/**
 * The IdP checks: one per configured issuer (JWT issuers, then the
 * introspection and SSO issuers if not among them), or one "not configured" line.
 */
export function idpChecks(settings: GatewaySettings, offline = false): Check[] {
  const issuers: IssuerNeeds[] = (settings.jwt?.issuers ?? []).map((i) => ({
    issuer: i.issuer,
    jwksUri: i.jwksUri,
    key: 'jwt.issuers',
    jwks: true,
    introspection: false,
  }));
  const introspection = settings.jwt?.introspection;
  if (introspection !== undefined) {
    const known = issuers.find((i) => i.issuer === introspection.issuer);
    if (known !== undefined) known.introspection = true;
    else
      issuers.push({
        issuer: introspection.issuer,
        key: 'jwt.introspection.issuer',
        jwks: false,
        introspection: true,
      });
  }
  const sso = settings.sso;
  if (sso !== undefined && !issuers.some((i) => i.issuer === sso.issuer))
    issuers.push({ issuer: sso.issuer, key: 'sso.issuer', jwks: true, introspection: false });
  if (issuers.length === 0)
    return [{ name: 'idp', target: undefined, run: async () => outcome.skip('not configured') }];
  return issuers.map((i) => ({
    name: 'idp',
    target: i.issuer,
    run: async (signal: AbortSignal) =>
      offline ? outcome.skip('not checked (--offline)') : checkIssuer(i, signal),
  }));
}

async function checkIssuer(issuer: IssuerNeeds, signal: AbortSignal) {
  const needs = [issuer.jwks ? 'its JWKS' : '', issuer.introspection ? 'its introspection endpoint' : '']
    .filter(Boolean)
    .join(' and ');
  const fix = `check ${issuer.key} ${issuer.issuer}: the IdP must serve OIDC discovery and ${needs} to modgate`;
  try {
    let jwksUri = issuer.jwksUri;
    let introspectionEndpoint: string | undefined;
    if (jwksUri === undefined || issuer.introspection) {
      const discovery = `${issuer.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const res = await fetch(discovery, { signal });
      if (!res.ok) return outcome.fail(`discovery answered ${res.status}`, fix);
      const doc = (await res.json()) as {
        issuer?: unknown;
        jwks_uri?: unknown;
        introspection_endpoint?: unknown;
      };
      if (doc.issuer !== issuer.issuer)
        return outcome.fail(`discovery names issuer ${String(doc.issuer)}`, fix);
      if (issuer.introspection) {
        if (typeof doc.introspection_endpoint !== 'string')
          return outcome.fail('discovery has no introspection_endpoint', fix);
        introspectionEndpoint = doc.introspection_endpoint;
      }
      if (issuer.jwks && jwksUri === undefined) {
        if (typeof doc.jwks_uri !== 'string') return outcome.fail('discovery has no jwks_uri', fix);
        jwksUri = doc.jwks_uri;
      }
    }
    const announced = introspectionEndpoint === undefined ? '' : `introspection at ${introspectionEndpoint}`;
    if (!issuer.jwks || jwksUri === undefined) return outcome.ok(`discovery answers; ${announced}`);
    const keys = await fetch(jwksUri, { signal });
    if (!keys.ok) return outcome.fail(`JWKS ${jwksUri} answered ${keys.status}`, fix);
    const count = ((await keys.json()) as { keys?: unknown[] }).keys?.length ?? 0;
    if (count === 0) return outcome.fail(`JWKS ${jwksUri} holds no keys`, fix);
    const answer = `discovery and JWKS answer (${count} key${count === 1 ? '' : 's'})`;
    return outcome.ok(announced === '' ? answer : `${answer}; ${announced}`);
  } catch (err) {
    return outcome.fail(`unreachable: ${(err as Error).message}`, fix);
  }
}
