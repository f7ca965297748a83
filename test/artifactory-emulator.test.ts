/**
 * The Artifactory emulator behaves as JFrog documents Artifactory: the Go
 * API, the three ways to authenticate, Create Token with scopes, expiry and
 * refresh, 401/403/404 and "hide existence", and 302 to signed storage URLs.
 * Plain HTTP requests only; the gateway is not involved.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { httpsGet } from '../harness/https-client.ts';
import { makeTestPki } from '../harness/tls.ts';
import {
  ARTIFACTORY_REALM,
  type ArtifactoryEmulator,
  type ArtifactoryUser,
  startArtifactoryEmulator,
  TOKENS_PATH,
} from './support/artifactory-emulator.ts';
import { type FixtureSet, writeFixtureModules } from './support/modules.ts';

const USERS: ArtifactoryUser[] = [
  { username: 'admin', password: 'admin-pass', admin: true },
  { username: 'alice', password: 'alice-pass', groups: ['team-a'] },
  { username: 'bob', password: 'bob-pass', groups: ['team-b'] },
];
const GROUPS = {
  'team-a': { 'go-corp': 'read', 'go-hidden': 'read', 'go-cdn': 'read' },
  'team-b': { 'go-other': 'read' },
} as const;

const SECRET = '/corp.example/team-a/secret';
const SECRET_ZIP = `${SECRET}/@v/v0.1.0.zip`;

let tmp: string;
let fixtures: FixtureSet;
let emu: ArtifactoryEmulator;
let adminToken: string;

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const bearer = (token: string) => `Bearer ${token}`;
const go = (repo: string, rest: string) => `/artifactory/api/go/${repo}${rest}`;

function get(path: string, authorization?: string, init: RequestInit = {}): Promise<Response> {
  const headers = { ...(authorization === undefined ? {} : { authorization }), ...(init.headers as object) };
  return fetch(emu.url + path, { redirect: 'manual', ...init, headers });
}

/** POSTs Create Token as a form (curl -d) or as JSON. */
function mint(
  authorization: string | undefined,
  fields: Record<string, unknown>,
  json = false,
): Promise<Response> {
  const body = json
    ? JSON.stringify(fields)
    : new URLSearchParams(
        Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)]),
      ).toString();
  const type = json ? 'application/json' : 'application/x-www-form-urlencoded';
  return get(TOKENS_PATH, authorization, { method: 'POST', body, headers: { 'content-type': type } });
}

async function mintOk(authorization: string, fields: Record<string, unknown>, json = false) {
  const res = await mint(authorization, fields, json);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Record<string, string | number>;
}

async function expectError(res: Response, status: number, message?: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/json');
  const body = (await res.json()) as { errors: { status: number; message: string }[] };
  expect(body.errors[0]!.status).toBe(status);
  if (message !== undefined) expect(body.errors[0]!.message).toBe(message);
}

async function expectChallenge(res: Response): Promise<void> {
  expect(res.headers.get('www-authenticate')).toBe(`Basic realm="${ARTIFACTORY_REALM}"`);
  await expectError(res, 401);
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'modgate-artifactory-'));
  fixtures = await writeFixtureModules(join(tmp, 'goproxy'));
  const repo = (key: string, extra = {}) => ({ key, root: fixtures.root, ...extra });
  emu = await startArtifactoryEmulator({
    repositories: [
      repo('go-corp'),
      repo('go-other'),
      repo('go-public', { anonymousRead: true }),
      repo('go-hidden', { hideUnauthorizedResources: true }),
      repo('go-cdn', { redirectDownloads: true }),
    ],
    users: USERS,
    groups: GROUPS,
  });
  adminToken = emu.issueToken({ username: 'admin', scope: 'applied-permissions/admin' }).accessToken;
});

