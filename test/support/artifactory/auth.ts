/**
 * Who a request is (authentication) and what it may read (authorization), as
 * JFrog documents it:
 * - Basic `user:password` for internal users;
 * - Basic `user:<access or reference token>`: "it is important to access
 *   Artifactory using the same user name provided when creating the token"
 *   (JFrog Platform Administration, "Basic Authentication"), so the user must
 *   be the token's subject;
 * - `Authorization: Bearer <token>` (Access Tokens).
 * The authenticator is picked from the credential's shape (a Basic password
 * that looks like a token is a token), not by trying each in turn.
 *
 * A token's permissions are those of its scope at use time: the subject's own
 * (`applied-permissions/user`), everything (`.../admin`), or the union of the
 * named groups' permissions (`.../groups:a,b`), whether or not the subject is
 * a member or even exists ("Support Authentication for Non-existing Users").
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isTokenShaped, type TokenRecord, type TokenStore } from './tokens.ts';
import type { ArtifactoryUser, AuthFailure, Permissions } from './types.ts';

/** Users and groups as currently configured. */
export interface Directory {
  users: ArtifactoryUser[];
  groups: Record<string, Permissions>;
}

/** An established identity. */
export type Principal =
  | { kind: 'none' }
  | { kind: 'password'; username: string }
  | { kind: 'basic-token' | 'bearer'; username: string; token: TokenRecord };

export type Authentication = { principal: Principal } | { failure: AuthFailure };

/** Artifactory's Basic challenge realm. */
export const ARTIFACTORY_REALM = 'Artifactory Realm';

/** The header of every 401. */
export const CHALLENGE = { 'www-authenticate': `Basic realm="${ARTIFACTORY_REALM}"` };

/** Compared against when the user does not exist, so unknown and known users cost the same. */
const DUMMY_PASSWORD = 'no such user: dummy password for a constant-time comparison';

/** Authenticates an `Authorization` header value; absent means anonymous. */
export function authenticate(
  header: string | undefined,
  directory: Directory,
  tokens: TokenStore,
): Authentication {
  if (header === undefined) return { principal: { kind: 'none' } };
  const bearer = /^bearer +(\S+) *$/i.exec(header);
  if (bearer !== null) return viaToken('bearer', undefined, bearer[1]!, tokens);
  const basic = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (basic === null)
    return { failure: /^(basic|bearer)\b/i.test(header) ? 'malformed' : 'unsupported-scheme' };
  const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { failure: 'malformed' };
  const username = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (isTokenShaped(secret)) return viaToken('basic-token', username, secret, tokens);
  const user = directory.users.find((u) => u.username === username);
  const matches = timingSafeEqual(digest(secret), digest(user?.password ?? DUMMY_PASSWORD));
  if (user === undefined || !matches) return { failure: 'bad-password' };
  return { principal: { kind: 'password', username } };
}

function viaToken(
  kind: 'basic-token' | 'bearer',
  username: string | undefined,
  value: string,
  tokens: TokenStore,
): Authentication {
  const token = tokens.verify(value);
  if (typeof token === 'string') return { failure: token };
  if (username !== undefined && username !== token.username) return { failure: 'subject-mismatch' };
  return { principal: { kind, username: token.username, token } };
}

/** An admin: an admin user by password or identity token, or an admin-scoped token. */
export function isAdmin(principal: Principal, directory: Directory): boolean {
  if (principal.kind === 'none') return false;
  const admin = userNamed(directory, principal.username)?.admin === true;
  if (principal.kind === 'password') return admin;
  return principal.token.grant.admin || (principal.token.grant.user && admin);
}

/** May this principal read repository `repo`? */
export function canRead(
  principal: Principal,
  repo: { key: string; anonymousRead?: boolean },
  directory: Directory,
): boolean {
  if (repo.anonymousRead === true) return true;
  if (principal.kind === 'none') return false;
  if (isAdmin(principal, directory)) return true;
  return permissionsOf(principal, directory).some((p) => p[repo.key] === 'read');
}

function permissionsOf(principal: Exclude<Principal, { kind: 'none' }>, directory: Directory): Permissions[] {
  const ofUser = (username: string): Permissions[] => {
    const user = userNamed(directory, username);
    if (user === undefined) return [];
    return [user.permissions ?? {}, ...(user.groups ?? []).map((g) => directory.groups[g] ?? {})];
  };
  if (principal.kind === 'password') return ofUser(principal.username);
  const { grant } = principal.token;
  return [
    ...(grant.user ? ofUser(principal.username) : []),
    ...grant.groups.map((g) => directory.groups[g] ?? {}),
  ];
}

function userNamed(directory: Directory, username: string): ArtifactoryUser | undefined {
  return directory.users.find((u) => u.username === username);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
