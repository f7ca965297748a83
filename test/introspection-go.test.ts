/**
 * Opaque IdP access tokens end to end: a real oidc-provider issues them (a
 * device grant approved at its pages for a person, client credentials for
 * CI), modgate introspects them there (RFC 7662) and maps them to a real
 * slapd user or a service identity, the Athens emulator serves behind.
 * The gateway is configured with introspection only (no JWT issuers),
 * accepting the tokens of two of the provider's clients (`client_ids`).
 * Tokens arrive as Bearer, or as the netrc password of the token login
 * (every go generation, go ≤1.23 cannot send Bearer).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OPAQUE_TOKEN_LOGIN } from '../auth/opaque-token.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { CLIENT_GOS, LEGACY_GO, runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { secretFile } from './support/gateway.ts';
import { CLIENTS, TestIdp } from './support/oidc-provider.ts';
import { readyz, type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
const INTROSPECT = '/token/introspection';
/** jwt.introspection.cache_max_ttl of the gateway under test (ms). */
const CACHE_MAX_TTL_MS = 3_000;

let idp: TestIdp;
let stack: Stack;
/** Every token the tests used, for the leak check. */
const tokens: string[] = [];

beforeAll(async () => {
  idp = await TestIdp.start({ redirectUris: ['https://127.0.0.1:1/login/callback'] });
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    gatewayConfig: async (config, { dir }) => ({
      ...config,
      jwt: {
        allow_insecure_http: true,
        introspection: {
          issuer: idp.issuer,
          modgate_client_id: CLIENTS.modgate.id,
          client_secret: await secretFile(dir, 'introspection-secret', CLIENTS.modgate.secret),
          // The clients whose tokens are meant for modgate: people's (device grant) and CI's.
          // Any other client of the provider (here: CLIENTS.modgate) is refused.
          client_ids: [CLIENTS.login.id, CLIENTS.ci.id],
          // oidc-provider's introspection answers carry the account id as `sub`, no `username`.
          user_claim: 'sub',
          cache_max_ttl: `${CACHE_MAX_TTL_MS / 1000}s`,
        },
        service_identities: [{ issuer: idp.issuer, subject: CLIENTS.ci.id, name: 'ci-bot', groups: ['ci'] }],
      },
      metrics: { port: 0 },
    }),
  });
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await idp?.close();
});

const get = (token: string, path = INFO) =>
  httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, authorization: `Bearer ${token}` });

async function personToken(login: string): Promise<string> {
  const { access_token } = await idp.deviceGrant(login);
  tokens.push(access_token);
  return access_token;
}

