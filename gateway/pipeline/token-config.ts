import { z } from 'zod';
import { DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS } from '../../auth/introspection.ts';
import { DEFAULT_INTROSPECTION_USER_CLAIM, DEFAULT_OPAQUE_TOKEN_LOGIN } from '../../auth/opaque-token.ts';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { type ConfigCtx, secretAt, secretRef } from '../config/secrets.ts';

/** The `jwt:` and `personal_tokens:` sections of gateway.yaml: the tokens the token verifiers accept. */

/**
 * Default longest reuse of an introspection answer (a duration, derived from
 * auth/introspection.ts DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS so the two
 * cannot drift): a revocation at the IdP takes effect within it.
 */
export const DEFAULT_INTROSPECTION_CACHE_MAX_TTL = `${DEFAULT_INTROSPECTION_CACHE_MAX_TTL_MS / 60_000}m`;

const stripSuffix = z
  .string()
  .min(1)
  .optional()
  .describe('Removed from the claim value first (e.g. `@corp.example`).');

const issuerSchema = z.strictObject({
  issuer: z.url().describe('The issuer URL (`iss`); its OIDC discovery document names the JWKS.'),
  audiences: z
    .array(z.string().min(1))
    .min(1)
    .describe('Accepted `aud` values (usually the gateway URL or a client id).'),
  jwks_uri: z.url().optional().describe('The JWKS URL, when it is not to be taken from discovery.'),
  algorithms: z
    .array(z.string().min(1))
    .optional()
    .describe('Accepted signature algorithms (default: the asymmetric ones the JWKS keys allow).'),
  /** The claim naming the directory user. */
  user_claim: z
    .string()
    .min(1)
    .default('preferred_username')
    .describe('The claim naming the directory user.'),
  strip_suffix: stripSuffix,
});

/** Opaque access tokens (Bearer): described by the IdP's RFC 7662 introspection endpoint. */
const introspectionSchema = z.strictObject({
  /** The IdP's issuer URL; discovery names the introspection endpoint. */
  issuer: z
    .url()
    .describe(
      "The IdP's issuer URL; its OIDC discovery document names the introspection endpoint. Service identities of this issuer apply to its tokens.",
    ),
  /**
   * modgate's own client at the IdP, which authenticates to the
   * introspection endpoint (with `client_secret`); not one of `client_ids`.
   */
  modgate_client_id: z
    .string()
    .min(1)
    .describe(
      "modgate's own client id at the IdP, with which it authenticates to the introspection endpoint (formerly `client_id`). Not to be confused with `client_ids`, the clients whose tokens are accepted.",
    ),
  client_secret: secretRef.describe("The secret of modgate's own client (`modgate_client_id`)."),
  /**
   * Accepted `aud` values of the introspection response. With `client_ids`:
   * at least one of the two lists is required (jwtRules), and a token must
   * match every list given.
   */
  audiences: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Accepted `aud` values of the introspection response (a string or a list; one match is enough). When set, a token without an accepted `aud` is refused: 401 `token was not issued for modgate`.',
    ),
  /** Accepted `client_id` values: the clients whose tokens are meant for modgate. */
  client_ids: z
    .array(z.string().min(1))
    .default([])
    .describe(
      'Accepted `client_id` values: the clients (CLI, CI, login) whose tokens are meant for modgate. When set, a token of any other client is refused: 401 `token was not issued for modgate`. With `audiences` too, a token must match both.',
    ),
  /** The member of the introspection response naming the directory user. */
  user_claim: z
    .string()
    .min(1)
    .default(DEFAULT_INTROSPECTION_USER_CLAIM)
    .describe(
      'The member of the introspection response naming the directory user (`username`, `sub`, `email`, …); no fallback to another member.',
    ),
  strip_suffix: stripSuffix,
  /** The Basic user name (netrc `login`) whose password is an opaque token, not a directory password. */
  netrc_login: z
    .string()
    .min(1)
    .default(DEFAULT_OPAQUE_TOKEN_LOGIN)
    .describe(
      'The Basic user name that says "the password is a token": `machine <host> login oauth2accesstoken password <token>` in a netrc (go ≤1.23 cannot send Bearer). An opaque password after it is introspected, a JWT or personal token verified as such, and it is never a directory password; after any other name, a password that is neither a JWT nor a personal token is a directory password.',
    ),
  /** Longest reuse of an answer (never past the token's `exp`). */
  cache_max_ttl: durationMs
    .prefault(DEFAULT_INTROSPECTION_CACHE_MAX_TTL)
    .describe('Longest reuse of an answer: a token revoked at the IdP is refused within this time.'),
});

const serviceIdentitySchema = z.strictObject({
  issuer: z.url().describe('The issuer of their tokens.'),
  subject: z
    .string()
    .min(1)
    .describe(
      'The `sub` to accept, exact or a glob: `*` matches any run of characters, `/` and `:` included (e.g. `repo:corp/*:ref:refs/heads/main`), `?` one character.',
    ),
  name: z.string().min(1).describe('The user name modgate gives it (audit, policy `user:`).'),
  groups: z.array(z.string().min(1)).default([]).describe('Its groups (policy `group:`).'),
});

/**
 * IdP-issued access tokens, mapped to directory users or service identities:
 * JWTs (Bearer, or as the Basic password) verified with the issuers' keys,
 * and opaque Bearer tokens checked at the IdP (RFC 7662 introspection).
 */
