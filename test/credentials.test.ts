/**
 * Upstream credentials: static Basic/Bearer values and per-user scoped
 * Artifactory tokens minted from the real (in-process) Artifactory emulator
 * over loopback — the exact Create Token fields, one mint per key under
 * concurrency, refresh before expiry, failures that are clear, uncached and
 * free of the admin token.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type ErrorCode, isModgateError, type ModgateError } from '../core/errors.ts';
import type { Principal } from '../core/principal.ts';
import {
  ArtifactoryTokenCredential,
  type ArtifactoryTokenOptions,
  DEFAULT_TOKEN_EXPIRES_IN_S,
} from '../gateway/credentials/artifactory-token.ts';
import { ScopeTemplate } from '../gateway/credentials/scope.ts';
import { StaticCredential } from '../gateway/credentials/static.ts';
import { MemoryTokenCache, type TokenCache } from '../gateway/credentials/token-cache.ts';
import { freePort } from '../harness/ports.ts';
import { makeTestPki, type TestPki } from '../harness/tls.ts';
import {
  type ArtifactoryEmulator,
  type ArtifactoryUser,
  startArtifactoryEmulator,
  TOKENS_PATH,
} from './support/artifactory-emulator.ts';
import { writeFixtureModules } from './support/modules.ts';

const USERS: ArtifactoryUser[] = [
  { username: 'admin', password: 'admin-pass', admin: true },
  { username: 'alice', password: 'alice-pass', groups: ['team-a'] },
  { username: 'bob', password: 'bob-pass', groups: ['team-b'] },
];
const GROUPS = { 'team-a': { 'go-corp': 'read' }, 'team-b': { 'go-other': 'read' } } as const;
const INFO = '/example.com/hello/@v/v1.0.0.info';
const SECRET_INFO = '/corp.example/team-a/secret/@v/v0.1.0.info';

const alice: Principal = { user: 'alice', groups: ['team-a'] };
const bob: Principal = { user: 'bob', groups: ['team-b'] };

let tmp: string;
let pki: TestPki;
let emu: ArtifactoryEmulator;
let adminToken: string;
/** Every provider made by `provider`, closed after each test. */
const providers: ArtifactoryTokenCredential[] = [];
/** Every error a provider threw in this file, checked for the admin token at the end. */
const seenErrors: unknown[] = [];

function provider(options: Partial<ArtifactoryTokenOptions> = {}): ArtifactoryTokenCredential {
  const p = new ArtifactoryTokenCredential({
    name: 'artifactory-corp',
    url: new URL(emu.url),
    adminToken,
    allowInsecureHttp: true,
    ...options,
  });
  providers.push(p);
  return p;
}

/** The error `promise` rejects with, checked for its code (and exact message when given). */
async function rejection(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: string,
): Promise<ModgateError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  seenErrors.push(err);
  if (!isModgateError(err)) throw new Error(`expected a ModgateError, got ${inspect(err)}`);
  expect(err.code).toBe(code);
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}

/** GETs a file from a Go repository of the emulator with `authorization`. */
function goGet(repo: string, path: string, authorization: string): Promise<Response> {
  return fetch(emu.goproxyUrl(repo) + path, { headers: { authorization } });
}

const tokenRequests = () => emu.requests.filter((r) => r.path === TOKENS_PATH);
const decodeBasic = (value: string) => Buffer.from(value.replace(/^Basic /, ''), 'base64').toString('utf8');

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-credentials-'));
  const fixtures = await writeFixtureModules(join(tmp, 'goproxy'));
  pki = await makeTestPki(join(tmp, 'pki'));
  emu = await startArtifactoryEmulator({
    repositories: [
      { key: 'go-corp', root: fixtures.root },
      { key: 'go-other', root: fixtures.root },
    ],
    users: USERS,
    groups: GROUPS,
  });
  adminToken = emu.issueToken({ username: 'admin', scope: 'applied-permissions/admin' }).accessToken;
});

beforeEach(() => emu.clear());

afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()));
  // Regression: no error message, log detail or cause chain ever carries the admin token.
  expect(seenErrors.length).toBeGreaterThan(5);
  for (const err of seenErrors) {
    expect(inspect(err, { depth: 10 })).not.toContain(adminToken);
    expect(JSON.stringify((err as ModgateError).detail ?? {})).not.toContain(adminToken);
  }
  await emu?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('static credential', () => {
  test('Basic is base64(user:password), built once, and really reads the repository', async () => {
    const cred = new StaticCredential({
      name: 'corp-ro',
      scheme: 'basic',
      username: 'alice',
      password: 'alice-pass',
    });
    const value = await cred.authorization();
    expect(value).toBe(`Basic ${Buffer.from('alice:alice-pass').toString('base64')}`);
    expect(await cred.authorization()).toBe(value);
    expect((await goGet('go-corp', INFO, value)).status).toBe(200);
    expect(emu.requests.at(-1)).toMatchObject({ authKind: 'password', username: 'alice' });
    await cred.close();
    await rejection(cred.authorization(), 'internal', 'credential corp-ro is closed');
  });

  test('Bearer is the token as given and really reads the repository', async () => {
    const token = emu.issueToken({ username: 'alice' }).accessToken;
    const cred = new StaticCredential({ name: 'corp-bearer', scheme: 'bearer', token });
    const value = await cred.authorization();
    expect(value).toBe(`Bearer ${token}`);
    expect((await goGet('go-corp', INFO, value)).status).toBe(200);
    expect(emu.requests.at(-1)).toMatchObject({ authKind: 'bearer', username: 'alice' });
  });

  test.each([
    [{ scheme: 'basic', username: 'a:b', password: 'p4ss' }, 'username must be non-empty'],
    [{ scheme: 'basic', username: '', password: 'p4ss' }, 'username must be non-empty'],
    [{ scheme: 'basic', username: 'alice', password: 'line\nbreak-p4ss' }, 'password must be non-empty'],
    [{ scheme: 'bearer', token: 'has space-s3cret' }, 'token is empty'],
  ] as const)('rejects %o as config.invalid without echoing the secret', (fields, expected) => {
    let err: unknown;
    try {
      new StaticCredential({ name: 'bad', ...fields });
    } catch (e) {
      err = e;
    }
    expect(isModgateError(err, 'config.invalid')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(`credential bad: ${expected}`);
    expect(message).not.toMatch(/p4ss|s3cret/);
  });
});

describe('artifactory-token: minting', () => {
  test('mints with the exact Create Token fields and answers Basic <user>:<token> that reads the Go repo', async () => {
    const cred = provider();
    const value = await cred.authorization(alice);

    expect(emu.mints).toHaveLength(1);
    const mint = emu.mints[0]!;
    expect(mint).toMatchObject({
      username: 'alice',
      scope: 'applied-permissions/groups:team-a',
      expiresIn: DEFAULT_TOKEN_EXPIRES_IN_S,
      refreshable: false,
      grantType: 'client_credentials',
      requestedBy: 'admin',
    });
    const [request] = tokenRequests();
    expect(request).toMatchObject({ method: 'POST', authKind: 'bearer', username: 'admin' });
    expect(request!.headers.authorization).toBe(`Bearer ${adminToken}`);
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');

    const [user, token] = decodeBasic(value).split(':');
    expect(user).toBe('alice');
    emu.clear();
    const res = await goGet('go-corp', SECRET_INFO, value);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ Version: 'v0.1.0' });
    expect(emu.requests[0]).toMatchObject({
      authKind: 'basic-token',
      username: 'alice',
      tokenId: mint.tokenId,
    });
    expect(emu.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`alice:${token}`).toString('base64')}`,
    );
  });

  test('a team-b token is refused by Artifactory for the team-a repository (the scope holds)', async () => {
    const value = await provider().authorization(bob);
    expect(emu.mints[0]).toMatchObject({ username: 'bob', scope: 'applied-permissions/groups:team-b' });
    expect((await goGet('go-corp', SECRET_INFO, value)).status).toBe(403);
    expect((await goGet('go-other', INFO, value)).status).toBe(200);
  });

  test('100 concurrent calls for one subject cost one mint and get one token', async () => {
    const cred = provider();
    const values = await Promise.all(Array.from({ length: 100 }, () => cred.authorization(alice)));
    expect(emu.mints).toHaveLength(1);
    expect(new Set(values).size).toBe(1);
    // and later calls hit the cache
    expect(await cred.authorization({ user: 'alice', groups: ['team-a'] })).toBe(values[0]);
    expect(tokenRequests()).toHaveLength(1);
  });

  test('different users and group sets get their own mints; group order does not matter', async () => {
    const cred = provider();
    const [a, b, ab, ba] = await Promise.all([
      cred.authorization(alice),
      cred.authorization(bob),
      cred.authorization({ user: 'alice', groups: ['team-a', 'team-b'] }),
      cred.authorization({ user: 'alice', groups: ['team-b', 'team-a', 'team-a'] }),
    ]);
    expect(emu.mints.map((m) => [m.username, m.scope]).sort()).toEqual([
      ['alice', 'applied-permissions/groups:team-a'],
      ['alice', 'applied-permissions/groups:team-a,team-b'],
      ['bob', 'applied-permissions/groups:team-b'],
    ]);
    expect(new Set([a, b, ab]).size).toBe(3);
    expect(ba).toBe(ab);
  });

  test('two credentials sharing one cache keep their tokens apart', async () => {
    const cache = new MemoryTokenCache();
    const one = provider({ name: 'one', cache });
    const two = provider({ name: 'two', cache });
    expect(await one.authorization(alice)).not.toBe(await two.authorization(alice));
    expect(emu.mints).toHaveLength(2);
    expect(cache.size).toBe(2);
  });

  test('an allowlist keeps an arbitrary directory group out of the minted scope', async () => {
    const cred = provider({ allowedGroups: { 'cn=Team A,ou=groups,dc=corp': 'team-a' } });
    const sneaky = 'team-b applied-permissions/admin';
    const value = await cred.authorization({
      user: 'alice',
      groups: ['cn=Team A,ou=groups,dc=corp', sneaky, 'team-b'],
    });
    expect(emu.mints.map((m) => m.scope)).toEqual(['applied-permissions/groups:team-a']);
    expect((await goGet('go-other', INFO, value)).status).toBe(403);
    await rejection(
      cred.authorization(bob),
      'policy.denied',
      'credential artifactory-corp: none of your groups may be granted an Artifactory token scope',
    );
    expect(emu.mints).toHaveLength(1);
  });

  test('forget drops the cached token so the next call mints again (e.g. after a revocation)', async () => {
    const cred = provider();
    const first = await cred.authorization(alice);
    await cred.forget(alice);
    const second = await cred.authorization(alice);
    expect(second).not.toBe(first);
    expect(emu.mints).toHaveLength(2);
  });
});

describe('artifactory-token: refresh before expiry', () => {
  test('a token is reused until refresh_before ahead of expiry, then refreshed once under 20 concurrent calls', async () => {
    let clock = Date.now();
    const cred = provider({ expiresInS: 300, refreshBeforeMs: 60_000, now: () => clock });
    const old = await cred.authorization(alice);
    expect(emu.mints).toHaveLength(1);

    clock += 239_000;
    emu.advanceClock(239);
    expect(await cred.authorization(alice)).toBe(old);
    expect(emu.mints).toHaveLength(1);

    clock += 2_000; // 241 s: inside the last 60 s
    emu.advanceClock(2);
    const refreshed = await Promise.all(Array.from({ length: 20 }, () => cred.authorization(alice)));
    expect(emu.mints).toHaveLength(2);
    expect(new Set(refreshed).size).toBe(1);
    expect(refreshed[0]).not.toBe(old);

    emu.advanceClock(60); // 301 s: the first token has expired, the refreshed one has not
    expect((await goGet('go-corp', SECRET_INFO, old)).status).toBe(401);
    expect(emu.requests.at(-1)?.authFailure).toBe('expired-token');
    expect((await goGet('go-corp', SECRET_INFO, refreshed[0]!)).status).toBe(200);
  });

  test('a token whose granted lifetime is inside the refresh margin is used but not cached', async () => {
    let clock = Date.now();
    const cred = provider({ expiresInS: 61, refreshBeforeMs: 60_000, now: () => clock });
    await cred.authorization(alice);
    clock += 1_500;
    await cred.authorization(alice);
    expect(emu.mints).toHaveLength(2);
  });
});

describe('artifactory-token: failures', () => {
  test('a bad admin token: rejected_credential with a clear message, and not cached', async () => {
    const revoked = emu.issueToken({ username: 'admin', scope: 'applied-permissions/admin' }).accessToken;
    emu.revokeToken(revoked);
    const cred = provider({ adminToken: revoked });
    for (let i = 0; i < 2; i++) {
      const err = await rejection(
        cred.authorization(alice),
        'upstream.rejected_credential',
        "credential artifactory-corp: Artifactory token endpoint rejected modgate's admin token (401); tell the modgate operator",
      );
      expect(inspect(err, { depth: 10 })).not.toContain(revoked);
    }
    expect(tokenRequests()).toHaveLength(2);
    expect(emu.mints).toHaveLength(0);
  });

  test('an admin token without admin rights: 403 becomes rejected_credential', async () => {
    const weak = emu.issueToken({ username: 'alice' }).accessToken;
    const err = await rejection(
      provider({ adminToken: weak }).authorization(alice),
      'upstream.rejected_credential',
      "credential artifactory-corp: Artifactory token endpoint refused modgate's admin token a token for this user and scope (403); tell the modgate operator",
    );
    expect(err.detail).toMatchObject({ status: 403, reason: expect.stringContaining('only an admin') });
    expect(inspect(err, { depth: 10 })).not.toContain(weak);
  });

  test('a 5xx from the token endpoint is bad_response and the next call mints', async () => {
    const cred = provider();
    emu.failNext(503, 1, { pathPrefix: TOKENS_PATH });
    await rejection(
      cred.authorization(alice),
      'upstream.bad_response',
      'credential artifactory-corp: Artifactory token endpoint failed (503)',
    );
    await cred.authorization(alice);
    expect(emu.mints).toHaveLength(1);
  });

  test('a token endpoint that does not answer in time: upstream.timeout; concurrent callers share the failure', async () => {
    const cred = provider({ timeoutMs: 1_000 });
    emu.failNext('hang', 1, { pathPrefix: TOKENS_PATH });
    const message = 'credential artifactory-corp: Artifactory token endpoint did not answer within 1000 ms';
    await Promise.all([
      rejection(cred.authorization(alice), 'upstream.timeout', message),
      rejection(cred.authorization(alice), 'upstream.timeout', message),
    ]);
    expect(tokenRequests()).toHaveLength(1);
    await cred.authorization(alice);
    expect(emu.mints).toHaveLength(1);
  });

  test('a caller whose request goes away stops waiting; the shared lookup still serves the others', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const memory = new MemoryTokenCache();
    const slowCache: TokenCache = {
      get: async (key) => {
        await gate;
        return memory.get(key);
      },
      set: (key, value, ttlMs) => memory.set(key, value, ttlMs),
      delete: (key) => memory.delete(key),
    };
    const cred = provider({ cache: slowCache });
    const controller = new AbortController();
    const leaving = cred.authorization(alice, controller.signal);
    const staying = cred.authorization(alice);
    controller.abort();
    await rejection(leaving, 'upstream.timeout', 'credential artifactory-corp: gave up waiting for a token');
    await rejection(cred.authorization(alice, AbortSignal.abort()), 'upstream.timeout');
    open();
    expect(decodeBasic(await staying)).toMatch(/^alice:/);
    expect(emu.mints).toHaveLength(1);
  });

  test('an unreachable token endpoint: upstream.unreachable with the socket error code', async () => {
    const port = await freePort();
    const cred = provider({ url: new URL(`http://127.0.0.1:${port}`) });
    await rejection(
      cred.authorization(alice),
      'upstream.unreachable',
      'credential artifactory-corp: Artifactory token endpoint unreachable (ECONNREFUSED)',
    );
  });

  test('an emulator that went down: upstream.unreachable', async () => {
    const down = await startArtifactoryEmulator({ repositories: [], users: USERS });
    const token = down.issueToken({ username: 'admin', scope: 'applied-permissions/admin' }).accessToken;
    const cred = provider({ url: new URL(down.url), adminToken: token });
    await cred.authorization(alice);
    await down.close();
    await cred.forget(alice);
    const err = await rejection(cred.authorization(alice), 'upstream.unreachable');
    expect(err.message).toMatch(
      /^credential artifactory-corp: Artifactory token endpoint unreachable \(E[A-Z]+\)$/,
    );
    expect(inspect(err, { depth: 10 })).not.toContain(token);
  });

  test('a subject whose user name could break the scope or Basic is denied before any mint', async () => {
    const cred = provider();
    for (const user of ['a:b', 'a b', '', 'a,b', 'a"b']) {
      await rejection(
        cred.authorization({ user, groups: ['team-a'] }),
        'policy.denied',
        'credential artifactory-corp: this user name cannot be used in an Artifactory token',
      );
    }
    expect(tokenRequests()).toHaveLength(0);
  });

  test('a closed provider refuses calls', async () => {
    const cred = provider();
    await cred.close();
    await rejection(cred.authorization(alice), 'internal', 'credential artifactory-corp is closed');
  });
});

