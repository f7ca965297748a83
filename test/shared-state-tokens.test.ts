/**
 * Tokens and shared state, with two real `modgate serve` processes
 * sharing one real redis-server: a personal token revoked at process A is
 * refused at process B within 1 s; and after A and B have used every kind
 * of credential — an LDAP password, a personal token, an IdP JWT — and minted
 * a scoped Artifactory token for a private module, no key or value in Redis
 * holds any of those secrets.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatKeyRing } from '../auth/pat/keys.ts';
import { type IssuedPat, PersonalTokens } from '../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens } from '../auth/pat/revoked-tokens.ts';
import type { GatewayProcess } from '../bench/support/processes.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { sleep } from '../harness/redis.ts';
import { type ArtifactoryEmulator, startArtifactoryEmulator } from './support/artifactory-emulator.ts';
import { CLIENTS, RESOURCE, TestIdp } from './support/oidc-provider.ts';
import {
  DEPLOYMENT_SECRETS,
  type RedisDeployment,
  startRedisDeployment,
} from './support/redis-deployment.ts';

/** Where people reach both processes (behind an imagined load balancer); also the tokens' iss/aud. */
const PUBLIC_URL = 'https://goproxy.test.example';
const SESSION_KEY = 'session-key-for-the-shared-state-test-0123456789';
const INFO = '/example.com/hello/@v/v1.0.0.info';
const SECRET_INFO = '/corp.example/team-a/secret/@v/v0.1.0.info';
const ADMIN_USER = 'modgate-admin';
/** The AES-256-GCM key both processes seal shared upstream tokens with (64 hex digits). */
const SEALING_KEY = 'a3f1'.repeat(16);
const POLICY = `default: allow
rules: []
routes:
  - name: corp
    modules: ["corp.example/*"]
    upstream: artifactory
    private: true
    credentials:
      - subjects: ["*"]
        credential: artifactory-per-user
`;
const patKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

let deployment: RedisDeployment;
let art: ArtifactoryEmulator;
let idp: TestIdp;
let adminToken: string;
/** What the no-secret test used, by name, for the checks after it. */
let secrets: Record<string, string> = {};
let a: GatewayProcess;
let b: GatewayProcess;
/** Issues tokens as the gateways do (same issuer and key); revocation is the gateways' business. */
const issuer = new PersonalTokens({
  issuer: PUBLIC_URL,
  keys: PatKeyRing.fromPem([{ kid: 'k1', pem: patKeyPem }]),
  revoked: new MemoryRevokedTokens(),
});

beforeAll(async () => {
  deployment = await startRedisDeployment({ policy: POLICY });
  [art, idp] = await Promise.all([
    startArtifactoryEmulator({
      repositories: [{ key: 'go-corp', root: deployment.fixtures.root }],
      users: [{ username: ADMIN_USER, password: 'unused-admin-pw-2', admin: true }],
      groups: { 'team-a': { 'go-corp': 'read' } },
    }),
    TestIdp.start({ redirectUris: [`${PUBLIC_URL}/login/callback`] }),
  ]);
  adminToken = art.issueToken({ username: ADMIN_USER, scope: 'applied-permissions/admin' }).accessToken;
  const secrets = {
    admin: await deployment.secret('art-admin', adminToken),
    pat: await deployment.secret('pat.pem', patKeyPem),
    client: await deployment.secret('sso-secret', CLIENTS.login.secret),
    session: await deployment.secret('session-key', SESSION_KEY),
    sealing: await deployment.secret('sealing-key', SEALING_KEY),
  };
  const adjust = (config: Record<string, unknown>) => ({
    ...config,
    listen: { ...(config.listen as object), public_url: PUBLIC_URL },
    state: { ...(config.state as object), encryption: { keys: [{ id: 'k1', key: secrets.sealing }] } },
    upstreams: {
      ...(config.upstreams as object),
      artifactory: {
        kind: 'artifactory',
        url: art.artifactoryUrl,
        repository: 'go-corp',
        allow_insecure_http: true,
      },
    },
    credentials: {
      'artifactory-per-user': {
        kind: 'artifactory-token',
        url: art.url,
        admin_token: secrets.admin,
        allowed_groups: ['team-a', 'team-b', 'developers'],
        allow_insecure_http: true,
      },
    },
    jwt: { allow_insecure_http: true, issuers: [{ issuer: idp.issuer, audiences: [RESOURCE] }] },
    personal_tokens: { issuer: PUBLIC_URL, keys: [{ kid: 'k1', pem: secrets.pat }] },
    sso: {
      issuer: idp.issuer,
      client_id: CLIENTS.login.id,
      client_secret: secrets.client,
      session_key: secrets.session,
      allow_insecure_http: true,
    },
  });
  [a, b] = await Promise.all([deployment.start('a', adjust), deployment.start('b', adjust)]);
}, 60_000);
afterAll(async () => {
  await deployment?.close();
  await Promise.all([art?.close(), idp?.close()]);
});

const ca = () => deployment.pki.caPem;
const withPat = (g: GatewayProcess, pat: IssuedPat, path = INFO) =>
  httpsGet(g.url, path, { ca: ca(), basic: [pat.owner, pat.token] });

