/**
 * Signature check of an ID token that came straight from the IdP's token
 * endpoint. openid-client validates its claims (iss, aud, exp, iat, azp) but
 * not its signature (OIDC Core §3.1.3.7 lets TLS stand in for it); modgate
 * checks it anyway, against the IdP's published keys, so an IdP reached over
 * a path modgate cannot fully trust still cannot be impersonated.
 */
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type * as oidc from 'openid-client';
import { DEFAULT_ALGORITHMS, DEFAULT_CLOCK_TOLERANCE_S } from '../../../auth/jwt/verifier.ts';
import { ModgateError } from '../../../core/errors.ts';

/** Timeout of one JWKS request (milliseconds). */
const JWKS_TIMEOUT_MS = 10_000;
/** Least time between two JWKS fetches triggered by an unknown `kid` (milliseconds). */
const JWKS_COOLDOWN_MS = 30_000;

/** Verifies ID tokens of one IdP configuration; the key set is fetched on first use and cached. */
export class IdTokenVerifier {
  readonly #keys = new WeakMap<oidc.Configuration, JWTVerifyGetKey>();

  /** The verified claims; `sso.login_failed` when the token does not check out. */
  async verify(config: oidc.Configuration, idToken: string): Promise<JWTPayload> {
    const metadata = config.serverMetadata();
    const jwksUri = metadata.jwks_uri;
    if (jwksUri === undefined) {
      throw new ModgateError('sso.unavailable', 'the identity provider publishes no signing keys (jwks_uri)');
    }
    let keys = this.#keys.get(config);
    if (keys === undefined) {
      keys = createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: JWKS_TIMEOUT_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
      });
      this.#keys.set(config, keys);
    }
    try {
      const { payload } = await jwtVerify(idToken, keys, {
        issuer: metadata.issuer,
        audience: config.clientMetadata().client_id,
        algorithms: [...DEFAULT_ALGORITHMS],
        clockTolerance: DEFAULT_CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'iat'],
      });
      return payload;
    } catch (cause) {
      throw new ModgateError('sso.login_failed', 'the identity provider’s ID token did not verify', {
        cause,
      });
    }
  }
}