afterAll(async () => {
  await emu?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('Go API', () => {
  const alice = basic('alice', 'alice-pass');

  test('serves list, @latest, info, mod, zip and HEAD of zips, escaped paths included', async () => {
    const list = await get(go('go-corp', '/example.com/hello/@v/list'), alice);
    expect(await list.text()).toBe('v1.0.0\nv1.1.0\nv1.2.0\n');
    expect(await (await get(go('go-corp', '/example.com/hello/@latest'), alice)).json()).toMatchObject({
      Version: 'v1.2.0',
    });
    const info = await get(go('go-corp', '/example.com/lib/v2/@v/v2.0.0.info'), alice);
    expect(info.headers.get('content-type')).toBe('application/json');
    const mod = await get(go('go-corp', '/github.com/%21acme/%21tool/@v/v1.0.0.mod'), alice);
    expect(await mod.text()).toBe('module github.com/Acme/Tool\n\ngo 1.19\n');
    const zip = await get(go('go-corp', SECRET_ZIP), alice);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const onDisk = await readFile(join(fixtures.root, 'corp.example/team-a/secret/@v/v0.1.0.zip'));
    expect(Buffer.from(await zip.arrayBuffer()).equals(onDisk)).toBe(true);
    const head = await get(go('go-corp', SECRET_ZIP), alice, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(onDisk.length);
  });

  test('404 with the JSON error body for unknown repos, modules and versions; 400 for bad paths; 405', async () => {
    for (const path of [
      go('go-nope', '/example.com/hello/@v/list'),
      go('go-corp', '/example.com/nope/@v/list'),
      go('go-corp', '/example.com/nope/@latest'),
      go('go-corp', '/example.com/hello/@v/v9.9.9.zip'),
      go('go-corp', '/example.com/hello'),
      '/artifactory/api/npm/x',
    ]) {
      await expectError(await get(path, alice), 404, 'File not found.');
    }
    await expectError(await get(go('go-corp', '/github.com/Acme/Tool/@v/list'), alice), 400);
    await expectError(
      await get(go('go-corp', '/example.com/hello/@v/list'), alice, { method: 'DELETE' }),
      405,
    );
    expect(await (await get('/artifactory/api/system/ping')).text()).toBe('OK');
  });
});

describe('authentication and authorization', () => {
  const secretList = go('go-corp', `${SECRET}/@v/list`);

  test('Basic user:password; wrong or unknown credentials and other schemes → 401 with the challenge', async () => {
    expect((await get(secretList, basic('alice', 'alice-pass'))).status).toBe(200);
    expect(emu.requests.at(-1)).toMatchObject({ authKind: 'password', username: 'alice', status: 200 });
    for (const authorization of [
      basic('alice', 'wrong'),
      basic('nobody', 'alice-pass'),
      'Basic !!!',
      'Digest x',
      bearer('not-a-token'),
    ]) {
      await expectChallenge(await get(secretList, authorization));
    }
    expect(emu.requests.at(-1)).toMatchObject({
      authKind: 'none',
      authFailure: 'unknown-token',
      status: 401,
    });
  });

  test('anonymous: 401 on a protected repo, 200 on an anonymous-read repo; bad credentials fail even there', async () => {
    await expectChallenge(await get(secretList));
    expect((await get(go('go-public', `${SECRET}/@v/list`))).status).toBe(200);
    await expectChallenge(await get(go('go-public', `${SECRET}/@v/list`), basic('alice', 'nope')));
  });

  test('403 for an authenticated user without permission; 404 instead under hide existence', async () => {
    await expectError(await get(secretList, basic('bob', 'bob-pass')), 403);
    const hidden = await get(go('go-hidden', `${SECRET}/@v/list`), basic('bob', 'bob-pass'));
    const missing = await get(go('go-hidden', '/corp.example/none/@v/list'), basic('alice', 'alice-pass'));
    expect(hidden.status).toBe(404);
    expect(await hidden.text()).toBe(await missing.text());
    await expectChallenge(await get(go('go-hidden', `${SECRET}/@v/list`)));
    expect((await get(go('go-hidden', `${SECRET}/@v/list`), basic('alice', 'alice-pass'))).status).toBe(200);
  });

  test('admins read every repository', async () => {
    expect((await get(secretList, basic('admin', 'admin-pass'))).status).toBe(200);
    expect((await get(secretList, bearer(adminToken))).status).toBe(200);
  });
});

describe('Create Token and token use', () => {
  const secretList = go('go-corp', `${SECRET}/@v/list`);

  test('an admin token mints a group-scoped token for a user (form body), as documented', async () => {
    emu.clear();
    const body = await mintOk(bearer(adminToken), {
      username: 'alice',
      scope: 'applied-permissions/groups:team-a',
      expires_in: 600,
    });
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'scope',
      'token_id',
      'token_type',
    ]);
    expect(body).toMatchObject({
      expires_in: 600,
      scope: 'applied-permissions/groups:team-a',
      token_type: 'Bearer',
    });
    const parts = String(body.access_token).split('.');
    expect(parts).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ scp: 'applied-permissions/groups:team-a', jti: body.token_id });
    expect(claims.sub).toMatch(/\/users\/alice$/);
    expect(claims.exp - claims.iat).toBe(600);
    expect(emu.mints).toEqual([
      expect.objectContaining({
        tokenId: body.token_id,
        username: 'alice',
        scope: 'applied-permissions/groups:team-a',
        expiresIn: 600,
        refreshable: false,
        audience: '*@*',
        grantType: 'client_credentials',
        requestedBy: 'admin',
      }),
    ]);
  });

  test('Basic <subject>:<token> and Bearer work; another user name with the token is 401', async () => {
    const { access_token: token, token_id: id } = await mintOk(bearer(adminToken), {
      username: 'alice',
      scope: 'applied-permissions/groups:team-a',
    });
    expect((await get(secretList, basic('alice', String(token)))).status).toBe(200);
    expect(emu.requests.at(-1)).toMatchObject({ authKind: 'basic-token', username: 'alice', tokenId: id });
    expect((await get(secretList, bearer(String(token)))).status).toBe(200);
    expect(emu.requests.at(-1)).toMatchObject({ authKind: 'bearer', username: 'alice', tokenId: id });
    for (const user of ['bob', 'admin', 'ALICE']) {
      await expectChallenge(await get(secretList, basic(user, String(token))));
      expect(emu.requests.at(-1)!.authFailure).toBe('subject-mismatch');
    }
  });

  test('a scope limits the token: groups are unioned, membership of the subject does not matter', async () => {
    const tokenFor = async (username: string, scope: string) =>
      String((await mintOk(bearer(adminToken), { username, scope })).access_token);
    const teamB = await tokenFor('alice', 'applied-permissions/groups:team-b');
    await expectError(await get(secretList, basic('alice', teamB)), 403);
    expect((await get(go('go-other', `${SECRET}/@v/list`), basic('alice', teamB))).status).toBe(200);
    const both = await tokenFor('alice', 'applied-permissions/groups:"team-b","team-a"');
    expect((await get(secretList, basic('alice', both))).status).toBe(200);
    const transient = await tokenFor('ci-bot', 'applied-permissions/groups:team-a');
    expect((await get(secretList, basic('ci-bot', transient))).status).toBe(200);
    const identity = await tokenFor('bob', 'applied-permissions/user');
    await expectError(await get(secretList, bearer(identity)), 403);
    const admin = await tokenFor('ci-admin', 'applied-permissions/admin');
    expect((await get(secretList, bearer(admin))).status).toBe(200);
  });

  test('an expired or revoked token is 401', async () => {
    const { access_token: token } = await mintOk(bearer(adminToken), {
      username: 'alice',
      scope: 'applied-permissions/groups:team-a',
      expires_in: 60,
    });
    const other = emu.issueToken({
      username: 'alice',
      scope: 'applied-permissions/groups:team-a',
      expiresIn: 0,
    });
    expect((await get(secretList, basic('alice', String(token)))).status).toBe(200);
    emu.advanceClock(61);
    const expired = await get(secretList, basic('alice', String(token)));
    expect(await expired.clone().json()).toEqual({
      errors: [{ status: 401, message: 'Token failed verification: expired' }],
    });
    await expectChallenge(expired);
    expect(emu.requests.at(-1)!.authFailure).toBe('expired-token');
    expect((await get(secretList, bearer(other.accessToken))).status).toBe(200);
    expect(emu.revokeToken(other.tokenId)).toBe(true);
    await expectChallenge(await get(secretList, bearer(other.accessToken)));
    expect(emu.requests.at(-1)!.authFailure).toBe('revoked-token');
  });

  test('JSON body: refreshable and reference tokens; a refresh replaces the token once', async () => {
    emu.clear();
    const body = await mintOk(
      bearer(adminToken),
      {
        username: 'alice',
        scope: 'applied-permissions/groups:team-a',
        expires_in: 300,
        refreshable: true,
        include_reference_token: 'true',
        description: 'modgate',
      },
      true,
    );
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    const reference = String(body.reference_token);
    expect((await get(secretList, bearer(reference))).status).toBe(200);
    expect((await get(secretList, basic('alice', reference))).status).toBe(200);
    const refreshed = await mintOk(bearer(adminToken), {
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
    });
    expect(refreshed).toMatchObject({ scope: 'applied-permissions/groups:team-a', expires_in: 300 });
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    await expectChallenge(await get(secretList, bearer(String(body.access_token))));
    expect((await get(secretList, basic('alice', String(refreshed.access_token)))).status).toBe(200);
    const again = await mint(bearer(adminToken), {
      grant_type: 'refresh_token',
      refresh_token: body.refresh_token,
    });
    await expectError(again, 400);
    expect(emu.mints.map((m) => [m.grantType, m.description])).toEqual([
      ['client_credentials', 'modgate'],
      ['refresh_token', 'modgate'],
    ]);
  });

  test('who may mint what: 401 without credentials, 403 for non-admins beyond their own identity, 400 for bad input', async () => {
    const aliceIdentity = emu.issueToken({ username: 'alice' }).accessToken;
    await expectChallenge(await mint(undefined, { username: 'alice' }));
    await expectChallenge(await mint(bearer('forged'), { username: 'alice' }));
    await expectError(await mint(bearer(aliceIdentity), { username: 'bob' }), 403);
    await expectError(await mint(bearer(aliceIdentity), { scope: 'applied-permissions/groups:team-a' }), 403);
    await expectError(await mint(bearer(aliceIdentity), { scope: 'applied-permissions/admin' }), 403);
    await expectError(await mint(bearer(aliceIdentity), { expires_in: 0 }), 403);
    const own = await mintOk(bearer(aliceIdentity), { expires_in: 120 });
    expect(own).toMatchObject({ scope: 'applied-permissions/user', expires_in: 120 });
    expect((await get(secretList, basic('alice', String(own.access_token)))).status).toBe(200);
    expect(await mintOk(basic('alice', 'alice-pass'), {})).toMatchObject({ expires_in: 365 * 24 * 3600 });
    const bad: [Record<string, unknown>, boolean][] = [
      [{ scope: 'system:metrics:r' }, false],
      [{ scope: 'applied-permissions/groups:' }, false],
      [{ expires_in: 'soon' }, false],
      [{ expires_in: -1 }, true],
      [{ refreshable: 'yes' }, false],
      [{ grant_type: 'password' }, false],
      [{ username: 'ghost', scope: 'applied-permissions/user' }, false],
      [{ grant_type: 'refresh_token' }, false],
    ];
    for (const [fields, json] of bad) await expectError(await mint(bearer(adminToken), fields, json), 400);
    const broken = await get(TOKENS_PATH, bearer(adminToken), {
      method: 'POST',
      body: '{"username":',
      headers: { 'content-type': 'application/json' },
    });
    await expectError(broken, 400);
    await expectError(await get(TOKENS_PATH, bearer(adminToken)), 405);
  });
});

