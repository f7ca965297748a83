import { z } from 'zod';
import type { LdapDirectoryOptions } from '../../auth/ldap-directory.ts';
import { durationMs } from '../../core/duration.ts';
import { unsafe } from '../../core/unsafe-settings.ts';
import { type ConfigCtx, configPath, optionalSecretAt, secretAt, secretRef } from '../config/secrets.ts';

/** The `directory:` and `auth:` sections of gateway.yaml: who the users are, and the password caches. */

/** Default lifetime of a verified credential in the auth cache. */
export const DEFAULT_AUTH_CACHE_TTL = '5m';
/** Default time a rejected credential is rejected without a directory call. */
export const DEFAULT_AUTH_NEGATIVE_CACHE_TTL = '10s';
/** Default maximum number of verified credentials kept in the auth cache (entries). */
export const DEFAULT_AUTH_CACHE_MAX_ENTRIES = 10_000;
/** Default timeout for one LDAP operation, connect included. */
export const DEFAULT_LDAP_TIMEOUT = '5s';
/** Default number of pooled LDAP connections (connections). */
export const DEFAULT_LDAP_POOL_SIZE = 4;

const ldapSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^ldaps?:\/\/[^/]+\/?$/, 'must be ldap://host:port or ldaps://host:port')
      .describe('`ldap://host:port` or `ldaps://host:port`, nothing after the port.'),
    start_tls: z
      .boolean()
      .default(false)
      .describe('Upgrade an `ldap://` connection with StartTLS before binding.'),
    ca: secretRef.optional().describe('Extra CA (PEM) trusted for the directory, besides the system roots.'),
    insecure_skip_verify: z
      .boolean()
      .default(false)
      .meta(unsafe(true, "any certificate is accepted from the directory that checks users' passwords"))
      .describe(
        'Opt-in: accept any certificate from the directory. Never in production; warned about at start and by check-config.',
      ),
    bind_dn: z.string().min(1).describe('The service account modgate searches with.'),
    bind_password: secretRef.describe("The service account's password."),
    user_base: z.string().min(1).describe('Subtree searched for users.'),
    user_filter: z
      .string()
      .includes('{username}', { message: 'must contain {username}' })
      .describe(
        'Search filter for one user; `{username}` is replaced by the RFC 4515-escaped name the client sent.',
      ),
    user_name_attribute: z
      .string()
      .default('uid')
      .describe('Attribute holding the user name modgate reports (audit, policy `user:`).'),
    groups: z
      .discriminatedUnion('from', [
        z.strictObject({
          from: z
            .literal('memberOf')
            .describe(
              '`memberOf`: the attribute on the user entry (memberof overlay, Active Directory); `search`: a group search.',
            ),
        }),
        z.strictObject({
          from: z.literal('search'),
          base: z.string().min(1).describe('Subtree searched for groups.'),
          filter: z
            .string()
            .min(1)
            .describe("Group search filter; `{dn}` is replaced by the user's escaped DN."),
          name_attribute: z.string().default('cn').describe('Attribute holding the group name.'),
        }),
      ])
      .prefault({ from: 'memberOf' })
      .describe("Where a user's groups come from."),
    disabled_filter: z
      .string()
      .optional()
      .describe(
        'Entries matching this filter are refused with 403 "user account is disabled" even with the right password.',
      ),
    timeout: durationMs
      .prefault(DEFAULT_LDAP_TIMEOUT)
      .describe('Bound on one LDAP operation, connecting included.'),
    pool_size: z
      .int()
      .min(1)
      .max(64)
      .default(DEFAULT_LDAP_POOL_SIZE)
      .describe('Pooled connections to the directory, reused across requests.'),
  })
  .describe('An LDAP directory: passwords are checked by binding as the user.');

export const directorySchema = z
  .union([
    z.strictObject({ ldap: ldapSchema }),
    z.strictObject({
      file: z
        .strictObject({
          path: z.string().min(1).describe('The users file; relative paths are relative to gateway.yaml.'),
        })
        .describe('A users file: names, argon2id or bcrypt hashes (`modgate hash-password`) and groups.'),
    }),
  ])
  .describe('Who the users are: an LDAP directory (`ldap`) or a users file (`file`). Exactly one.');

function ldapOptions(ldap: z.output<typeof ldapSchema>, ctx: ConfigCtx): LdapDirectoryOptions {
  const at = (key: string) => ['ldap', key];
  return {
    url: ldap.url,
    startTls: ldap.start_tls,
    tls: { ca: optionalSecretAt(ctx, ldap.ca, at('ca')), insecureSkipVerify: ldap.insecure_skip_verify },
    bindDn: ldap.bind_dn,
    bindPassword: secretAt(ctx, ldap.bind_password, at('bind_password')),
    userBase: ldap.user_base,
    userFilter: ldap.user_filter,
    userNameAttribute: ldap.user_name_attribute,
    groups:
      ldap.groups.from === 'memberOf'
        ? { from: 'memberOf' }
        : {
            from: 'search',
            base: ldap.groups.base,
            filter: ldap.groups.filter,
            nameAttribute: ldap.groups.name_attribute,
          },
    disabledFilter: ldap.disabled_filter,
    timeoutMs: ldap.timeout,
    poolSize: ldap.pool_size,
  };
}

/** `directory:` with the bind password read and the users file's path made absolute. */
export const directorySettingsSchema = directorySchema.transform((directory, ctx) =>
  'ldap' in directory
    ? { kind: 'ldap' as const, options: ldapOptions(directory.ldap, ctx) }
    : { kind: 'file' as const, path: configPath(directory.file.path) },
);

export const authSchema = z
  .strictObject({
    realm: z
      .string()
      .regex(/^[\x20-\x7e]+$/)
      .refine((r) => !r.includes('"'), 'must not contain quotes')
      .default('modgate')
      .describe('The realm of the `WWW-Authenticate: Basic` challenge sent with every 401.'),
    cache_ttl: durationMs
      .prefault(DEFAULT_AUTH_CACHE_TTL)
      .describe(
        'A verified credential is trusted this long without asking the directory again: one bind per user per TTL.',
      ),
    cache_max_entries: z
      .int()
      .min(0)
      .default(DEFAULT_AUTH_CACHE_MAX_ENTRIES)
      .describe('Verified credentials kept per process (least recently used go first).'),
    /** A rejected credential is rejected this long without asking the directory again; 0s = off. */
    negative_cache_ttl: durationMs
      .prefault(DEFAULT_AUTH_NEGATIVE_CACHE_TTL)
      .describe(
        'A rejected credential is rejected this long without another directory call; `0s` turns it off.',
      ),
    /** HMAC key for cache keys; random per process when absent. */
    cache_key: secretRef
      .optional()
      .describe(
        'HMAC key for cache keys; set the same value in every process that shares state through Redis (random per process otherwise).',
      ),
  })
  .prefault({})
  .describe('Password authentication and its caches.');

/** `auth:` with the cache key read; durations in milliseconds. */
export const authSettingsSchema = authSchema.transform((auth, ctx) => ({
  realm: auth.realm,
  cacheTtlMs: auth.cache_ttl,
  cacheMaxEntries: auth.cache_max_entries,
  negativeTtlMs: auth.negative_cache_ttl,
  cacheKey: optionalSecretAt(ctx, auth.cache_key, ['cache_key']),
}));

export type DirectorySettings = z.output<typeof directorySettingsSchema>;
export type AuthSettings = z.output<typeof authSettingsSchema>;
