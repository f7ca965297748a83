/** How a request proved who it is. */
export type AuthMethod = 'basic' | 'jwt' | 'pat' | 'sso';

/** Who is asking: the output of authentication, the input of authorization. */
export interface Identity {
  /** The directory user name (LDAP uid or file-directory name). */
  readonly user: string;
  /** Group names from the directory, sorted, without duplicates. */
  readonly groups: readonly string[];
  readonly method: AuthMethod;
}