describe('download redirects to signed storage', () => {
  const alice = basic('alice', 'alice-pass');
  const cdnZip = go('go-cdn', SECRET_ZIP);

  test('302 to the storage listener, which serves the zip without credentials and records no Authorization', async () => {
    emu.clear();
    const res = await get(cdnZip, alice);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin).toBe(emu.storage.url);
    expect(location.port).not.toBe(String(emu.port));
    expect(location.pathname).toBe(`/storage/go-cdn${SECRET_ZIP}`);
    expect([...location.searchParams.keys()]).toEqual(['signature', 'expires']);
    expect((await get(cdnZip, alice, { method: 'HEAD' })).status).toBe(302);
    expect((await get(go('go-cdn', `${SECRET}/@v/v0.1.0.info`), alice)).status).toBe(200);
    const stored = await fetch(location);
    expect(stored.status).toBe(200);
    const onDisk = await readFile(join(fixtures.root, 'corp.example/team-a/secret/@v/v0.1.0.zip'));
    expect(Buffer.from(await stored.arrayBuffer()).equals(onDisk)).toBe(true);
    expect(emu.storage.requests).toHaveLength(1);
    expect(emu.storage.requests[0]).toMatchObject({ method: 'GET', status: 200 });
    expect(emu.storage.requests[0]!.headers.authorization).toBeUndefined();
  });

  test('X-JFrog-Download-Redirect-To: None serves the zip directly; unauthorized users get no redirect', async () => {
    const direct = await get(cdnZip, alice, { headers: { 'X-JFrog-Download-Redirect-To': 'None' } });
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-type')).toBe('application/zip');
    await expectError(await get(cdnZip, basic('bob', 'bob-pass')), 403);
    await expectChallenge(await get(cdnZip));
  });

  test('a tampered, expired or credential-carrying storage request is refused', async () => {
    const signed = () => get(cdnZip, alice).then((r) => new URL(r.headers.get('location')!));
    const tampered = [
      (u: URL) => u.searchParams.set('signature', 'f'.repeat(64)),
      (u: URL) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600)),
      (u: URL) => {
        u.pathname = u.pathname.replace('v0.1.0', 'v0.2.0');
      },
      (u: URL) => u.searchParams.delete('signature'),
    ];
    for (const change of tampered) {
      const url = await signed();
      change(url);
      const res = await fetch(url);
      expect(res.status, url.href).toBe(403);
      expect(await res.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    }
    const withAuth = await fetch(await signed(), { headers: { authorization: alice } });
    expect(withAuth.status).toBe(400);
    const late = await signed();
    emu.advanceClock(31);
    const expired = await fetch(late);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    expect(emu.storage.requests.at(-1)!.status).toBe(403);
  });
});

