/**
 * The users of harness/fixtures/directory.ldif with their passwords and groups:
 * the one place tests read them from. The users-file tests build the same
 * users (see `fixtureUsersFile`), so both directories pass one shared suite.
 */
import bcrypt from 'bcryptjs';
import { hashPassword } from '../auth/password-hash.ts';

/** A user of the fixture directory. */
export interface FixtureUser {
  readonly name: string;
  readonly password: string;
  /** Group names as the directory must report them: sorted, no duplicates. */
  readonly groups: readonly string[];
  readonly disabled: boolean;
  readonly dn: string;
}

/** Suffix of the fixture directory. */
export const BASE_DN = 'dc=example,dc=org';
/** Subtree holding the users. */
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
/** Subtree holding the groupOfNames entries. */
export const GROUPS_DN = `ou=groups,${BASE_DN}`;

/** modgate's service account (read access by an ACL in slapd.conf). */
export const SERVICE_ACCOUNT = {
  dn: `cn=modgate,ou=services,${BASE_DN}`,
  password: 'modgate-service-pw',
} as const;

function user(name: string, password: string, groups: string[], disabled = false): FixtureUser {
  return { name, password, groups: [...groups].sort(), disabled, dn: `uid=${name},${PEOPLE_DN}` };
}

/** The users every directory implementation must know, by role. */
export const USERS = {
  /** Two groups. */
  alice: user('alice', 'alice-pw-Q7r!', ['team-a', 'developers']),
  /** Three groups, one whose name needs DN escaping (`on-call, ops`). */
  bob: user('bob', 'bob-pw-8Kd#', ['team-b', 'developers', 'on-call, ops']),
  /** Disabled (employeeType=disabled), in team-a. */
  carol: user('carol', 'carol-pw-Z2x%', ['team-a'], true),
  /** A name that is filter syntax unless escaped. */
  dave: user('d*ve(ops)', 'dave-pw-4Lm&', ['developers']),
  /** Non-ASCII name and password. */
  zoe: user('zoë', 'zoë-pw-Ü9', ['team-b']),
  /** In no group. */
  erin: user('erin', 'erin-pw-3Tn@', []),
} as const satisfies Record<string, FixtureUser>;

/** All users of the shared suite. */
export const ALL_USERS: readonly FixtureUser[] = Object.values(USERS);

/** LDAP only: two entries share uid=twin, so a user search is ambiguous. */
export const AMBIGUOUS_USER = { name: 'twin', password: 'twin-pw-6Yh' } as const;

/** bcrypt cost for test hashes, in log2 rounds (the minimum: tests need speed, not strength). */
const TEST_BCRYPT_COST = 4;

/**
 * The fixture users as users-file data (`{ users: [...] }`): alice hashed with
 * argon2id (modgate's format), the others with low-cost bcrypt `$2b$`, one
 * rewritten as `$2y$` to cover the PHP/htpasswd variant. Groups are given
 * unsorted and with a duplicate.
 */
export async function fixtureUsersFile(): Promise<{
  users: Array<{ name: string; password_hash: string; groups?: string[]; disabled?: boolean }>;
}> {
  const users = await Promise.all(
    ALL_USERS.map(async (u) => {
      let hash =
        u === USERS.alice ? await hashPassword(u.password) : await bcrypt.hash(u.password, TEST_BCRYPT_COST);
      if (u === USERS.bob) hash = hash.replace(/^\$2b\$/, '$2y$');
      return {
        name: u.name,
        password_hash: hash,
        // Unsorted and with a duplicate: the directory must sort and deduplicate.
        ...(u.groups.length > 0 ? { groups: [...u.groups].reverse().concat(u.groups.slice(0, 1)) } : {}),
        ...(u.disabled ? { disabled: true } : {}),
      };
    }),
  );
  return { users };
}
