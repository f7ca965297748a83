/**
 * How a request proved who it is: a directory password (`basic`), an IdP JWT
 * (`jwt`), a modgate personal token (`pat`), an opaque IdP access token
 * checked by RFC 7662 introspection (`oidc`), or a browser session (`sso`).
 */
export type AuthMethod = 'basic' | 'jwt' | 'pat' | 'oidc' | 'sso';

/** Who is asking: the output of authentication, the input of authorization. */
export interface Identity {
  /** The directory user name (LDAP uid or file-directory name). */
  readonly user: string;
  /** Group names from the directory, sorted, without duplicates. */
  readonly groups: readonly string[];
  readonly method: AuthMethod;
}