describe('recording and failure injection', () => {
  const alice = basic('alice', 'alice-pass');
  const list = go('go-corp', '/example.com/hello/@v/list');

  test('records method, path, headers and status; failNext answers the next N matching requests', async () => {
    emu.clear();
    emu.failNext(503, 2);
    expect((await get(list, alice)).status).toBe(503);
    expect((await get(list, alice)).status).toBe(503);
    expect((await get(list, alice)).status).toBe(200);
    emu.failNext(500, 1, { pathPrefix: TOKENS_PATH });
    expect((await get(list, alice)).status).toBe(200);
    expect((await mint(bearer(adminToken), {})).status).toBe(500);
    emu.failNext(502, 1, { listener: 'storage' });
    const location = (await get(go('go-cdn', SECRET_ZIP), alice)).headers.get('location')!;
    expect((await fetch(location)).status).toBe(502);
    expect((await fetch(location)).status).toBe(200);
    expect(emu.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      `GET ${list} 503`,
      `GET ${list} 503`,
      `GET ${list} 200`,
      `GET ${list} 200`,
      `POST ${TOKENS_PATH} 500`,
      `GET ${go('go-cdn', SECRET_ZIP)} 302`,
    ]);
    expect(emu.requests[2]!.headers.authorization).toBe(alice);
    expect(emu.storage.requests.map((r) => r.status)).toEqual([502, 200]);
  });

  test('hanging requests stay open until close(), which ends promptly and frees both ports', async () => {
    const hanging = await startArtifactoryEmulator({ repositories: [{ key: 'r', root: fixtures.root }] });
    hanging.failNext('hang');
    const first = fetch(`${hanging.url}${go('r', '/example.com/hello/@v/list')}`).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => hanging.requests.length, { timeout: 2_000 }).toBe(1);
    expect(hanging.requests[0]!.status).toBeUndefined();
    hanging.configure({ hang: true });
    const second = fetch(`${hanging.url}/artifactory/api/system/ping`).then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => hanging.requests.length, { timeout: 2_000 }).toBe(2);
    const started = Date.now();
    await hanging.close();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect([await first, await second]).toEqual(['failed', 'failed']);
    await expect(fetch(`${hanging.url}/artifactory/api/system/ping`)).rejects.toThrow();
    await expect(fetch(hanging.storage.url)).rejects.toThrow();
  });
});

describe('TLS', () => {
  test('https on both listeners with the test CA', async () => {
    const pki = await makeTestPki(join(tmp, 'pki'));
    const secure = await startArtifactoryEmulator({
      repositories: [{ key: 'go-cdn', root: fixtures.root, redirectDownloads: true }],
      users: USERS,
      groups: GROUPS,
      tls: pki,
    });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const res = await httpsGet(secure.url, go('go-cdn', SECRET_ZIP), {
        ca: pki.caPem,
        basic: ['alice', 'alice-pass'],
      });
      expect(res.status).toBe(302);
      const location = new URL(String(res.headers.location));
      expect(location.protocol).toBe('https:');
      const stored = await httpsGet(location.origin, location.pathname + location.search, { ca: pki.caPem });
      expect(stored.status).toBe(200);
      expect(secure.storage.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await secure.close();
    }
  });
});
