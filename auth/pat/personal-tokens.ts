/**
 * Personal access tokens: modgate-signed JWTs (RFC 7519)
 * the go command sends as a netrc password. Claims: `iss` (this modgate),
 * `aud` (the same: a PAT is only for the modgate that issued it), `sub` (the
 * owner's directory user name), `jti`, `iat`, `exp`, `scope`.
 *
 * A token carries no more access than its owner has at use time: `verify`
 * returns the owner's name, and the caller looks the owner up in the
 * directory for the groups (a disabled owner's tokens stop working at once).
 */
import { hash, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import { BoundedMap } from '../../core/bounded-map.ts';
import { ModgateError } from '../../core/errors.ts';
import { fromJoseError } from '../jwt/jose-errors.ts';
import type { PatKeyRing } from './keys.ts';
import type { RevokedTokens } from './revoked-tokens.ts';
import { isPatShaped, PAT_PREFIX, PAT_TYP } from './token-format.ts';

/**
 * Scopes a personal token may carry: `goproxy:read` fetches modules;
 * `token:refresh` only mints short-lived `goproxy:read` tokens for its owner
 * (what `modgate credential` keeps), so a stolen refresh token fetches nothing itself.
 */
export const PAT_SCOPES = ['goproxy:read', 'token:refresh'] as const;
export type PatScope = (typeof PAT_SCOPES)[number];
/** Longest lifetime a personal token may be issued for unless configured (milliseconds; 90 days). */
export const DEFAULT_PAT_MAX_TTL_MS = 90 * 24 * 3_600_000;
/** Allowed clock difference between gateway processes when checking `exp`/`iat` (seconds). */
export const PAT_CLOCK_TOLERANCE_S = 5;
/** Most verified tokens remembered per process (entries). */
export const VERIFIED_TOKENS_MAX_ENTRIES = 10_000;

/** Public reasons specific to personal tokens. */
export const PAT_REASONS = {
  malformed: 'personal token is malformed',
  revoked: 'personal token has been revoked',
  unknownKey: 'personal token signing key is no longer valid',
  revocationUnavailable: 'token revocation list is unavailable',
  parentRevoked: 'the sign-in this token was refreshed from has been revoked',
} as const;

/** What a verified (or freshly issued) personal token says. */
export interface PatClaims {
  readonly owner: string;
  readonly jti: string;
  readonly scopes: readonly PatScope[];
  readonly issuedAtMs: number;
  readonly expiresAtMs: number;
  /** `kid` of the signing key. */
  readonly kid: string;
  /** The `jti` of the refresh token this one was minted from: revoking that revokes this too. */
  readonly parent?: string | undefined;
}

/** A freshly issued token: show `token` once, store only the claims. */
export interface IssuedPat extends PatClaims {
  readonly token: string;
}

export interface PersonalTokensOptions {
  /** `iss` and `aud` of every token: this modgate's public URL. */
  readonly issuer: string;
  readonly keys: PatKeyRing;
  readonly revoked: RevokedTokens;
  readonly maxTtlMs?: number | undefined;
  readonly now?: (() => number) | undefined;
}

function malformed(cause?: unknown): ModgateError {
  return new ModgateError('auth.invalid_credentials', PAT_REASONS.malformed, { cause });
}

/** Issues and verifies personal access tokens; swap `keys` by building a new instance. */
export class PersonalTokens {
  readonly #issuer: string;
  readonly #keys: PatKeyRing;
  readonly #revoked: RevokedTokens;
  readonly #maxTtlMs: number;
  readonly #now: () => number;
  readonly #getKey: JWTVerifyGetKey;
  /**
   * Tokens whose signature and claims checked out, by SHA-256 of the token,
   * until they expire: a build sends the same token hundreds of times, and an
   * ECDSA/EdDSA verification is most of a token request's extra CPU (bench).
   * The revocation list is still asked on every use.
   */
  readonly #verified = new BoundedMap<string, PatClaims>(VERIFIED_TOKENS_MAX_ENTRIES);

  constructor(options: PersonalTokensOptions) {
    this.#issuer = options.issuer;
    this.#keys = options.keys;
    this.#revoked = options.revoked;
    this.#maxTtlMs = options.maxTtlMs ?? DEFAULT_PAT_MAX_TTL_MS;
    this.#now = options.now ?? Date.now;
    const keys = options.keys;
    this.#getKey = (header) => {
      const key = header.kid === undefined ? undefined : keys.get(header.kid);
      if (key === undefined || key.alg !== header.alg) {
        throw new ModgateError('auth.invalid_credentials', PAT_REASONS.unknownKey, {
          detail: { kid: header.kid },
        });
      }
      return key.publicKey;
    };
  }

  /**
   * Issues a token for `owner` valid `ttlMs` from now with `scopes`. Throws
   * `auth.malformed` for a bad request (empty owner, TTL not in (0, max],
   * unknown scope). The caller must have checked that `owner` is the
   * authenticated, enabled directory user asking.
   */
  async issue(
    owner: string,
    ttlMs: number,
    scopes: readonly string[] = ['goproxy:read'],
    parent?: string,
  ): Promise<IssuedPat> {
    if (owner === '') throw new ModgateError('auth.malformed', 'a personal token needs an owner');
    if (!(ttlMs > 0 && ttlMs <= this.#maxTtlMs)) {
      throw new ModgateError(
        'auth.malformed',
        `token lifetime must be between 1s and ${Math.floor(this.#maxTtlMs / 86_400_000)} days`,
      );
    }
    const unknown = scopes.filter((s) => !(PAT_SCOPES as readonly string[]).includes(s));
    if (scopes.length === 0 || unknown.length > 0) {
      throw new ModgateError('auth.malformed', `unknown token scope: ${unknown.join(' ') || '(none)'}`);
    }
    const key = this.#keys.signing;
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + Math.max(1, Math.floor(ttlMs / 1000));
    const jti = randomUUID();
    const jwt = await new SignJWT({
      scope: [...new Set(scopes)].join(' '),
      ...(parent === undefined ? {} : { parent }),
    })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: PAT_TYP })
      .setIssuer(this.#issuer)
      .setAudience(this.#issuer)
      .setSubject(owner)
      .setJti(jti)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key.privateKey);
    return {
      token: PAT_PREFIX + jwt,
      owner,
      jti,
      scopes: [...new Set(scopes)] as PatScope[],
      issuedAtMs: iat * 1000,
      expiresAtMs: exp * 1000,
      kid: key.kid,
      parent,
    };
  }

  /**
   * Verifies a token (with its `mgp_` prefix): signature by a key still in the
   * ring, `typ`, `iss`, `aud`, `exp`, `jti`, scope, then the revocation list.
   * Throws `auth.invalid_credentials` with a one-line reason, or
   * `auth.directory_unavailable` when the revocation list cannot answer.
   */
  async verify(token: string): Promise<PatClaims> {
    if (!isPatShaped(token)) throw malformed();
    const digest = hash('sha256', token, 'base64url');
    const known = this.#verified.get(digest);
    const claims =
      known !== undefined && known.expiresAtMs > this.#now()
        ? known
        : await this.#verifySignature(token, digest);
    const revoked = async (jti: string) => {
      try {
        return await this.#revoked.isRevoked(jti);
      } catch (cause) {
        throw new ModgateError('auth.directory_unavailable', PAT_REASONS.revocationUnavailable, { cause });
      }
    };
    if (await revoked(claims.jti)) {
      throw new ModgateError('auth.invalid_credentials', PAT_REASONS.revoked, {
        detail: { jti: claims.jti, owner: claims.owner },
      });
    }
    if (claims.parent !== undefined && (await revoked(claims.parent))) {
      throw new ModgateError('auth.invalid_credentials', PAT_REASONS.parentRevoked, {
        detail: { jti: claims.jti, parent: claims.parent, owner: claims.owner },
      });
    }
    return claims;
  }

  /** Signature, `typ`, `iss`, `aud`, `exp`, `jti` and scope; remembers the claims under `digest`. */
  async #verifySignature(token: string, digest: string): Promise<PatClaims> {
    const jwt = token.slice(PAT_PREFIX.length);
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(jwt).kid;
    } catch (cause) {
      throw malformed(cause);
    }
    let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
    try {
      ({ payload } = await jwtVerify(jwt, this.#getKey, {
        issuer: this.#issuer,
        audience: this.#issuer,
        typ: PAT_TYP,
        algorithms: ['EdDSA', 'ES256'],
        clockTolerance: PAT_CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'jti', 'exp', 'iat'],
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      // A token of another issuer or audience is, for a PAT, simply not ours.
      if (err instanceof errors.JWTClaimValidationFailed && (err.claim === 'iss' || err.claim === 'aud')) {
        throw malformed(err);
      }
      throw fromJoseError(err, { kid });
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (scopes.length === 0 || scopes.some((s) => !(PAT_SCOPES as readonly string[]).includes(s))) {
      throw malformed();
    }
    const claims: PatClaims = {
      owner: payload.sub!,
      jti: payload.jti!,
      scopes: scopes as PatScope[],
      issuedAtMs: payload.iat! * 1000,
      expiresAtMs: payload.exp! * 1000,
      kid: kid ?? '',
      parent: typeof payload.parent === 'string' ? payload.parent : undefined,
    };
    this.#verified.set(digest, claims);
    return claims;
  }

  /** Revokes a verified token's `jti` until it would have expired anyway. */
  async revoke(claims: Pick<PatClaims, 'jti' | 'expiresAtMs'>): Promise<void> {
    await this.#revoked.revoke(claims.jti, claims.expiresAtMs + PAT_CLOCK_TOLERANCE_S * 1000);
  }
}
