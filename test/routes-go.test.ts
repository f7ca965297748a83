/**
 * Routes and scoped upstream credentials, end to end: the real go command
 * through modgate, LDAP users, `corp.example/*` routed (private) to the
 * Artifactory emulator with per-user minted tokens, everything else to Athens.
 */
import { writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { httpsGet, type SeenResponse } from '../harness/https-client.ts';
import {
  ARTIFACTORY_REALM,
  type ArtifactoryEmulator,
  startArtifactoryEmulator,
} from './support/artifactory-emulator.ts';
import { secretFile } from './support/gateway.ts';
import { type Stack, startStack } from './support/stack.ts';

const alice = { login: USERS.alice.name, password: USERS.alice.password }; // team-a
const bob = { login: USERS.bob.name, password: USERS.bob.password }; // team-b
const ADMIN_TOKEN_USER = 'modgate-admin';
const SECRET_MODULE = 'corp.example/team-a/secret';
/** How long modgate keeps a minted token before refreshing it: expires_in 8s − refresh_before 5s. */
const TOKEN_CACHED_MS = 3_000;

const POLICY = `default: allow
rules: []
routes:
  - name: public-tools
    modules: ["github.com/Acme"]
    upstream: athens-strict
  - name: corp
    modules: ["corp.example/*"]
    upstream: artifactory
    private: true
    credentials:
      - subjects: ["*"]
        credential: artifactory-per-user
`;

let stack: Stack;
let art: ArtifactoryEmulator;
let adminToken: string;
const seen: SeenResponse[] = [];

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    policy: POLICY,
    gatewayConfig: async (config, { dir, fixtures }) => {
      art = await startArtifactoryEmulator({
        repositories: [{ key: 'go-corp', root: fixtures.root, redirectDownloads: true }],
        users: [{ username: ADMIN_TOKEN_USER, password: 'unused-admin-pw-1', admin: true }],
        groups: { 'team-a': { 'go-corp': 'read' } },
      });
      adminToken = art.issueToken({
        username: ADMIN_TOKEN_USER,
        scope: 'applied-permissions/admin',
      }).accessToken;
      const upstreams = config.upstreams as Record<string, Record<string, unknown>>;
      const athens = upstreams.athens as Record<string, unknown>;
      return {
        ...config,
        upstreams: {
          athens: { ...athens, circuit_breaker: { failures: 2, cool_down: '1s' }, fallback: 'mirror' },
          'athens-strict': { ...athens, circuit_breaker: { failures: 2, cool_down: '1s' } },
          mirror: { kind: 'dir', path: fixtures.root },
          artifactory: {
            kind: 'artifactory',
            url: art.artifactoryUrl,
            repository: 'go-corp',
            allow_insecure_http: true,
            redirects: 'follow',
          },
          'artifactory-direct': {
            kind: 'artifactory',
            url: art.artifactoryUrl,
            repository: 'go-corp',
            allow_insecure_http: true,
            redirects: 'disable',
          },
        },
        credentials: {
          'artifactory-per-user': {
            kind: 'artifactory-token',
            url: art.url,
            admin_token: await secretFile(dir, 'art-admin', adminToken),
            scope: 'applied-permissions/groups:{groups}',
            allowed_groups: ['team-a', 'team-b', 'developers'],
            expires_in: '8s',
            refresh_before: '5s',
            allow_insecure_http: true,
          },
        },
      };
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await art?.close();
});

/** Which upstream the audit trail says served the last private-module request. */
async function routeIs(upstream: string): Promise<boolean> {
  await get(`/${SECRET_MODULE}/@v/v0.1.0.info`);
  const last = (await stack.gateway.auditRecords()).at(-1) as { upstream?: { name?: string } } | undefined;
  return last?.upstream?.name === upstream;
}

function get(path: string, user = alice) {
  return httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [user.login, user.password], seen });
}