describe('artifactory-token: https and configuration', () => {
  test('mints over https trusting the extra CA, and fails clearly without it', async () => {
    const secure = await startArtifactoryEmulator({
      repositories: [],
      users: USERS,
      tls: { certPem: pki.certPem, keyPem: pki.keyPem },
    });
    try {
      const token = secure.issueToken({ username: 'admin', scope: 'applied-permissions/admin' }).accessToken;
      const base = { name: 'tls', url: new URL(secure.url), adminToken: token };
      const trusted = provider({ ...base, ca: pki.caPem, allowInsecureHttp: false });
      expect(decodeBasic(await trusted.authorization(alice))).toMatch(/^alice:/);
      expect(secure.mints).toHaveLength(1);
      const untrusted = provider({ ...base, allowInsecureHttp: false });
      const err = await rejection(untrusted.authorization(alice), 'upstream.unreachable');
      expect(err.message).toMatch(/^credential tls: Artifactory token endpoint unreachable \([A-Z_]+\)$/);
    } finally {
      await secure.close();
    }
  });

  test.each([
    [
      { url: new URL('http://127.0.0.1:1'), allowInsecureHttp: false },
      'url is plain http, which exposes the admin token; use https or set allow_insecure_http',
    ],
    [{ url: new URL('ftp://127.0.0.1') }, 'url must be http(s)'],
    [{ url: new URL('https://u:p@127.0.0.1') }, 'url must not hold credentials, a query or a fragment'],
    [{ adminToken: 'not a token' }, 'admin token is empty or holds characters a Bearer token cannot'],
    [{ expiresInS: 60, refreshBeforeMs: 60_000 }, 'refresh_before must be shorter than expires_in'],
    [{ expiresInS: 0 }, 'expires_in must be a positive whole number of seconds'],
    [{ timeoutMs: 0 }, 'timeout must be positive'],
    [
      { scope: 'applied-permissions/groups:{team}' },
      'scope template has unknown placeholder {team} (use {user} and {groups})',
    ],
    [{ scope: '  ' }, 'scope template is empty'],
    [
      { allowedGroups: { ldap: 'has"quote' } },
      'allowed group "ldap" maps to an invalid Artifactory group name',
    ],
  ] satisfies [Partial<ArtifactoryTokenOptions>, string][])(
    'rejects %o as config.invalid',
    (options, expected) => {
      expect(() => provider(options)).toThrow(
        expect.objectContaining({
          code: 'config.invalid',
          message: `credential artifactory-corp: ${expected}`,
        }) as Error,
      );
    },
  );
});

