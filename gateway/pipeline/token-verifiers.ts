import type { TokenVerifiers } from '../../auth/authenticator.ts';
import type { DirectoryUser } from '../../auth/directory.ts';
import { TokenIntrospector } from '../../auth/introspection.ts';
import type { IdpCallObserver } from '../../auth/jwt/issuer-keys.ts';
import { JwtVerifier } from '../../auth/jwt/verifier.ts';
import { OpaqueTokenVerifier } from '../../auth/opaque-token.ts';
import { PatKeyRing } from '../../auth/pat/keys.ts';
import { PersonalTokens } from '../../auth/pat/personal-tokens.ts';
import type { RevokedTokens } from '../../auth/pat/revoked-tokens.ts';
import { ModgateError } from '../../core/errors.ts';
import type { GatewaySettings } from '../config/settings.ts';
import { type StateStore, stateKey } from '../state/store.ts';

/** Message when a personal token's owner is unknown or disabled in the directory now. */
const PAT_OWNER_REJECTED = 'the token owner is unknown or disabled in the directory';
/** A refresh token (scope token:refresh) presented to fetch modules. */
const PAT_REFRESH_ONLY = 'this token only refreshes; give go the short-lived token modgate credential prints';

/**
 * The token methods gateway.yaml enables: IdP JWTs (`jwt.issuers`), opaque
 * IdP tokens (`jwt.introspection`) and modgate personal tokens
 * (`personal_tokens:`). All resolve the user through the (cached) directory
 * lookup, so a token carries no more access than its owner has at use time.
 */
export function tokenVerifiers(
  settings: Pick<GatewaySettings, 'jwt' | 'personalTokens'>,
  lookup: (username: string) => Promise<DirectoryUser | undefined>,
  store: StateStore,
  onIdpCall?: IdpCallObserver,
): { verifiers: TokenVerifiers; personalTokens: PersonalTokens | undefined } {
  let jwt: TokenVerifiers['jwt'];
  if (settings.jwt && settings.jwt.issuers.length > 0) {
    const verifier = new JwtVerifier({
      issuers: settings.jwt.issuers,
      serviceIdentities: settings.jwt.serviceIdentities,
      lookup,
      clockToleranceS: Math.round(settings.jwt.clockSkewMs / 1000),
      allowInsecureHttp: settings.jwt.allowInsecureHttp,
      onIdpCall,
    });
    jwt = (token) => verifier.verify(token);
  }
  let opaque: TokenVerifiers['opaque'];
  const introspection = settings.jwt?.introspection;
  if (settings.jwt && introspection) {
    const introspector = new TokenIntrospector({
      issuer: introspection.issuer,
      clientId: introspection.modgateClientId,
      clientSecret: introspection.clientSecret,
      cacheMaxTtlMs: introspection.cacheMaxTtlMs,
      allowInsecureHttp: settings.jwt.allowInsecureHttp,
      onIdpCall,
    });
    const verifier = new OpaqueTokenVerifier({
      introspect: (token) => introspector.introspect(token),
      issuer: introspection.issuer,
      audiences: introspection.audiences,
      clientIds: introspection.clientIds,
      userClaim: introspection.userClaim,
      stripSuffix: introspection.stripSuffix,
      serviceIdentities: settings.jwt.serviceIdentities,
      lookup,
    });
    opaque = (token) => verifier.verify(token);
  }
  let personalTokens: PersonalTokens | undefined;
  let pat: TokenVerifiers['pat'];
  if (settings.personalTokens) {
    const pats = new PersonalTokens({
      issuer: settings.personalTokens.issuer,
      keys: PatKeyRing.fromPem(settings.personalTokens.keys),
      revoked: storeRevokedTokens(store),
    });
    personalTokens = pats;
    pat = async (token) => {
      const claims = await pats.verify(token);
      if (!claims.scopes.includes('goproxy:read')) {
        throw new ModgateError('auth.invalid_credentials', PAT_REFRESH_ONLY);
      }
      const owner = await lookup(claims.owner);
      if (!owner) throw new ModgateError('auth.invalid_credentials', PAT_OWNER_REJECTED);
      return { user: owner.user, groups: owner.groups };
    };
  }
  return { verifiers: { jwt, pat, opaque }, personalTokens };
}

/**
 * Revoked personal-token ids in the shared store, each kept until the token
 * would have expired. Fails closed: while Redis cannot be asked, a
 * revocation this process knows of still refuses, and "not revoked" cannot
 * be told, so the check rejects (PersonalTokens answers 503).
 */
function storeRevokedTokens(store: StateStore): RevokedTokens {
  return {
    async isRevoked(jti) {
      const { value, shared } = await store.read(stateKey('pat-revoked', jti));
      if (value !== undefined) return true;
      if (!shared)
        throw new ModgateError('state.unavailable', 'the shared revocation list could not be asked');
      return false;
    },
    revoke: (jti, untilMs) => store.set(stateKey('pat-revoked', jti), '1', Math.max(1, untilMs - Date.now())),
  };
}
