import type { LdapDirectoryOptions } from '../../auth/ldap-directory.ts';

/**
 * The gateway's runtime settings: `gateway.yaml` validated, defaults applied,
 * secrets resolved, paths made absolute, durations in milliseconds. Frozen.
 */
export interface GatewaySettings {
  readonly listen: { readonly host: string; readonly port: number; readonly publicUrl: string | undefined };
  readonly tls: { readonly cert: string; readonly key: string } | { readonly behindTlsTerminator: true };
  readonly directory:
    | { readonly kind: 'ldap'; readonly options: LdapDirectoryOptions }
    | { readonly kind: 'file'; readonly path: string };
  readonly auth: {
    readonly realm: string;
    readonly cacheTtlMs: number;
    readonly cacheMaxEntries: number;
    readonly cacheKey: string | undefined;
  };
  readonly upstreams: Readonly<Record<string, UpstreamSettings>>;
  readonly defaultUpstream: string;
  readonly audit: { readonly sink: 'stdout' } | { readonly sink: 'file'; readonly path: string };
  readonly log: { readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error' };
}

export type UpstreamSettings =
  | {
      readonly kind: 'athens';
      readonly name: string;
      readonly url: URL;
      /** Athens' one static basic-auth user, if it has one. */
      readonly basicAuth: { readonly username: string; readonly password: string } | undefined;
      readonly timeoutMs: number;
      readonly maxSockets: number;
    }
  | { readonly kind: 'dir'; readonly name: string; readonly path: string };
