import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstRdnValue, LdapDirectory, type LdapDirectoryOptions } from '../auth/ldap-directory.ts';
import { isModgateError } from '../core/errors.ts';
import { AMBIGUOUS_USER, GROUPS_DN, USERS } from '../harness/directory-fixture.ts';
import { GROUP_SEARCH, ldapDirectoryOptions, type Slapd, startSlapd } from '../harness/slapd.ts';
import { sameDn } from '../harness/slapd-log.ts';
import { expectRejection, runDirectorySuite } from './support/directory-suite.ts';

const { alice, bob, erin } = USERS;

// One slapd for the whole file; tests that stop it restart it before they end.
let slapd: Slapd;
const opened: LdapDirectory[] = [];
beforeAll(async () => {
  slapd = await startSlapd({ tls: true });
});
afterAll(async () => {
  await Promise.all(opened.map((d) => d.close()));
  await slapd?.dispose();
});

function directory(overrides: Partial<LdapDirectoryOptions> = {}): LdapDirectory {
  const d = new LdapDirectory({ ...ldapDirectoryOptions(slapd), ...overrides });
  opened.push(d);
  return d;
}

runDirectorySuite('ldap directory (memberOf groups)', async () => ({ directory: directory() }));
runDirectorySuite('ldap directory (group search)', async () => ({
  directory: directory({ groups: GROUP_SEARCH }),
}));
runDirectorySuite('ldap directory (StartTLS)', async () => ({
  directory: directory({ startTls: true, tls: { ca: slapd.caPem } }),
}));
runDirectorySuite('ldap directory (ldaps)', async () => ({
  directory: directory({ url: slapd.ldapsUrl, tls: { ca: slapd.caPem } }),
}));