describe('routes: private modules from Artifactory with a token minted per user', () => {
  it('a team-a user downloads the private module with go; the token was minted for them and scoped to their groups', async () => {
    const env = await stack.goEnv('corp-alice', alice);
    env.env.GONOSUMDB = 'corp.example';
    const result = await runGo(['mod', 'download', '-json', `${SECRET_MODULE}@v0.1.0`], {
      env: env.env,
      cwd: stack.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const mint = art.mints.find((m) => m.username === 'alice');
    expect(mint?.scope).toBe('applied-permissions/groups:developers,team-a');
    const used = art.requests.filter((r) => r.path.includes(SECRET_MODULE));
    expect(used.length).toBeGreaterThan(0);
    for (const r of used)
      expect(r).toMatchObject({ authKind: 'basic-token', username: 'alice', tokenId: mint?.tokenId });
  });

  it('the zip redirect to the storage host is followed by modgate without credentials; the client sees neither', async () => {
    art.clear();
    const res = await get(`/${SECRET_MODULE}/@v/v0.1.0.zip`);
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(art.storage.requests).toHaveLength(1);
    expect(art.storage.requests[0]?.headers.authorization).toBeUndefined();
    const all = JSON.stringify(res.headers) + res.text;
    expect(all).not.toContain(new URL(art.url).port);
  });

  it('with redirects disabled, Artifactory is asked to serve the zip itself; the storage host sees nothing', async () => {
    await writeFile(
      stack.policyPath,
      POLICY.replace('upstream: artifactory\n', 'upstream: artifactory-direct\n'),
    );
    const reloaded = Date.now() + 3_000;
    while (
      !(await get('/_modgate/status')).text.includes('"last_error": null') ||
      !(await routeIs('artifactory-direct'))
    ) {
      if (Date.now() > reloaded) throw new Error('policy not reloaded');
      await delay(50);
    }
    art.clear();
    const res = await get(`/${SECRET_MODULE}/@v/v0.1.0.zip`);
    expect(res.status).toBe(200);
    expect(art.storage.requests).toEqual([]);
    const zipRequest = art.requests.find((r) => r.path.endsWith('.zip'));
    expect(zipRequest?.headers['x-jfrog-download-redirect-to']).toBe('None');
    expect(zipRequest?.status).toBe(200);
    await writeFile(stack.policyPath, POLICY);
    while (!(await routeIs('artifactory'))) await delay(50);
  });

  it('a team-b user is refused by Artifactory’s scope, and modgate says so', async () => {
    const res = await get(`/${SECRET_MODULE}/@v/v0.1.0.info`, bob);
    expect(res.status).toBe(403);
    expect(res.text.split('\n')[0]).toBe(
      `modgate: ${SECRET_MODULE}@v0.1.0: refused by upstream artifactory (403)`,
    );
    expect(art.mints.find((m) => m.username === 'bob')?.scope).toBe(
      'applied-permissions/groups:developers,team-b',
    );
  });

  it('100 requests from one user cost one token mint', async () => {
    await delay(TOKEN_CACHED_MS + 100); // alice's token from the first test is due for refresh
    art.clear();
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 20 }, () => get(`/${SECRET_MODULE}/@v/v0.1.0.info`));
      for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
    }
    expect(art.mints.map((m) => m.username)).toEqual(['alice']);
    const goRequests = art.requests.filter((r) => r.path.includes(SECRET_MODULE));
    expect(goRequests).toHaveLength(100);
    expect(new Set(goRequests.map((r) => r.tokenId))).toEqual(new Set([art.mints[0]?.tokenId]));
  });

  it('a token near expiry is refreshed once, even under 20 concurrent requests', async () => {
    await delay(TOKEN_CACHED_MS + 100);
    art.clear();
    const batch = Array.from({ length: 20 }, () => get(`/${SECRET_MODULE}/@v/v0.1.0.mod`));
    for (const res of await Promise.all(batch)) expect(res.status).toBe(200);
    expect(art.mints).toHaveLength(1);
  });

  it('Athens never sees a corp.example path: not the module, not a go get probe, not a sumdb lookup', async () => {
    stack.athens!.clear();
    expect((await get('/corp.example/@v/list')).status).toBe(404); // go get's probe of a parent path
    expect((await get('/corp.example/team-a/@v/list')).status).toBe(404);
    const lookup = await get(`/sumdb/sum.golang.org/lookup/${SECRET_MODULE}@v0.1.0`);
    expect(lookup.status).toBe(403);
    expect(lookup.text.split('\n')[0]).toBe(
      `modgate: ${SECRET_MODULE} is private: checksum lookups are refused; set GONOSUMDB=corp.example/* (or GOPRIVATE) so go does not ask`,
    );
    expect(stack.athens!.requests.filter((r) => r.url.includes('corp.example'))).toEqual([]);
  });
});

describe('resilience: circuit breaker and fallback', () => {
  it('Athens down: the breaker opens and requests fail fast with 503; it recovers by itself', async () => {
    const path = '/github.com/!acme/!tool/@v/v1.0.0.info'; // routed to athens-strict (no fallback)
    stack.athens!.failNext(502, 2);
    expect((await get(path)).status).toBe(502);
    expect((await get(path)).status).toBe(502);
    stack.athens!.clear();
    const started = Date.now();
    const open = await get(path);
    expect(Date.now() - started).toBeLessThan(500);
    expect(open.status).toBe(503);
    expect(open.text).toMatch(
      /^modgate: upstream athens-strict is failing; circuit open, retrying in 1s \(request [0-9a-f]{32}\)\n$/,
    );
    expect(open.headers['retry-after']).toBe('1');
    expect(stack.athens!.requests).toEqual([]);
    await delay(1_100);
    expect((await get(path)).status).toBe(200);
  });

  it('a public route falls back to its configured fallback while Athens fails', async () => {
    const before = (await stack.gateway.auditRecords()).length;
    stack.athens!.failNext(503, 4);
    for (let i = 0; i < 4; i++) {
      const res = await get('/example.com/hello/@v/v1.0.0.info');
      expect(res.status, res.text).toBe(200);
    }
    const records = (await stack.gateway.waitForAudit(before + 4)).slice(before);
    expect(records.at(-1)).toMatchObject({ upstream: { name: 'mirror', fallback_from: 'athens' } });
    await delay(1_100);
    expect((await get('/example.com/hello/@v/v1.0.0.info')).status).toBe(200);
  });

  it('no response to the client carries an upstream credential or host', () => {
    expect(seen.length).toBeGreaterThan(100);
    for (const res of seen) {
      const all = JSON.stringify(res.headers) + res.text;
      expect(all).not.toContain(adminToken);
      expect(all).not.toContain(ARTIFACTORY_REALM);
      expect(all).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/); // no JWT-shaped token
    }
  });
});
