/**
 * Token credentials end to end: IdP-issued JWTs (a real oidc-provider) as the
 * netrc password of the real go command and as a Bearer for CI, and modgate
 * personal tokens; users and groups from real slapd.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PatKeyRing } from '../auth/pat/keys.ts';
import { PersonalTokens } from '../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens } from '../auth/pat/revoked-tokens.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { secretFile } from './support/gateway.ts';
import { CLIENTS, RESOURCE, RESOURCE_SCOPE, TestIdp } from './support/oidc-provider.ts';
import { readyz, type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
const PAT_ISSUER = 'https://goproxy.test.example';
const patKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

let idp: TestIdp;
let stack: Stack;

beforeAll(async () => {
  idp = await TestIdp.start();
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    gatewayConfig: async (config, { dir }) => ({
      ...config,
      jwt: {
        allow_insecure_http: true,
        issuers: [{ issuer: idp.issuer, audiences: [RESOURCE] }],
        service_identities: [{ issuer: idp.issuer, subject: CLIENTS.ci.id, name: 'ci-bot', groups: ['ci'] }],
      },
      metrics: { port: 0 },
      personal_tokens: {
        issuer: PAT_ISSUER,
        keys: [{ kid: 'k1', pem: await secretFile(dir, 'pat.pem', patKeyPem) }],
      },
    }),
  });
});
afterAll(async () => {
  await stack?.close();
  await idp?.close();
});

const userJwt = (name: string) =>
  idp.signJwt({ aud: RESOURCE, sub: `uid-${name}`, preferred_username: name });

describe('JWTs from the IdP', () => {
  it('the go command downloads with a JWT as its netrc password; groups come from LDAP', async () => {
    const env = await stack.goEnv('jwt', { login: 'alice', password: await userJwt('alice') });
    const before = (await stack.gateway.auditRecords()).length;
    const result = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], {
      env: env.env,
      cwd: stack.dir,
    });
    expect(result.code, result.stderr).toBe(0);
    const records = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(records[0]).toMatchObject({
      user: { name: 'alice', roles: ['developers', 'team-a'] },
      auth: { method: 'jwt' },
    });
  });

  it('a CI workload token (client credentials) is a Bearer mapped to its service identity', async () => {
    const { access_token } = await idp.clientCredentials(CLIENTS.ci, {
      resource: RESOURCE,
      scope: RESOURCE_SCOPE,
    });
    const before = (await stack.gateway.auditRecords()).length;
    const res = await httpsGet(stack.gateway.url, INFO, {
      ca: stack.pki.caPem,
      authorization: `Bearer ${access_token}`,
    });
    expect(res.status).toBe(200);
    const [record] = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(record).toMatchObject({ user: { name: 'ci-bot', roles: ['ci'] }, auth: { method: 'jwt' } });
  });

  it('a disabled user’s token, a wrong audience and an unknown issuer are refused with one-line reasons', async () => {
    const get = async (token: string) =>
      httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, authorization: `Bearer ${token}` });
    const disabled = await get(await userJwt(USERS.carol.name));
    expect(disabled.status).toBe(401);
    expect(disabled.text).toBe('modgate: token user is unknown or disabled in the directory\n');
    const wrongAud = await get(await idp.signJwt({ aud: 'https://elsewhere', preferred_username: 'alice' }));
    expect(wrongAud.status).toBe(401);
    const foreign = await get(
      await idp.signJwt({ aud: RESOURCE, iss: 'https://other-idp.example', preferred_username: 'alice' }),
    );
    expect(foreign.status).toBe(401);
  });
});

describe('metrics', () => {
  it('IdP calls (discovery, JWKS) are timed', async () => {
    const text = await (await fetch(stack.gateway.metricsUrl!)).text();
    expect(text).toMatch(/modgate_idp_call_duration_seconds_count\{call="discovery",result="ok"\} [1-9]/);
    expect(text).toMatch(/modgate_idp_call_duration_seconds_count\{call="jwks",result="ok"\} [1-9]/);
    expect(text).toMatch(/modgate_auth_total\{method="jwt",result="ok"\} [1-9]/);
  });
});

describe('readiness', () => {
  it('/readyz checks the IdP: discovery and JWKS answer', async () => {
    const { report } = await readyz(stack);
    expect(report.components).toContainEqual(
      expect.objectContaining({
        name: 'idp',
        target: idp.issuer,
        ok: true,
        detail: expect.stringMatching(/^discovery and JWKS answer/),
      }),
    );
  });
});

describe('personal access tokens', () => {
  it('a modgate token works as the Basic password; its owner’s groups apply at use time', async () => {
    const pats = new PersonalTokens({
      issuer: PAT_ISSUER,
      keys: PatKeyRing.fromPem([{ kid: 'k1', pem: patKeyPem }]),
      revoked: new MemoryRevokedTokens(),
    });
    const { token } = await pats.issue('bob', 3_600_000);
    const before = (await stack.gateway.auditRecords()).length;
    const res = await httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, basic: ['bob', token] });
    expect(res.status).toBe(200);
    const [record] = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(record).toMatchObject({ user: { name: 'bob' }, auth: { method: 'pat' } });
    // A token signed by a key modgate does not hold is refused.
    const other = new PersonalTokens({
      issuer: PAT_ISSUER,
      keys: PatKeyRing.fromPem([
        {
          kid: 'k1',
          pem: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
            type: 'pkcs8',
            format: 'pem',
          }) as string,
        },
      ]),
      revoked: new MemoryRevokedTokens(),
    });
    const forged = await other.issue('bob', 3_600_000);
    expect(
      (await httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, basic: ['bob', forged.token] })).status,
    ).toBe(401);
  });
});
