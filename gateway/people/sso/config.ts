import { z } from 'zod';
import { DEFAULT_PAT_MAX_TTL_MS } from '../../../auth/pat/personal-tokens.ts';
import { durationMs } from '../../../core/duration.ts';
import { unsafe } from '../../../core/unsafe-settings.ts';
import { type ConfigCtx, secretAt, secretRef } from '../../config/secrets.ts';

/** The `sso:` section of gateway.yaml: browser login and `modgate login` against an OIDC provider. */

/** Default lifetime of a browser session after SSO login. */
export const DEFAULT_SSO_SESSION_TTL = '8h';
/** Default lifetime of a personal token minted by the set-up page or `modgate login` (30 days). */
export const DEFAULT_SSO_TOKEN_TTL = '720h';
/** Default lifetime of the access tokens `modgate credential` refreshes (GOAUTH). */
export const DEFAULT_SSO_ACCESS_TOKEN_TTL = '1h';
/** Default OIDC scopes asked for at login. */
export const DEFAULT_SSO_SCOPES = ['openid', 'profile'];
/** Minimum length of `sso.session_key` (characters): it keys AES-256-GCM through SHA-256. */
const MIN_SESSION_KEY_CHARS = 32;

/**
 * Single sign-on for people: browser login (authorization code + PKCE) to
 * the set-up page, and the device grant behind `modgate login`. Both end in
 * a personal token, so `personal_tokens` and `listen.public_url` are required.
 */
export const ssoSchema = z
  .strictObject({
    /** The IdP's issuer URL (OIDC discovery). */
    issuer: z.url().describe("The IdP's issuer URL (OIDC discovery)."),
    client_id: z.string().min(1).describe("modgate's client id at the IdP."),
    client_secret: secretRef.describe("modgate's client secret."),
    scopes: z.array(z.string().min(1)).default(DEFAULT_SSO_SCOPES).describe('Scopes asked for at login.'),
    /** The ID-token claim naming the directory user. */
    user_claim: z
      .string()
      .min(1)
      .default('preferred_username')
      .describe('The ID-token claim naming the directory user.'),
    strip_suffix: z
      .string()
      .min(1)
      .optional()
      .describe('Removed from the claim value first (e.g. `@corp.example`).'),
    /** Seals session cookies (AES-GCM); at least 32 characters, the same in every process. */
    session_key: secretRef.describe(
      'Seals session cookies (AES-GCM); at least 32 characters, the same in every process.',
    ),
    session_ttl: durationMs.prefault(DEFAULT_SSO_SESSION_TTL).describe('Lifetime of a browser session.'),
    /** Lifetime of the personal tokens people mint (at most the personal-token maximum, 90 days). */
    token_ttl: durationMs
      .prefault(DEFAULT_SSO_TOKEN_TTL)
      .describe(
        'Lifetime of the personal tokens people mint (at most 90 days), and of a `modgate credential` sign-in.',
      ),
    access_token_ttl: durationMs
      .prefault(DEFAULT_SSO_ACCESS_TOKEN_TTL)
      .describe(
        'Lifetime of the access tokens `modgate credential` (GOAUTH) refreshes from a sign-in; at most `sso.token_ttl`.',
      ),
    /** Opt-in: an IdP over plain http — tests only. */
    allow_insecure_http: z
      .boolean()
      .default(false)
      .meta(unsafe(true, 'login codes, ID tokens and the client secret may cross the network in clear text'))
      .describe('Opt-in: an IdP over plain http — tests only; warned about at start and by check-config.'),
  })
  .optional()
  .describe(
    'Browser single sign-on against an OIDC provider, for the token set-up page and `modgate login`; needs `listen.public_url` and `personal_tokens`.',
  );

/** Cross-field rules of `sso:` (run once the whole file has its shape). */
export function ssoRules(
  config: { sso: z.output<typeof ssoSchema>; publicUrl: string | undefined; personalTokens: unknown },
  ctx: ConfigCtx,
): void {
  const sso = config.sso;
  if (sso === undefined) return;
  const at = (path: string[], message: string) =>
    ctx.addIssue({ code: 'custom', path: ['sso', ...path], message });
  if (config.publicUrl === undefined)
    at([], 'needs listen.public_url (the IdP redirects the browser back to it)');
  if (config.personalTokens === undefined) at([], 'needs personal_tokens (login ends in a personal token)');
  if (sso.access_token_ttl > sso.token_ttl) {
    at(['access_token_ttl'], 'is longer than sso.token_ttl, the sign-in it is refreshed from');
  }
  if (sso.token_ttl > DEFAULT_PAT_MAX_TTL_MS) {
    at(['token_ttl'], `is longer than personal tokens may live (${DEFAULT_PAT_MAX_TTL_MS / 3_600_000}h)`);
  }
  if (sso.issuer.startsWith('http:') && !sso.allow_insecure_http) {
    at(['issuer'], 'is plain http; set allow_insecure_http: true to accept that');
  }
}

/** `sso:` with its secrets read; durations in milliseconds. The public URL is added by the gateway's schema. */
export const ssoSettingsSchema = ssoSchema.transform((sso, ctx) => {
  if (sso === undefined) return undefined;
  const sessionKey = secretAt(ctx, sso.session_key, ['session_key']);
  if (sessionKey !== '' && sessionKey.length < MIN_SESSION_KEY_CHARS) {
    ctx.addIssue({
      code: 'custom',
      path: ['session_key'],
      message: `must be at least ${MIN_SESSION_KEY_CHARS} characters`,
    });
  }
  return {
    issuer: sso.issuer,
    clientId: sso.client_id,
    clientSecret: secretAt(ctx, sso.client_secret, ['client_secret']),
    scopes: sso.scopes,
    userClaim: sso.user_claim,
    stripSuffix: sso.strip_suffix,
    sessionKey,
    sessionTtlMs: sso.session_ttl,
    tokenTtlMs: sso.token_ttl,
    /** Lifetime of the access tokens `modgate credential` refreshes from a sign-in. */
    accessTokenTtlMs: sso.access_token_ttl,
    allowInsecureHttp: sso.allow_insecure_http,
  };
});

/** The sso settings with modgate's public base URL (`listen.public_url`, without a trailing slash). */
export function withPublicUrl(sso: NonNullable<z.output<typeof ssoSettingsSchema>>, publicUrl: string) {
  const base = publicUrl.replace(/\/+$/, '');
  /** Where the browser comes back after login: `<listen.public_url>/login/callback`. */
  return { ...sso, redirectUri: `${base}/login/callback`, publicUrl: base };
}
