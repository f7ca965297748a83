import type { Principal } from '../core/principal.ts';

/** Message of every `auth.invalid_credentials`, the same for unknown user and wrong password. */
export const INVALID_CREDENTIALS = 'invalid username or password';
/** Message of `auth.user_disabled`, given only after the password verified. */
export const USER_DISABLED = 'user account is disabled';

/** A user as the directory (LDAP or the users file) knows them: a Principal (groups: LDAP `cn` of each group). */
export type DirectoryUser = Principal;

/**
 * The source of truth for users and groups. Implementations: LDAP
 * (auth/ldap-directory.ts) and the users file (auth/file-directory.ts).
 *
 * Errors are ModgateError with code:
 * - `auth.invalid_credentials`: unknown user or wrong password (indistinguishable,
 *   and costing the same work);
 * - `auth.user_disabled`: right password, but the account is disabled;
 * - `auth.directory_unavailable`: the directory could not be asked. Never an allow.
 */
export interface Directory {
  readonly kind: 'ldap' | 'file';
  /** Verifies a password and returns the user with their groups. */
  verifyPassword(username: string, password: string): Promise<DirectoryUser>;
  /** Looks a user up without a password (for token-based methods); undefined if unknown or disabled. */
  lookup(username: string): Promise<DirectoryUser | undefined>;
  close(): Promise<void>;
}
