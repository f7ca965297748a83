/**
 * The users-file directory: users, password hashes and groups from a YAML file,
 * for installations without LDAP (and for `modgate hash-password`).
 *
 * ```yaml
 * users:
 *   - name: alice
 *     password_hash: $argon2id$v=19$m=19456,t=2,p=1$...
 *     groups: [team-a, developers]
 *   - name: carol
 *     password_hash: $2b$10$...
 *     disabled: true
 * ```
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ModgateError } from '../core/errors.ts';
import { joinKeyPath, parseYamlOrThrow } from '../core/yaml-validate.ts';
import { type Directory, type DirectoryUser, INVALID_CREDENTIALS, USER_DISABLED } from './directory.ts';
import {
  burnVerification,
  DUMMY_HASH,
  dummyHashLike,
  hashCostKey,
  isSupportedHash,
  verifyPasswordHash,
} from './password-hash.ts';

/** Shape of the users file; unknown keys are rejected. */
export const usersFileSchema = z
  .object({
    users: z.array(
      z
        .object({
          name: z.string().min(1),
          password_hash: z.string().refine(isSupportedHash, {
            message: 'unsupported password hash (expected $argon2id$... or bcrypt $2a$/$2b$/$2y$...)',
          }),
          groups: z.array(z.string().min(1)).optional(),
          disabled: z.boolean().optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .superRefine((data, ctx) => {
    const seen = new Set<string>();
    for (const [index, user] of data.users.entries()) {
      if (seen.has(user.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['users', index, 'name'],
          message: `duplicate user ${user.name}`,
        });
      }
      seen.add(user.name);
    }
  });

/** The users file after validation. */
export type UsersFile = z.infer<typeof usersFileSchema>;

interface FileUser {
  readonly user: DirectoryUser;
  readonly passwordHash: string;
  readonly disabled: boolean;
}

/** A `Directory` over the users of a validated users file. Immutable; reload by building a new one. */
export class FileDirectory implements Directory {
  readonly kind = 'file' as const;
  readonly #users: ReadonlyMap<string, FileUser>;
  /** Hash cost most users have; unknown users burn a verification at that cost. */
  readonly #typicalHash: string | undefined;
  #dummyHash: Promise<string> | undefined;

  private constructor(data: UsersFile) {
    const users = new Map<string, FileUser>();
    const costs = new Map<string, { hash: string; count: number }>();
    for (const entry of data.users) {
      const groups = [...new Set(entry.groups ?? [])].sort();
      users.set(entry.name, {
        user: Object.freeze({ user: entry.name, groups: Object.freeze(groups) }),
        passwordHash: entry.password_hash,
        disabled: entry.disabled === true,
      });
      const key = hashCostKey(entry.password_hash) ?? '';
      const cost = costs.get(key) ?? { hash: entry.password_hash, count: 0 };
      costs.set(key, { hash: cost.hash, count: cost.count + 1 });
    }
    this.#users = users;
    this.#typicalHash = [...costs.values()].sort((a, b) => b.count - a.count)[0]?.hash;
  }

  /** Builds the directory from data the schema already accepted. */
  static fromValid(data: UsersFile): FileDirectory {
    return new FileDirectory(data);
  }

  /**
   * Builds the directory from parsed file data (e.g. YAML already loaded by the
   * config layer). Throws `config.invalid` listing every problem by key path.
   */
  static fromData(data: unknown): FileDirectory {
    const result = usersFileSchema.safeParse(data);
    if (!result.success) {
      const problems = result.error.issues.map((i) => `${joinKeyPath(i.path)}: ${i.message}`);
      throw new ModgateError('config.invalid', `invalid users file: ${problems.join('; ')}`, {
        detail: { problems },
      });
    }
    return new FileDirectory(result.data);
  }

  /**
   * Verifies a password. Unknown users spend the same hash work as known ones;
   * a disabled account is only revealed once its password verified.
   */
  async verifyPassword(username: string, password: string): Promise<DirectoryUser> {
    if (password === '') throw invalidCredentials(username, 'empty password');
    const entry = this.#users.get(username);
    if (entry === undefined) {
      await burnVerification(password, await this.#dummy());
      throw invalidCredentials(username, 'unknown user');
    }
    if (!(await verifyPasswordHash(entry.passwordHash, password))) {
      throw invalidCredentials(username, 'wrong password');
    }
    if (entry.disabled) {
      throw new ModgateError('auth.user_disabled', USER_DISABLED, { detail: { user: username } });
    }
    return entry.user;
  }

  /** The user with groups, or undefined when unknown or disabled. */
  async lookup(username: string): Promise<DirectoryUser | undefined> {
    const entry = this.#users.get(username);
    return entry === undefined || entry.disabled ? undefined : entry.user;
  }

  /** Nothing to release: the file was read when the directory was built. */
  async close(): Promise<void> {}

  #dummy(): Promise<string> {
    this.#dummyHash ??=
      this.#typicalHash === undefined ? Promise.resolve(DUMMY_HASH) : dummyHashLike(this.#typicalHash);
    return this.#dummyHash;
  }
}

/**
 * Reads, parses and validates a users file. Throws `config.invalid` whose
 * message names the file, and each problem's key path and line.
 */
export async function loadUsersFile(path: string): Promise<FileDirectory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ModgateError('config.invalid', `${path}: cannot read users file`, { cause: err });
  }
  return FileDirectory.fromValid(parseYamlOrThrow(path, text, usersFileSchema));
}

function invalidCredentials(user: string, reason: string): ModgateError {
  return new ModgateError('auth.invalid_credentials', INVALID_CREDENTIALS, { detail: { user, reason } });
}