describe('opaque access tokens (RFC 7662 introspection)', () => {
  it('a person’s opaque token is accepted as a Bearer: method oidc, user and groups from LDAP; one introspection for 20 requests', async () => {
    const token = await personToken(USERS.alice.name);
    expect(token).not.toMatch(/^ey/); // opaque, not a JWT
    const auditBefore = (await stack.gateway.auditRecords()).length;
    const hitsBefore = idp.hits(INTROSPECT);
    const first = await get(token);
    expect(first.status, first.text).toBe(200);
    const rest = await Promise.all(Array.from({ length: 19 }, () => get(token)));
    expect(rest.map((r) => r.status)).toEqual(Array(19).fill(200));
    expect(idp.hits(INTROSPECT) - hitsBefore).toBe(1);
    const [record] = (await stack.gateway.waitForAudit(auditBefore + 20)).slice(auditBefore);
    expect(record).toMatchObject({
      user: { name: 'alice', roles: ['developers', 'team-a'] },
      auth: { method: 'oidc' },
    });
  });

  it('a CI client-credentials token (opaque: no resource) maps to its service identity', async () => {
    const { access_token } = await idp.clientCredentials(CLIENTS.ci);
    tokens.push(access_token);
    const before = (await stack.gateway.auditRecords()).length;
    const res = await get(access_token);
    expect(res.status, res.text).toBe(200);
    const [record] = (await stack.gateway.waitForAudit(before + 1)).slice(before);
    expect(record).toMatchObject({ user: { name: 'ci-bot', roles: ['ci'] }, auth: { method: 'oidc' } });
  });

  it.each(CLIENT_GOS.map((g) => [g.version, g] as const))(
    '%s: an opaque token as the netrc password of the token login: go mod download works, one introspection, audited as the token’s user',
    async (v, binary) => {
      const token = await personToken(USERS.alice.name);
      const env = await stack.goEnv(`opaque-netrc-${v}`, {
        login: DEFAULT_OPAQUE_TOKEN_LOGIN,
        password: token,
      });
      const auditBefore = (await stack.gateway.auditRecords()).length;
      const hitsBefore = idp.hits(INTROSPECT);
      const result = await runGo(['mod', 'download', '-json', 'example.com/hello@v1.0.0'], {
        env: env.env,
        cwd: stack.dir,
        go: binary,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(idp.hits(INTROSPECT) - hitsBefore).toBe(1);
      const records = (await stack.gateway.auditRecords()).slice(auditBefore);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record).toMatchObject({
          user: { name: 'alice', roles: ['developers', 'team-a'] },
          auth: { method: 'oidc' },
          http: { response: { status_code: 200 } },
        });
      }
    },
  );

  it('go 1.19 via netrc: a directory password after the token login is introspected (not active), another client’s token is not for modgate', async () => {
    if (LEGACY_GO === undefined) throw new Error('go 1.19 is needed for this test');
    const { access_token: otherClients } = await idp.clientCredentials(CLIENTS.modgate);
    tokens.push(otherClients);
    const cases = [
      ['password', USERS.alice.password, 'token is not active'],
      ['other-client', otherClients, 'token was not issued for modgate'],
    ] as const;
    for (const [name, password, reason] of cases) {
      const env = await stack.goEnv(`opaque-netrc-${name}`, { login: DEFAULT_OPAQUE_TOKEN_LOGIN, password });
      const hitsBefore = idp.hits(INTROSPECT);
      const result = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], {
        env: env.env,
        cwd: stack.dir,
        go: LEGACY_GO,
      });
      expect(result.code).not.toBe(0);
      expect(result.stderr.replace(/\s+/g, ' ')).toContain(
        `401 Unauthorized server response: modgate: ${reason}`,
      );
      expect(idp.hits(INTROSPECT) - hitsBefore).toBe(1);
    }
  });

  it('a token the IdP issued to another of its clients is refused (401, one line): no upstream request, one introspection', async () => {
    const { access_token } = await idp.clientCredentials(CLIENTS.modgate);
    tokens.push(access_token);
    stack.athens!.clear();
    const hitsBefore = idp.hits(INTROSPECT);
    for (let n = 0; n < 3; n++) {
      const res = await get(access_token);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="/);
      expect(res.text).toBe('modgate: token was not issued for modgate\n');
    }
    expect(idp.hits(INTROSPECT) - hitsBefore).toBe(1);
    expect(stack.athens!.requests).toEqual([]);
  });

  it('a disabled user’s token and a garbage token are refused with one-line reasons, nothing sent upstream', async () => {
    stack.athens!.clear();
    const disabled = await get(await personToken(USERS.carol.name));
    expect(disabled.status).toBe(401);
    expect(disabled.text).toBe('modgate: token user is unknown or disabled in the directory\n');
    const garbage = 'opaque-garbage-token-3f9c1a7e5d';
    tokens.push(garbage);
    const refused = await get(garbage);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic realm="/);
    expect(refused.text).toBe('modgate: token is not active\n');
    expect(stack.athens!.requests).toEqual([]);
  });

  it('a token revoked at the IdP is refused once the cached answer is older than cache_max_ttl', async () => {
    const token = await personToken(USERS.bob.name);
    expect((await get(token)).status).toBe(200);
    await idp.revoke(token, CLIENTS.login);
    // Still cached: revocation at the IdP is seen within cache_max_ttl, not at once.
    expect((await get(token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, CACHE_MAX_TTL_MS + 200));
    const after = await get(token);
    expect(after.status).toBe(401);
    expect(after.text).toBe('modgate: token is not active\n');
  });

  it('/readyz checks the introspection issuer: discovery announces the introspection endpoint', async () => {
    const { report } = await readyz(stack);
    expect(report.components).toContainEqual(
      expect.objectContaining({
        name: 'idp',
        target: idp.issuer,
        ok: true,
        detail: `discovery answers; introspection at ${idp.issuer}${INTROSPECT}`,
      }),
    );
  });

  it('introspection calls are timed; oidc authentications are counted', async () => {
    const text = await (await fetch(stack.gateway.metricsUrl!)).text();
    expect(text).toMatch(/modgate_idp_call_duration_seconds_count\{call="discovery",result="ok"\} 1\n/);
    expect(text).toMatch(/modgate_idp_call_duration_seconds_count\{call="introspection",result="ok"\} [1-9]/);
    expect(text).toMatch(/modgate_auth_total\{method="oidc",result="ok"\} [1-9]/);
  });

  it('an IdP that cannot answer is 503 with a one-line reason, never an allow', async () => {
    await idp.close();
    stack.athens!.clear();
    const unknown = 'opaque-token-never-seen-8b2d';
    tokens.push(unknown);
    const res = await get(unknown);
    expect(res.status).toBe(503);
    expect(res.text).toMatch(/^modgate: identity provider is unavailable \(request [0-9a-f]{32}\)\n$/);
    expect(stack.athens!.requests).toEqual([]);
  });

  it('no token reaches the operational log or the audit trail', async () => {
    const logs = (await stack.gateway.logText()) + (await readFile(stack.gateway.auditPath, 'utf8'));
    expect(tokens.length).toBeGreaterThan(4);
    for (const token of [...tokens, CLIENTS.modgate.secret]) expect(logs).not.toContain(token);
  });
});