describe('scope template', () => {
  const subject = (groups: string[], user = 'alice'): Principal => ({ user, groups });
  const render = (
    template: string,
    groups: string[],
    allowedGroups?: ScopeTemplate['allowedGroups'] | object,
  ) =>
    new ScopeTemplate({
      name: 'c',
      template,
      ...(allowedGroups === undefined ? {} : { allowedGroups: allowedGroups as string[] }),
    }).render(subject(groups));

  test.each([
    [
      'applied-permissions/groups:{groups}',
      ['team-b', 'team-a', 'team-a'],
      undefined,
      'applied-permissions/groups:team-a,team-b',
    ],
    [
      'applied-permissions/groups:{groups}',
      ['team-a', 'x applied-permissions/admin', 'a,b', 'q"'],
      undefined,
      'applied-permissions/groups:team-a',
    ],
    [
      'applied-permissions/groups:{groups}',
      ['team-a', 'team-b'],
      ['team-a'],
      'applied-permissions/groups:team-a',
    ],
    [
      'applied-permissions/groups:{groups}',
      ['cn=A,ou=g', 'cn=B,ou=g'],
      { 'cn=A,ou=g': 'team-a', 'cn=B,ou=g': 'Team B' },
      'applied-permissions/groups:"Team B",team-a',
    ],
    [
      'applied-permissions/groups:{groups}',
      ['cn=A,ou=g', 'team-a'],
      { 'cn=A,ou=g': 'team-a' },
      'applied-permissions/groups:team-a',
    ],
    ['applied-permissions/user', ['anything at all'], undefined, 'applied-permissions/user'],
    [
      'applied-permissions/groups:readers-{user},{groups}',
      ['dev'],
      undefined,
      'applied-permissions/groups:readers-alice,dev',
    ],
  ])('%s with %o (allowlist %o) → %s', (template, groups, allowlist, expected) => {
    expect(render(template, groups, allowlist)).toBe(expected);
  });

  test('no allowed group left is policy.denied, never an empty or widened scope', () => {
    for (const [groups, allowlist] of [
      [[], undefined],
      [['x applied-permissions/admin'], undefined],
      [['team-b'], ['team-a']],
    ] as const) {
      expect(() => render('applied-permissions/groups:{groups}', [...groups], allowlist)).toThrow(
        expect.objectContaining({ code: 'policy.denied' }) as Error,
      );
    }
  });
});

describe('memory token cache', () => {
  test('entries expire with their TTL', async () => {
    let clock = 0;
    const cache = new MemoryTokenCache({ now: () => clock });
    await cache.set('k', 'v', 1_000);
    clock = 999;
    expect(await cache.get('k')).toBe('v');
    clock = 1_000;
    expect(await cache.get('k')).toBeUndefined();
  });

  test('is bounded: expired entries go first, then the least recently used', async () => {
    let clock = 0;
    const cache = new MemoryTokenCache({ maxEntries: 2, now: () => clock });
    await cache.set('a', '1', 10_000);
    await cache.set('b', '2', 10_000);
    await cache.get('a'); // b is now least recently used
    await cache.set('c', '3', 10_000);
    expect([await cache.get('a'), await cache.get('b'), await cache.get('c')]).toEqual(['1', undefined, '3']);
    await cache.set('d', '4', 500); // evicts a, the least recently used ([c, d])
    clock = 5_000; // d has expired: it goes, not c
    await cache.set('e', '5', 10_000);
    expect(cache.size).toBe(2);
    expect([await cache.get('c'), await cache.get('e')]).toEqual(['3', '5']);
  });
});