describe('ldap directory', () => {
  it('reuses one service-bound connection for 50 sequential requests', async () => {
    const d = directory();
    const serviceBefore = await slapd.countBinds(slapd.bindDn);
    const aliceBefore = await slapd.countBinds(alice.dn);
    for (let i = 0; i < 25; i += 1) {
      expect(await d.lookup(bob.name)).toEqual({ user: bob.name, groups: bob.groups });
      expect((await d.verifyPassword(alice.name, alice.password)).user).toBe(alice.name);
    }
    expect(await slapd.countBinds(slapd.bindDn)).toBe(serviceBefore + 1);
    expect(await slapd.countBinds(alice.dn)).toBe(aliceBefore + 25);
  });

  it('never binds a user on a service connection', async () => {
    const d = directory();
    await d.verifyPassword(alice.name, alice.password);
    await d.lookup(bob.name);
    const binds = await slapd.binds();
    const service = new Set(binds.filter((b) => sameDn(b.dn, slapd.bindDn)).map((b) => b.conn));
    const user = binds.filter((b) => sameDn(b.dn, alice.dn) && b.err === 0).map((b) => b.conn);
    expect(user.length).toBeGreaterThan(0);
    expect(user.filter((c) => service.has(c))).toEqual([]);
  });

  it('never sends a bind for an empty password (slapd would accept it as anonymous)', async () => {
    const before = await slapd.countBinds(erin.dn);
    await expectRejection(directory().verifyPassword(erin.name, ''), 'auth.invalid_credentials');
    expect(await slapd.countBinds(erin.dn)).toBe(before);
  });

  it('spends one bind on an unknown user, as on a wrong password', async () => {
    const d = directory();
    const failedBinds = async () => (await slapd.binds()).filter((b) => b.err === 49).length;
    let before = await failedBinds();
    await expectRejection(d.verifyPassword('mallory', 'guess'), 'auth.invalid_credentials');
    expect(await failedBinds()).toBe(before + 1);
    before = await failedBinds();
    await expectRejection(d.verifyPassword(alice.name, 'guess'), 'auth.invalid_credentials');
    expect(await failedBinds()).toBe(before + 1);
  });

  it('bounds concurrent requests by the pool size', async () => {
    const d = directory({ poolSize: 2 });
    const before = await slapd.countBinds(slapd.bindDn);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? d.verifyPassword(bob.name, bob.password) : d.lookup(alice.name),
      ),
    );
    expect(results.every((r) => r !== undefined)).toBe(true);
    expect(await slapd.countBinds(slapd.bindDn)).toBeLessThanOrEqual(before + 2);
  });

  it('refuses a user name that matches two entries, and logs both', async () => {
    const err = await expectRejection(
      directory().verifyPassword(AMBIGUOUS_USER.name, AMBIGUOUS_USER.password),
      'auth.invalid_credentials',
    );
    expect(err.detail).toMatchObject({ reason: 'ambiguous user' });
    expect(err.detail?.dns).toHaveLength(2);
    expect(await directory().lookup(AMBIGUOUS_USER.name)).toBeUndefined();
  });

  it('returns the canonical user name from the directory', async () => {
    expect((await directory().verifyPassword('ALICE', alice.password)).user).toBe('alice');
  });

  it('never puts the password in an error', async () => {
    const password = 'very-secret-wrong-password';
    const err = await expectRejection(
      directory().verifyPassword(alice.name, password),
      'auth.invalid_credentials',
    );
    expect(JSON.stringify({ message: err.message, detail: err.detail })).not.toContain(password);
  });

  it('sees group changes without recreating the directory', async () => {
    const d = directory({ groups: GROUP_SEARCH });
    const m = directory();
    const change = (op: 'add' | 'delete') =>
      slapd.modify(`dn: cn=team-a,${GROUPS_DN}\nchangetype: modify\n${op}: member\nmember: ${erin.dn}\n`);
    await change('add');
    try {
      expect((await d.verifyPassword(erin.name, erin.password)).groups).toEqual(['team-a']);
      expect((await m.verifyPassword(erin.name, erin.password)).groups).toEqual(['team-a']);
    } finally {
      await change('delete');
    }
    expect((await d.lookup(erin.name))?.groups).toEqual([]);
    expect((await m.lookup(erin.name))?.groups).toEqual([]);
  });

  it('reports a wrong service password as directory_unavailable, never invalid_credentials', async () => {
    const d = directory({ bindPassword: 'wrong' });
    await expectRejection(d.verifyPassword(alice.name, alice.password), 'auth.directory_unavailable');
    await expectRejection(d.lookup(alice.name), 'auth.directory_unavailable');
  });

  it('refuses a server certificate from an unknown CA unless insecureSkipVerify', async () => {
    const untrusted = directory({ startTls: true, tls: {} });
    await expectRejection(untrusted.verifyPassword(alice.name, alice.password), 'auth.directory_unavailable');
    const untrustedLdaps = directory({ url: slapd.ldapsUrl, tls: {} });
    await expectRejection(untrustedLdaps.lookup(alice.name), 'auth.directory_unavailable');
    const skip = directory({ url: slapd.ldapsUrl, tls: { insecureSkipVerify: true } });
    expect((await skip.lookup(alice.name))?.user).toBe(alice.name);
  });

  it('is unavailable while slapd is stopped and recovers after a restart', async () => {
    const d = directory();
    expect(await d.lookup(alice.name)).toBeDefined(); // pooled connections now exist
    await slapd.stop();
    try {
      await expectRejection(d.verifyPassword(alice.name, alice.password), 'auth.directory_unavailable');
      await expectRejection(d.lookup(alice.name), 'auth.directory_unavailable');
    } finally {
      await slapd.restart();
    }
    expect((await d.verifyPassword(alice.name, alice.password)).user).toBe(alice.name);
    expect((await d.lookup(bob.name))?.groups).toEqual(bob.groups);
  });

  it('serves the first request after a restart on a new connection', async () => {
    const d = directory();
    expect(await d.lookup(alice.name)).toBeDefined();
    await slapd.restart();
    expect((await d.verifyPassword(alice.name, alice.password)).user).toBe(alice.name);
  });

  it('times out against a server that never answers, over ldap, StartTLS and ldaps', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      for (const transport of [
        { url: `ldap://127.0.0.1:${port}`, startTls: false },
        { url: `ldap://127.0.0.1:${port}`, startTls: true },
        { url: `ldaps://127.0.0.1:${port}`, startTls: false },
      ]) {
        const d = directory({ ...transport, timeoutMs: 300 });
        const start = Date.now();
        await expectRejection(d.verifyPassword(alice.name, alice.password), 'auth.directory_unavailable');
        await expectRejection(d.lookup(alice.name), 'auth.directory_unavailable');
        expect(Date.now() - start, transport.url).toBeLessThan(2_000);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('fails after close', async () => {
    const d = directory();
    await d.lookup(alice.name);
    await d.close();
    await expectRejection(d.lookup(alice.name), 'auth.directory_unavailable');
  });

  it.each([
    { userFilter: '(uid={user})' },
    { userFilter: 'uid={username}' },
    { disabledFilter: '(employeeType=disabled' },
    { groups: { ...GROUP_SEARCH, filter: '(member={email})' } },
    { url: 'ldaps://127.0.0.1:1', startTls: true },
    { poolSize: 0 },
    { timeoutMs: 0 },
  ] as Partial<LdapDirectoryOptions>[])('rejects the configuration %j', (overrides) => {
    let err: unknown;
    try {
      new LdapDirectory({ ...ldapDirectoryOptions(slapd), ...overrides });
    } catch (e) {
      err = e;
    }
    expect(isModgateError(err, 'config.invalid')).toBe(true);
  });
});

describe('firstRdnValue', () => {
  it.each([
    ['cn=team-a,ou=groups,dc=example,dc=org', 'team-a'],
    ['CN=Team A, OU=Groups', 'Team A'],
    ['cn=on-call\\2C ops,ou=groups', 'on-call, ops'],
    ['cn=on-call\\, ops,ou=groups', 'on-call, ops'],
    ['cn=z\\C3\\ABe,ou=groups', 'zëe'],
    ['cn=zoë,ou=groups', 'zoë'],
    ['cn=a+uid=b,ou=groups', 'a'],
    ['cn=#04024869,ou=groups', undefined],
    ['no-equals-sign', undefined],
    ['cn=,ou=groups', undefined],
    ['cn=bad\\C3,ou=groups', undefined],
  ])('%s → %s', (dn, expected) => {
    expect(firstRdnValue(dn)).toBe(expected);
  });
});
