/**
 * Routes end to end, with the real go command through modgate and
 * LDAP users: the Artifactory credential is picked by the asking user's
 * groups, a 410 from an upstream reaches go as 410 (so go falls back to the
 * next GOPROXY entry), an Athens behind a path prefix works, and the default
 * Athens never sees a private `corp.example` path in go's own traffic —
 * modules, `go get` probes of parent paths, checksum lookups.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthensEmulator, startAthensEmulator } from '../harness/athens-emulator.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { initModule, runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type ArtifactoryEmulator, startArtifactoryEmulator } from './support/artifactory-emulator.ts';
import { secretFile } from './support/gateway.ts';
import { type Stack, startStack, UPSTREAM_PASSWORD, UPSTREAM_USER } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password }; // team-a
const bob = { login: USERS.bob.name, password: USERS.bob.password }; // team-b
const SECRET_MODULE = 'corp.example/team-a/secret';
/** Artifactory users behind the two route credentials. */
const TEAM_A_USER = { username: 'svc-team-a', password: 'svc-team-a-pw-J3k' };
const READ_ONLY_USER = { username: 'svc-read-only', password: 'svc-read-only-pw-W8m' };
/** The path prefix the second Athens serves under. */
const ATHENS_PREFIX = '/athens';

const POLICY = `default: allow
rules: []
routes:
  - name: corp
    modules: ["corp.example/*"]
    upstream: artifactory
    private: true
    credentials:
      - subjects: ["group:team-a"]
        credential: artifactory-team-a
      - subjects: ["*"]
        credential: artifactory-read-only
  - name: acme
    modules: ["github.com/Acme"]
    upstream: athens-prefixed
  - name: lib
    modules: ["example.com/lib"]
    upstream: athens-gone
`;

let stack: Stack;
let art: ArtifactoryEmulator;
/** Athens under {@link ATHENS_PREFIX}. */
let prefixed: AthensEmulator;
/** An Athens that answers 410 to everything. */
let gone: AthensEmulator;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config, { dir, fixtures }) => {
      art = await startArtifactoryEmulator({
        repositories: [{ key: 'go-corp', root: fixtures.root }],
        users: [
          { ...TEAM_A_USER, groups: ['team-a'] },
          { ...READ_ONLY_USER, permissions: { 'go-corp': 'read' } },
        ],
        groups: { 'team-a': { 'go-corp': 'read' } },
      });
      prefixed = await startAthensEmulator({
        root: fixtures.root,
        prefix: ATHENS_PREFIX,
        basicAuth: { username: UPSTREAM_USER, password: UPSTREAM_PASSWORD },
      });
      gone = await startAthensEmulator({ root: fixtures.root });
      gone.failNext(410, 10_000);
      const upstreams = config.upstreams as Record<string, Record<string, unknown>>;
      const athens = upstreams.athens as Record<string, unknown>;
      return {
        ...config,
        upstreams: {
          athens,
          'athens-prefixed': { ...athens, url: prefixed.url },
          'athens-gone': { kind: 'athens', url: gone.url, allow_insecure_http: true },
          artifactory: {
            kind: 'artifactory',
            url: art.artifactoryUrl,
            repository: 'go-corp',
            allow_insecure_http: true,
          },
        },
        credentials: {
          'artifactory-team-a': {
            kind: 'static',
            basic: {
              username: TEAM_A_USER.username,
              password: await secretFile(dir, 'art-team-a', TEAM_A_USER.password),
            },
          },
          'artifactory-read-only': {
            kind: 'static',
            basic: {
              username: READ_ONLY_USER.username,
              password: await secretFile(dir, 'art-read-only', READ_ONLY_USER.password),
            },
          },
        },
      };
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await Promise.all([art?.close(), prefixed?.close(), gone?.close()]);
});

