import { z } from 'zod';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { type ConfigCtx, optionalSecretAt, secretAt, secretRef } from '../config/secrets.ts';

/** The `credentials:` section of gateway.yaml: what modgate presents to upstreams, by name. */

/** Default lifetime of a minted Artifactory token. */
export const DEFAULT_TOKEN_EXPIRES_IN = '15m';
/** Default margin before expiry at which a minted token is replaced. */
export const DEFAULT_TOKEN_REFRESH_BEFORE = '60s';
/** Default limit for one token mint. */
export const DEFAULT_TOKEN_TIMEOUT = '10s';

const credentialSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z
      .literal('static')
      .describe(
        '`static`: one fixed Basic or Bearer credential; `artifactory-token`: a short-lived Artifactory access token minted per user.',
      ),
    basic: z
      .strictObject({
        username: z.string().min(1).describe('User name.'),
        password: secretRef.describe('Password.'),
      })
      .optional()
      .describe('A fixed Basic credential.'),
    bearer: z
      .strictObject({ token: secretRef.describe('The token.') })
      .optional()
      .describe('A fixed Bearer token.'),
  }),
  z.strictObject({
    kind: z.literal('artifactory-token'),
    /** The platform base; tokens are minted at <url>/access/api/v1/tokens. */
    url: z
      .url({ protocol: /^https?$/ })
      .describe('The JFrog platform base; tokens are minted at `<url>/access/api/v1/tokens`.'),
    admin_token: secretRef.describe('An Artifactory token allowed to mint tokens for other users.'),
    /** Scope template; {user} and {groups} (comma-joined, allowlisted) are filled in. */
    scope: z
      .string()
      .min(1)
      .default('applied-permissions/groups:{groups}')
      .describe('Scope of minted tokens; `{user}` and `{groups}` (comma-joined, allowlisted) are filled in.'),
    /** Directory groups that may appear in a scope: a list, or a map directory group → Artifactory group. */
    allowed_groups: z
      .union([z.array(z.string().min(1)), z.record(z.string(), z.string().min(1))])
      .optional()
      .describe(
        'Directory groups that may appear in a scope: a list, or a map directory group → Artifactory group. Others are left out.',
      ),
    expires_in: durationMs.prefault(DEFAULT_TOKEN_EXPIRES_IN).describe('Lifetime of a minted token.'),
    refresh_before: durationMs
      .prefault(DEFAULT_TOKEN_REFRESH_BEFORE)
      .describe('A token is minted again this long before it expires (one mint per user at a time).'),
    timeout: durationMs.prefault(DEFAULT_TOKEN_TIMEOUT).describe('Bound on one mint call.'),
    ca: secretRef.optional().describe('Extra CA (PEM) trusted for the mint endpoint.'),
    allow_insecure_http: z
      .boolean()
      .default(false)
      .meta(unsafe(true, 'the admin token and minted tokens may cross the network in clear text'))
      .describe('Opt-in: mint over plain `http://` (tests only); warned about at start and by check-config.'),
  }),
]);

export const credentialsSchema = z
  .record(
    z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'credential names: lowercase letters, digits, dashes'),
    credentialSchema,
  )
  .default({})
  .describe(
    'Credentials modgate presents to upstreams, by name; routes pick one per subject. Client credentials never reach an upstream.',
  );

type CredentialConfig = z.output<typeof credentialSchema>;

/** Cross-field rules of `credentials:` (run once the whole file has its shape). */
export function credentialRules(credentials: Record<string, CredentialConfig>, ctx: ConfigCtx): void {
  for (const [name, cred] of Object.entries(credentials)) {
    if (cred.kind === 'static' && (cred.basic === undefined) === (cred.bearer === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentials', name],
        message: 'a static credential has exactly one of basic or bearer',
      });
    }
    if (cred.kind === 'artifactory-token' && cred.url.startsWith('http:') && !cred.allow_insecure_http) {
      ctx.addIssue({
        code: 'custom',
        path: ['credentials', name, 'url'],
        message: 'is plain http; set allow_insecure_http: true to accept that',
      });
    }
  }
}

/** One credential with its secrets read; durations in milliseconds (`expiresInS` in seconds). */
function credentialSettings(name: string, cred: CredentialConfig, ctx: ConfigCtx) {
  const at = (key: string) => [name, key];
  if (cred.kind === 'static') {
    return cred.basic
      ? {
          kind: 'static' as const,
          name,
          scheme: 'basic' as const,
          username: cred.basic.username,
          password: secretAt(ctx, cred.basic.password, at('basic')),
        }
      : {
          kind: 'static' as const,
          name,
          scheme: 'bearer' as const,
          token: secretAt(ctx, cred.bearer?.token ?? '', at('bearer')),
        };
  }
  return {
    kind: 'artifactory-token' as const,
    name,
    url: new URL(cred.url),
    adminToken: secretAt(ctx, cred.admin_token, at('admin_token')),
    scope: cred.scope,
    allowedGroups: cred.allowed_groups,
    expiresInS: Math.round(cred.expires_in / 1000),
    refreshBeforeMs: cred.refresh_before,
    timeoutMs: cred.timeout,
    ca: optionalSecretAt(ctx, cred.ca, at('ca')),
    allowInsecureHttp: cred.allow_insecure_http,
  };
}

/** `credentials:` by name, with secrets read. */
export const credentialsSettingsSchema = credentialsSchema.transform((credentials, ctx) =>
  Object.fromEntries(
    Object.entries(credentials).map(([name, cred]) => [name, credentialSettings(name, cred, ctx)]),
  ),
);

export type CredentialSettings = Readonly<z.output<typeof credentialsSettingsSchema>[string]>;