export const jwtSchema = z
  .strictObject({
    clock_skew: durationMs.prefault('30s').describe('Tolerance for `exp`/`nbf`/`iat`.'),
    /** Opt-in: issuers (discovery, JWKS) over plain http — tests only. */
    allow_insecure_http: z
      .boolean()
      .default(false)
      .meta(unsafe(true, 'token signing keys and introspection answers may be forged on the network'))
      .describe(
        'Opt-in: issuers (discovery, JWKS, introspection) over plain http — tests only; warned about at start and by check-config.',
      ),
    issuers: z.array(issuerSchema).default([]).describe('Accepted JWT issuers.'),
    introspection: introspectionSchema
      .optional()
      .describe(
        'Opaque access tokens (`Authorization: Bearer`, or the Basic password after `netrc_login`), described by the IdP’s RFC 7662 introspection endpoint; answers are cached by token hash until the token expires, at most `cache_max_ttl`. Needs `audiences`, `client_ids` or both: the IdP calls active a token it issued to any of its clients, and only those meant for modgate may open it.',
      ),
    /** Workload identities (CI) accepted without a directory user. */
    service_identities: z
      .array(serviceIdentitySchema)
      .default([])
      .describe(
        'Workload identities (CI) accepted without a directory user. An opaque token’s subject is its `sub`, or its `client_id` when it has no `sub` (client credentials).',
      ),
  })
  .optional()
  .describe(
    'IdP-issued access tokens: JWTs, as `Authorization: Bearer` or as the Basic password (netrc), and opaque tokens as `Authorization: Bearer` or as the Basic password of `introspection.netrc_login`, checked at the IdP (`introspection`). The user must exist and be enabled in the directory, unless the token is a service identity’s. Needs `issuers`, `introspection` or both.',
  );

/** Cross-field rules of `jwt:` (run once the whole file has its shape). */
export function jwtRules(jwt: z.output<typeof jwtSchema>, ctx: ConfigCtx): void {
  if (jwt === undefined) return;
  const at = (path: string[], message: string) =>
    ctx.addIssue({ code: 'custom', path: ['jwt', ...path], message });
  if (jwt.issuers.length === 0 && jwt.introspection === undefined) {
    at([], 'needs issuers (JWTs) or introspection (opaque tokens)');
  }
  if (jwt.introspection?.issuer.startsWith('http:') && !jwt.allow_insecure_http) {
    at(['introspection', 'issuer'], 'is plain http; set jwt.allow_insecure_http: true to accept that');
  }
  if (
    jwt.introspection !== undefined &&
    jwt.introspection.audiences.length === 0 &&
    jwt.introspection.client_ids.length === 0
  ) {
    at(
      ['introspection'],
      'needs audiences or client_ids: without them, a token the IdP issued to any of its clients is accepted',
    );
  }
}

type IntrospectionConfig = z.output<typeof introspectionSchema>;

/** RFC 7662 introspection of opaque access tokens, with modgate's client secret read. */
function introspectionSettings(introspection: IntrospectionConfig, ctx: ConfigCtx) {
  return {
    issuer: introspection.issuer,
    /** modgate's own client at the IdP (client authentication at the introspection endpoint). */
    modgateClientId: introspection.modgate_client_id,
    clientSecret: secretAt(ctx, introspection.client_secret, ['introspection', 'client_secret']),
    /** Accepted `aud` values; empty: `aud` is not checked. */
    audiences: introspection.audiences,
    /** Accepted `client_id` values; empty: not checked. At least one of the two lists is non-empty. */
    clientIds: introspection.client_ids,
    userClaim: introspection.user_claim,
    stripSuffix: introspection.strip_suffix,
    /** The Basic user name (netrc `login`) whose password is an opaque token. */
    netrcLogin: introspection.netrc_login,
    /** Longest reuse of an answer (ms). */
    cacheMaxTtlMs: introspection.cache_max_ttl,
  };
}

/** `jwt:` as the token verifiers take it; durations in milliseconds. */
export const jwtSettingsSchema = jwtSchema.transform((jwt, ctx) =>
  jwt === undefined
    ? undefined
    : {
        clockSkewMs: jwt.clock_skew,
        allowInsecureHttp: jwt.allow_insecure_http,
        issuers: jwt.issuers.map((i) => ({
          issuer: i.issuer,
          audiences: i.audiences,
          jwksUri: i.jwks_uri,
          algorithms: i.algorithms,
          userClaim: i.user_claim,
          stripSuffix: i.strip_suffix,
        })),
        serviceIdentities: jwt.service_identities,
        /** Opaque access tokens checked at the IdP, if configured. */
        introspection:
          jwt.introspection === undefined ? undefined : introspectionSettings(jwt.introspection, ctx),
      },
);

/** modgate personal access tokens (sent as the Basic password); verification keys, the first one signs. */
export const personalTokensSchema = z
  .strictObject({
    /** iss/aud of the tokens: this gateway's public URL. */
    issuer: z.url().describe("`iss`/`aud` of the tokens: this gateway's public URL."),
    keys: z
      .array(
        z.strictObject({
          kid: z.string().min(1).describe('Key id, carried in each token.'),
          pem: secretRef.describe('The private key (PEM).'),
        }),
      )
      .min(1)
      .describe('Signing keys; the first signs, all verify (rotation: add the new key first).'),
  })
  .optional()
  .describe('modgate personal access tokens (`mgp_…`), sent as the Basic password.');

/** `personal_tokens:` with the keys read (PEM). */
export const personalTokensSettingsSchema = personalTokensSchema.transform((tokens, ctx) =>
  tokens === undefined
    ? undefined
    : {
        issuer: tokens.issuer,
        keys: tokens.keys.map((k, i) => ({
          kid: k.kid,
          pem: secretAt(ctx, k.pem, ['keys', String(i), 'pem']),
        })),
      },
);
