import * as oidc from 'openid-client';
import type { DirectoryUser } from '../../../auth/directory.ts';
import { stripSuffix } from '../../../auth/jwt/verifier.ts';
import { ModgateError } from '../../../core/errors.ts';
import type { SsoSettings } from '../../config/settings.ts';

/** Timeout of one call to the IdP (seconds; openid-client counts in seconds). */
export const IDP_CALL_TIMEOUT_S = 10;

/** Message when the IdP names a person the directory does not have, or has disabled. */
export const SSO_USER_REJECTED = 'your account is unknown or disabled in the directory';

/**
 * modgate as an OIDC client of the corporate IdP, for people: discovery once
 * (retried after a failure, never cached as failed), and the mapping from an
 * ID token's claims to the directory user, who must exist and be enabled:
 * identity stays rooted in the directory, with its groups.
 *
 * The grants themselves live beside this: gateway/people/web (authorization code +
 * PKCE) and gateway/people/sso/device-* (RFC 8628 device grant).
 */
export class SsoClient {
  readonly settings: SsoSettings;
  readonly #lookup: (username: string) => Promise<DirectoryUser | undefined>;
  #config: Promise<oidc.Configuration> | undefined;

  constructor(settings: SsoSettings, lookup: (username: string) => Promise<DirectoryUser | undefined>) {
    this.settings = settings;
    this.#lookup = lookup;
  }

  /** The IdP's discovered configuration with modgate's client credentials; `sso.unavailable` when it cannot be had. */
  configuration(): Promise<oidc.Configuration> {
    this.#config ??= oidc
      .discovery(
        new URL(this.settings.issuer),
        this.settings.clientId,
        this.settings.clientSecret,
        undefined,
        {
          timeout: IDP_CALL_TIMEOUT_S,
          ...(this.settings.allowInsecureHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      )
      .catch((cause: unknown) => {
        this.#config = undefined;
        throw new ModgateError('sso.unavailable', 'the identity provider is unavailable', { cause });
      });
    return this.#config;
  }

  /**
   * The enabled directory user the (already verified) ID-token claims name,
   * by `sso.user_claim` with `sso.strip_suffix` removed.
   */
  async userFor(claims: Readonly<Record<string, unknown>>): Promise<DirectoryUser> {
    const raw = claims[this.settings.userClaim];
    if (typeof raw !== 'string' || raw === '') {
      throw new ModgateError(
        'sso.login_failed',
        `the identity provider did not name a user (${this.settings.userClaim})`,
      );
    }
    const user = await this.#lookup(stripSuffix(raw, this.settings.stripSuffix));
    if (user === undefined) {
      throw new ModgateError('sso.login_failed', SSO_USER_REJECTED, { detail: { claim: raw } });
    }
    return user;
  }
}
