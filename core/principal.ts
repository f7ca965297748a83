/**
 * Who is asking: a directory user (or a configured service identity) and
 * their groups. Authentication yields one (auth/identity.ts adds how it was
 * proved), policies decide on one, routes map one to an upstream credential.
 */
export interface Principal {
  /** The directory user name (LDAP uid or users-file name), or a service identity's name. */
  readonly user: string;
  /** Group names, sorted, without duplicates. */
  readonly groups: readonly string[];
}
