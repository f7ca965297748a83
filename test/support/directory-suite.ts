/**
 * The suite every `Directory` must pass (as oauth2-proxy's RunSessionStoreTests
 * does for session stores): right and wrong credentials, unknown and disabled
 * users, empty passwords, filter injection, lookups and group resolution,
 * over the users of harness/directory-fixture.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Directory, DirectoryUser } from '../../auth/directory.ts';
import { type ErrorCode, isModgateError, type ModgateError } from '../../core/errors.ts';
import { ALL_USERS, USERS } from '../../harness/directory-fixture.ts';

/** What a suite set-up returns: the directory under test and how to clean up. */
export interface DirectorySuiteContext {
  directory: Directory;
  teardown?: () => Promise<void>;
}

/** The rejection of `promise`, which must be a ModgateError with `code`. */
export async function expectRejection(promise: Promise<unknown>, code: ErrorCode): Promise<ModgateError> {
  const err = await promise.then(
    (value) => {
      throw new Error(`expected ${code}, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  if (!isModgateError(err)) throw err;
  expect(err.code).toBe(code);
  return err;
}

const { alice, bob, carol, dave, erin } = USERS;

/** Registers the shared directory tests under `describe(name)`; `setup` runs once. */
export function runDirectorySuite(name: string, setup: () => Promise<DirectorySuiteContext>): void {
  describe(name, () => {
    let ctx: DirectorySuiteContext;
    const dir = (): Directory => ctx.directory;

    beforeAll(async () => {
      ctx = await setup();
    });
    afterAll(async () => {
      await ctx?.directory.close();
      await ctx?.teardown?.();
    });

    it('returns the user and sorted groups for the right password', async () => {
      expect(await dir().verifyPassword(alice.name, alice.password)).toEqual<DirectoryUser>({
        user: alice.name,
        groups: ['developers', 'team-a'],
      });
    });

    it('resolves the groups of every enabled user', async () => {
      for (const user of ALL_USERS.filter((u) => !u.disabled)) {
        const found = await dir().verifyPassword(user.name, user.password);
        expect(found, user.name).toEqual({ user: user.name, groups: user.groups });
      }
    });

    it('gives a user in no group an empty group list', async () => {
      expect((await dir().verifyPassword(erin.name, erin.password)).groups).toEqual([]);
    });

    it('refuses a wrong password with auth.invalid_credentials', async () => {
      await expectRejection(
        dir().verifyPassword(alice.name, `${alice.password}x`),
        'auth.invalid_credentials',
      );
    });

    it('refuses an unknown user exactly as a wrong password', async () => {
      const wrong = await expectRejection(
        dir().verifyPassword(alice.name, 'nope'),
        'auth.invalid_credentials',
      );
      const unknown = await expectRejection(
        dir().verifyPassword('mallory', 'nope'),
        'auth.invalid_credentials',
      );
      expect(unknown.message).toBe(wrong.message);
    });

    it('refuses an empty password, even for a known user', async () => {
      await expectRejection(dir().verifyPassword(alice.name, ''), 'auth.invalid_credentials');
      await expectRejection(dir().verifyPassword('mallory', ''), 'auth.invalid_credentials');
    });

    it('refuses an empty user name', async () => {
      await expectRejection(dir().verifyPassword('', alice.password), 'auth.invalid_credentials');
    });

    it('reports a disabled user with the right password as auth.user_disabled', async () => {
      await expectRejection(dir().verifyPassword(carol.name, carol.password), 'auth.user_disabled');
    });

    it('does not reveal a disabled user to a wrong password', async () => {
      await expectRejection(dir().verifyPassword(carol.name, 'nope'), 'auth.invalid_credentials');
    });

    it.each(['*', '*)(uid=*', `${alice.name})(|(uid=*`, 'al*', `${alice.name}\u0000`, `${alice.name}\\`])(
      'refuses the injected user name %j with alice’s password',
      async (injected) => {
        await expectRejection(dir().verifyPassword(injected, alice.password), 'auth.invalid_credentials');
      },
    );

    it('logs in the user whose name is filter syntax', async () => {
      expect(await dir().verifyPassword(dave.name, dave.password)).toEqual({
        user: dave.name,
        groups: dave.groups,
      });
    });

    it('does not let a password of one user log in another', async () => {
      await expectRejection(dir().verifyPassword(alice.name, bob.password), 'auth.invalid_credentials');
    });

    it('looks up a known user with groups, without a password', async () => {
      expect(await dir().lookup(bob.name)).toEqual({ user: bob.name, groups: bob.groups });
      expect(await dir().lookup(dave.name)).toEqual({ user: dave.name, groups: dave.groups });
    });

    it('looks up unknown, disabled and injected names as undefined', async () => {
      expect(await dir().lookup('mallory')).toBeUndefined();
      expect(await dir().lookup(carol.name)).toBeUndefined();
      expect(await dir().lookup('*')).toBeUndefined();
      expect(await dir().lookup('')).toBeUndefined();
    });
  });
}
