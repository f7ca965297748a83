import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileDirectory, loadUsersFile, usersFileSchema } from '../auth/file-directory.ts';
import { isModgateError } from '../core/errors.ts';
import { fixtureUsersFile, USERS } from '../harness/directory-fixture.ts';
import { expectRejection, runDirectorySuite } from './support/directory-suite.ts';

runDirectorySuite('file directory', async () => ({
  directory: FileDirectory.fromData(await fixtureUsersFile()),
}));

const BCRYPT_ALICE = '$2b$04$2Hl7FOvTkuF0TNOafQbyzuICWNLYgrKOF0EVqv4c4BmewDolcn9y.';
const ARGON2_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$Wlb8TAH23C8zX8Qd1CNTpg$h/J8dLMtmUWg4u9LiJUguG+ja5lfMVE4qifmmaAHoZ0';

describe('users file loading', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'modgate-users-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, text: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, text);
    return path;
  }

  it('loads a valid file and verifies its users', async () => {
    const data = await fixtureUsersFile();
    const lines = ['users:'];
    for (const u of data.users) {
      lines.push(`  - name: ${JSON.stringify(u.name)}`, `    password_hash: '${u.password_hash}'`);
      if (u.groups !== undefined) lines.push(`    groups: ${JSON.stringify(u.groups)}`);
      if (u.disabled === true) lines.push('    disabled: true');
    }
    const directory = await loadUsersFile(await write('ok.yaml', lines.join('\n')));
    expect(await directory.verifyPassword(USERS.alice.name, USERS.alice.password)).toEqual({
      user: 'alice',
      groups: ['developers', 'team-a'],
    });
  });

  it.each([
    {
      what: 'an unknown hash format',
      yaml: `users:\n  - name: alice\n    password_hash: '{SSHA}abc'\n`,
      message: /bad\.yaml:3: users\[0\]\.password_hash: unsupported password hash/,
    },
    {
      what: 'a truncated argon2id hash',
      yaml: `users:\n  - name: bob\n    password_hash: '$argon2id$v=19$m=19456'\n`,
      message: /bad\.yaml:3: users\[0\]\.password_hash: unsupported password hash/,
    },
    {
      what: 'an unknown key',
      yaml: `users:\n  - name: alice\n    password_hash: '${BCRYPT_ALICE}'\n\n    admin: true\n`,
      message: /:5: users\[0\]\.admin: unknown key/,
    },
    {
      what: 'a missing password hash',
      yaml: `users:\n  - name: alice\n  - name: bob\n    groups: [a]\n`,
      message: /:3: users\[1\]\.password_hash: /,
    },
    {
      what: 'a duplicate user',
      yaml: `users:\n  - name: alice\n    password_hash: '${BCRYPT_ALICE}'\n  - name: alice\n    password_hash: '${ARGON2_HASH}'\n`,
      message: /:4: users\[1\]\.name: duplicate user alice/,
    },
    {
      what: 'groups that are not a list',
      yaml: `users:\n  - name: alice\n    password_hash: '${BCRYPT_ALICE}'\n    groups: team-a\n`,
      message: /:4: users\[0\]\.groups: /,
    },
    {
      what: 'an unknown top-level key',
      yaml: `users: []\ngroups: []\n`,
      message: /:2: groups: unknown key/,
    },
    {
      what: 'broken YAML',
      yaml: `users:\n  - name: [alice\n`,
      message: /bad\.yaml:\d+: \(document\): /,
    },
  ])('rejects $what with the file, key path and line', async ({ yaml, message }) => {
    const path = await write('bad.yaml', yaml);
    const err = await loadUsersFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isModgateError(err, 'config.invalid')).toBe(true);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message.startsWith(path)).toBe(true);
  });

  it('names the file it cannot read', async () => {
    const path = join(dir, 'missing.yaml');
    const err = await loadUsersFile(path).catch((e: unknown) => e);
    expect(isModgateError(err, 'config.invalid')).toBe(true);
    expect((err as Error).message).toBe(`${path}: cannot read users file`);
  });

  it('exports a strict schema for the config layer', () => {
    expect(usersFileSchema.safeParse({ users: [], extra: 1 }).success).toBe(false);
    expect(() => FileDirectory.fromData({ users: [{ name: 'x', password_hash: 'plain' }] })).toThrow(
      /users\[0\]\.password_hash: unsupported password hash/,
    );
  });
});

describe('file directory timing', () => {
  it('spends a hash verification on an unknown user', async () => {
    // All users argon2id: an unknown user must take about as long as a wrong password.
    const directory = FileDirectory.fromData({ users: [{ name: 'alice', password_hash: ARGON2_HASH }] });
    await expectRejection(directory.verifyPassword('nobody', 'x'), 'auth.invalid_credentials'); // warm the dummy
    // CPU time of the whole process (the hash runs on libuv's pool threads), not wall time:
    // other tests competing for the CPU stretch wall time, not the work done. Fastest of 7.
    const time = async (user: string): Promise<number> => {
      let fastest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < 7; i += 1) {
        const start = process.cpuUsage();
        await directory.verifyPassword(user, 'wrong').catch(() => undefined);
        const used = process.cpuUsage(start);
        fastest = Math.min(fastest, used.user + used.system);
      }
      return fastest;
    };
    const known = await time('alice');
    const unknown = await time('nobody');
    expect(unknown).toBeGreaterThan(known * 0.5);
    expect(unknown).toBeLessThan(known * 2);
  });
});