/** go prints a refusal body indented under "server response:"; fold the whitespace to compare. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

describe('the route credential is chosen by subject', () => {
  it.each([
    ['a team-a user', 'alice', alice, TEAM_A_USER.username],
    ['anyone else', 'bob', bob, READ_ONLY_USER.username],
  ])(
    '%s downloads the private module; Artifactory saw only its credential',
    async (_, name, user, expected) => {
      art.clear();
      const env = await stack.goEnv(`corp-${name}`, user);
      env.env.GONOSUMDB = 'corp.example';
      const result = await runGo(['mod', 'download', `${SECRET_MODULE}@v0.1.0`], {
        env: env.env,
        cwd: stack.dir,
      });
      expect(result.code, result.stderr).toBe(0);
      const used = art.requests.filter((r) => r.path.includes(SECRET_MODULE));
      expect(used.map((r) => r.path.split('/').at(-1)).sort()).toEqual([
        'v0.1.0.info',
        'v0.1.0.mod',
        'v0.1.0.zip',
      ]);
      for (const r of used)
        expect(r).toMatchObject({ authKind: 'password', username: expected, status: 200 });
    },
  );
});

describe('upstream answers and shapes', () => {
  it('a 410 from the upstream reaches go as 410, so go falls back to the next GOPROXY entry', async () => {
    const res = await httpsGet(stack.gateway.url, '/example.com/lib/v2/@v/v2.0.0.info', {
      ca: stack.pki.caPem,
      basic: [alice.login, alice.password],
    });
    expect(res.status).toBe(410);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toBe('modgate: example.com/lib/v2@v2.0.0: gone (upstream athens-gone answered 410)\n');

    const only = await stack.goEnv('gone-only', alice);
    const failed = await runGo(['mod', 'download', 'example.com/lib/v2@v2.0.0'], {
      env: only.env,
      cwd: stack.dir,
    });
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain('410 Gone');

    const before = gone.requests.length;
    const env = await stack.goEnv('gone-fallback', alice);
    env.env.GOPROXY = `${stack.gateway.url},file://${stack.fixtures.root}`;
    const result = await runGo(['mod', 'download', 'example.com/lib/v2@v2.0.0'], {
      env: env.env,
      cwd: stack.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    // go asked modgate first (which asked the 410 upstream) and only then the next entry.
    expect(gone.requests.length).toBeGreaterThan(before);
  });

  it('an Athens behind a path prefix serves through modgate: modules, list, latest and checksum lookups', async () => {
    prefixed.clear();
    const env = await stack.goEnv('prefixed', alice);
    const work = join(env.home, 'work');
    await initModule(work, 'example.com/app');
    const got = await runGo(['get', 'github.com/Acme/Tool@latest'], { env: env.env, cwd: work });
    expect(got.code, got.stderr).toBe(0);
    const urls = prefixed.requests.map((r) => r.url);
    expect(urls).toContain(`${ATHENS_PREFIX}/github.com/%21acme/%21tool/@v/list`);
    expect(urls).toContain(`${ATHENS_PREFIX}/github.com/%21acme/%21tool/@v/v1.0.0.zip`);
    const get = (path: string) =>
      httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [alice.login, alice.password] });
    const latest = await get('/github.com/!acme/!tool/@latest');
    expect(latest.status).toBe(200);
    expect(JSON.parse(latest.text)).toMatchObject({ Version: 'v1.0.0' });
    const lookup = await get('/sumdb/sum.golang.org/lookup/github.com/!acme/!tool@v1.0.0');
    expect(lookup.status).toBe(200);
    expect(lookup.text).toBe('canned sumdb answer\n');
    expect(prefixed.requests.map((r) => r.url)).toContain(
      `${ATHENS_PREFIX}/sumdb/sum.golang.org/lookup/github.com/!acme/!tool@v1.0.0`,
    );
    for (const r of prefixed.requests) expect(r.url.startsWith(`${ATHENS_PREFIX}/`)).toBe(true);
  });
});

describe('the default Athens never sees a private path in go’s own traffic', () => {
  it('go get (probing parent paths) and go mod download with the checksum DB on', async () => {
    // go get with GONOSUMDB: go probes corp.example/team-a/secret, corp.example/team-a and corp.example.
    const env = await stack.goEnv('private-get', alice);
    env.env.GONOSUMDB = 'corp.example';
    const work = join(env.home, 'work');
    await initModule(work, 'example.com/app');
    const got = await runGo(['get', `${SECRET_MODULE}@v0.1.0`], { env: env.env, cwd: work });
    expect(got.code, got.stderr).toBe(0);

    // With the checksum DB on (through the proxy, as Athens offers it), go asks for the private
    // module's checksum: modgate refuses and go prints why.
    const sumdb = await stack.goEnv('private-sumdb', bob);
    sumdb.env.GOSUMDB = 'sum.golang.org';
    const download = await runGo(['mod', 'download', `${SECRET_MODULE}@v0.1.0`], {
      env: sumdb.env,
      cwd: stack.dir,
    });
    expect(download.code).not.toBe(0);
    expect(folded(download.stderr)).toContain(
      `403 Forbidden server response: modgate: ${SECRET_MODULE} is private: checksum lookups are refused; set GONOSUMDB=corp.example/* (or GOPRIVATE) so go does not ask`,
    );
    // go did ask the checksum DB through modgate (Athens answered `supported`), and Artifactory served the probes.
    const athens = stack.athens!.requests.map((r) => r.url);
    expect(athens).toContain('/sumdb/sum.golang.org/supported');
    expect(art.requests.map((r) => r.path)).toContain(
      '/artifactory/api/go/go-corp/corp.example/@v/v0.1.0.info',
    );
    // The whole log of this file's run, never cleared: not one corp.example path.
    expect(athens.length).toBeGreaterThan(0);
    expect(athens.filter((u) => /corp\.example/i.test(decodeURIComponent(u)))).toEqual([]);
  });
});