describe('personal tokens across processes', () => {
  it('a token revoked at A (modgate logout) is refused at B within 1 s', async () => {
    const pat = await issuer.issue('alice', 3_600_000);
    expect((await withPat(a, pat)).status).toBe(200);
    expect((await withPat(b, pat)).status).toBe(200);
    const revoked = await httpsGet(a.url, '/_modgate/tokens/revoke-self', {
      ca: ca(),
      method: 'POST',
      basic: [pat.owner, pat.token],
    });
    expect(revoked.status, revoked.text).toBe(200);
    expect(JSON.parse(revoked.text)).toMatchObject({ revoked: true, owner: 'alice', jti: pat.jti });
    const started = Date.now();
    let res = await withPat(b, pat);
    while (res.status === 200 && Date.now() - started < 1_000) {
      await sleep(20);
      res = await withPat(b, pat);
    }
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(401);
    expect(res.text).toBe('modgate: personal token has been revoked\n');
    expect((await withPat(a, pat)).status).toBe(401);
  });
});

describe('no secret at rest in Redis', () => {
  it('after passwords, a personal token, a JWT and a minted Artifactory token were used, none is in any key or value', async () => {
    // An LDAP password at A and B; a personal token at B; an IdP JWT (Bearer) at A;
    // alice's private-module request at A and B mints one scoped Artifactory token (shared, sealed).
    const alice = USERS.alice;
    for (const g of [a, b]) {
      const res = await httpsGet(g.url, INFO, { ca: ca(), basic: [alice.name, alice.password] });
      expect(res.status).toBe(200);
    }
    const pat = await issuer.issue('bob', 3_600_000);
    expect((await withPat(b, pat)).status).toBe(200);
    const jwt = await idp.signJwt({ aud: RESOURCE, sub: 'uid-dave', preferred_username: USERS.dave.name });
    expect((await httpsGet(a.url, INFO, { ca: ca(), authorization: `Bearer ${jwt}` })).status).toBe(200);
    art.clear();
    for (const g of [a, b]) {
      const res = await httpsGet(g.url, SECRET_INFO, { ca: ca(), basic: [alice.name, alice.password] });
      expect(res.status, res.text).toBe(200);
    }
    expect(art.mints.map((m) => m.username)).toEqual(['alice']);
    const upstreamAuth = art.requests
      .filter((r) => r.path.includes('corp.example'))
      .map((r) => r.headers.authorization);
    expect(upstreamAuth).toHaveLength(2);
    const minted = Buffer.from(String(upstreamAuth[0]).replace(/^Basic /, ''), 'base64')
      .toString('utf8')
      .replace(/^alice:/, '');
    expect(minted.length).toBeGreaterThan(20);

    // Every key, listed by redis-cli --scan, read by its type.
    const keys = (await deployment.redis.cli('--scan')).split('\n').filter(Boolean);
    const stored = await deployment.redis.scanAll();
    for (const key of keys) {
      if (!stored.has(key)) continue; // expired in between (a lock, a short window)
      expect(['string', 'hash', 'set', 'zset', 'list']).toContain(await deployment.redis.cli('TYPE', key));
    }
    const namespaces = new Set([...stored.keys()].map((k) => k.split(':')[2]));
    // What was used is there (so the scan covers it): cached credentials, the sealed upstream token.
    for (const ns of ['auth', 'upstream-token', 'pat-revoked']) expect(namespaces).toContain(ns);
    const all = [...stored.entries()].map(([k, v]) => `${k} ${v}`).join('\n');
    const jwtSignature = (token: string) => token.split('.').at(-1) ?? token;
    secrets = {
      'LDAP password': alice.password,
      'Basic credential': Buffer.from(`${alice.name}:${alice.password}`).toString('base64'),
      'personal token': pat.token,
      'personal token without its prefix': pat.token.replace(/^mgp_/, ''),
      'personal token signature': jwtSignature(pat.token),
      'IdP JWT': jwt,
      'IdP JWT signature': jwtSignature(jwt),
      'minted Artifactory token': minted,
      'minted Artifactory token signature': jwtSignature(minted),
      'upstream Basic credential': String(upstreamAuth[0]).replace(/^Basic /, ''),
      'Artifactory admin token': adminToken,
      'auth cache key': DEPLOYMENT_SECRETS.cacheKey,
      'abuse key': DEPLOYMENT_SECRETS.abuseKey,
      'session key': SESSION_KEY,
      'state sealing key': SEALING_KEY,
      'SSO client secret': CLIENTS.login.secret,
      'LDAP bind password': deployment.slapd.bindPassword,
    };
    for (const [what, secret] of Object.entries(secrets)) expect(all.includes(secret), what).toBe(false);
  });

  it('nor in either process’s log or the audit trail', async () => {
    expect(Object.keys(secrets).length).toBeGreaterThan(0);
    const texts = await Promise.all(
      ['a.log', 'b.log', 'audit.log'].map((f) => readFile(join(deployment.dir, f), 'utf8').catch(() => '')),
    );
    expect(texts[2]).toContain('"pat"'); // the audit trail holds the requests above
    for (const text of texts)
      for (const [what, secret] of Object.entries(secrets)) expect(text.includes(secret), what).toBe(false);
  });
});
