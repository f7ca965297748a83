/**
 * Opaque IdP access tokens: the IdP describes the token (RFC 7662
 * introspection, auth/introspection.ts), and the description is mapped to a
 * configured service identity or a directory user, the way JWTs are
 * (auth/jwt/verifier.ts). Plain values in, a principal out: the gateway's
 * authenticator turns it into an `Identity` with method `oidc`.
 */

import { ModgateError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import type { DirectoryUser } from './directory.ts';
import type { IntrospectedToken } from './introspection.ts';
import { ServiceIdentities, type ServiceIdentity } from './jwt/service-identity.ts';
import { stripSuffix, TOKEN_USER_CLAIM_MISSING, TOKEN_USER_REJECTED } from './jwt/verifier.ts';

/** Member of the introspection response naming the directory user, unless configured otherwise (RFC 7662 §2.2 `username`). */
export const DEFAULT_INTROSPECTION_USER_CLAIM = 'username';

/**
 * The Basic user name (netrc `login`) whose password is an opaque token,
 * unless configured otherwise: the name Google's Artifact Registry uses for
 * the same purpose, so no directory user is likely to have it.
 */
export const DEFAULT_OPAQUE_TOKEN_LOGIN = 'oauth2accesstoken';

/** Reason a client sees for an active token issued to some other client or audience. */
export const TOKEN_NOT_FOR_GATEWAY = 'token was not issued for modgate';

export interface OpaqueTokenOptions {
  /** Describes an active token, or throws (`auth.invalid_credentials`, `auth.directory_unavailable`). */
  readonly introspect: (token: string) => Promise<IntrospectedToken>;
  /** The issuer that was asked: service identities of this issuer apply. */
  readonly issuer: string;
  /**
   * Accepted `aud` values (RFC 7662 §2.2): when non-empty, the token's `aud`
   * must name one of them.
   */
  readonly audiences: readonly string[];
  /** Accepted `client_id` values: when non-empty, the token's `client_id` must be one of them. */
  readonly clientIds: readonly string[];
  /** Member of the introspection response holding the directory user name. */
  readonly userClaim?: string | undefined;
  /** Suffix removed from the claim value before the lookup, e.g. `@corp.example`. */
  readonly stripSuffix?: string | undefined;
  readonly serviceIdentities?: readonly ServiceIdentity[] | undefined;
  /** Directory lookup: the user with groups, or undefined when unknown or disabled. */
  readonly lookup: (username: string) => Promise<DirectoryUser | undefined>;
}

/** Who an active opaque token speaks for. */
export interface OpaquePrincipal extends Principal {
  /** `user`: a directory user; `service`: a configured service identity (no directory user). */
  readonly kind: 'user' | 'service';
}

/** Maps introspected opaque tokens to principals; one instance per configuration. */
export class OpaqueTokenVerifier {
  readonly #options: OpaqueTokenOptions;
  readonly #services: ServiceIdentities;

  constructor(options: OpaqueTokenOptions) {
    this.#options = options;
    this.#services = new ServiceIdentities(options.serviceIdentities ?? []);
  }

  /**
   * Introspects `token` and returns who it speaks for. Throws ModgateError:
   * `auth.invalid_credentials` (inactive token, issued for another client or
   * audience, no user claim, user unknown or disabled),
   * `auth.directory_unavailable` (the IdP or the directory could not answer).
   */
  async verify(token: string): Promise<OpaquePrincipal> {
    const described = await this.#options.introspect(token);
    const issuer = this.#options.issuer;
    if (!this.#issuedForUs(described)) {
      throw new ModgateError('auth.invalid_credentials', TOKEN_NOT_FOR_GATEWAY, {
        detail: { iss: issuer, aud: described.audiences, client_id: described.clientId },
      });
    }
    const subject = tokenSubject(described);
    const service = subject === undefined ? undefined : this.#services.match(issuer, subject);
    if (service !== undefined) return { user: service.name, groups: service.groups, kind: 'service' };

    const claim = this.#options.userClaim ?? DEFAULT_INTROSPECTION_USER_CLAIM;
    const value = described.claims[claim];
    if (typeof value !== 'string' || value === '') {
      throw new ModgateError('auth.invalid_credentials', TOKEN_USER_CLAIM_MISSING, {
        detail: { iss: issuer, claim, client_id: described.clientId },
      });
    }
    const username = stripSuffix(value, this.#options.stripSuffix);
    const user = await this.#options.lookup(username);
    if (user === undefined) {
      throw new ModgateError('auth.invalid_credentials', TOKEN_USER_REJECTED, {
        detail: { iss: issuer, user: username },
      });
    }
    return { user: user.user, groups: user.groups, kind: 'user' };
  }

  /**
   * The audience check JWTs get from `aud` (auth/jwt/verifier.ts): an active
   * token of the same IdP may have been issued to any of its clients, and
   * must not open modgate unless it was meant for it. Every configured list
   * must match; with no list configured nothing matches (fail closed —
   * gateway.yaml requires one).
   */
  #issuedForUs(token: IntrospectedToken): boolean {
    const { audiences, clientIds } = this.#options;
    if (audiences.length === 0 && clientIds.length === 0) return false;
    if (audiences.length > 0 && !token.audiences.some((aud) => audiences.includes(aud))) return false;
    if (clientIds.length > 0 && (token.clientId === undefined || !clientIds.includes(token.clientId))) {
      return false;
    }
    return true;
  }
}

/**
 * The subject service identities are matched against: `sub`, or the client
 * id for a token with no resource owner (client credentials), whose subject
 * is the client (RFC 9068 §2.2).
 */
export function tokenSubject(token: IntrospectedToken): string | undefined {
  return token.subject ?? token.clientId;
}
