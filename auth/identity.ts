/**
 * How a request proved who it is: a directory password (`basic`), an IdP JWT
 * (`jwt`), a modgate personal token (`pat`), an opaque IdP access token
 * checked by RFC 7662 introspection (`oidc`), or a browser session (`sso`).
 */
import type { Principal } from '../core/principal.ts';
export type AuthMethod = 'basic' | 'jwt' | 'pat' | 'oidc' | 'sso';

/** Who is asking and how it was proved: the output of authentication, the input of authorization. */
export interface Identity extends Principal {
  readonly method: AuthMethod;
}
