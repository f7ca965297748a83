import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileDirectory } from '../auth/file-directory.ts';
import { JWT_REASONS } from '../auth/jwt/jose-errors.ts';
import { globToRegExp } from '../auth/jwt/service-identity.ts';
import {
  JwtVerifier,
  type JwtVerifierOptions,
  stripSuffix,
  TOKEN_USER_CLAIM_MISSING,
  TOKEN_USER_REJECTED,
} from '../auth/jwt/verifier.ts';
import type { ErrorCode } from '../core/errors.ts';
import { fixtureUsersFile, USERS } from '../harness/directory-fixture.ts';
import { expectRejection } from './support/directory-suite.ts';
import { CLIENTS, RESOURCE, RESOURCE_SCOPE, TestIdp } from './support/oidc-provider.ts';

let idp: TestIdp;
let directory: FileDirectory;

beforeAll(async () => {
  idp = await TestIdp.start();
  directory = FileDirectory.fromData(await fixtureUsersFile());
});
afterAll(async () => {
  await idp?.close();
});

function verifier(overrides: Partial<JwtVerifierOptions> = {}): JwtVerifier {
  return new JwtVerifier({
    issuers: [{ issuer: idp.issuer, audiences: [RESOURCE] }],
    lookup: (name) => directory.lookup(name),
    allowInsecureHttp: true,
    ...overrides,
  });
}

async function expectReject(promise: Promise<unknown>, code: ErrorCode, message: string): Promise<void> {
  expect((await expectRejection(promise, code)).message).toBe(message);
}

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JwtVerifier against oidc-provider', () => {
  it('maps a valid token to the directory user with directory groups', async () => {
    const token = await idp.signJwt({ sub: 'u-1', preferred_username: 'alice', aud: RESOURCE });
    const principal = await verifier().verify(token);
    expect(principal).toMatchObject({
      user: 'alice',
      groups: USERS.alice.groups,
      kind: 'user',
      subject: 'u-1',
    });
    expect(principal.expiresAtMs).toBeGreaterThan(Date.now());
  });

  it('maps a configured claim and strips a domain suffix', async () => {
    const token = await idp.signJwt({ sub: 'u-2', email: 'bob@Corp.Example', aud: RESOURCE });
    const v = verifier({
      issuers: [
        { issuer: idp.issuer, audiences: [RESOURCE], userClaim: 'email', stripSuffix: '@corp.example' },
      ],
    });
    expect((await v.verify(token)).user).toBe('bob');
    expect(stripSuffix('alice@evil.example', '@corp.example')).toBe('alice@evil.example');
  });

  it('rejects a token whose user is disabled or unknown in the directory', async () => {
    const v = verifier();
    for (const name of ['carol', 'nobody']) {
      const token = await idp.signJwt({ sub: name, preferred_username: name, aud: RESOURCE });
      await expectReject(v.verify(token), 'auth.invalid_credentials', TOKEN_USER_REJECTED);
    }
    const noName = await idp.signJwt({ sub: 'x', aud: RESOURCE });
    await expectReject(v.verify(noName), 'auth.invalid_credentials', TOKEN_USER_CLAIM_MISSING);
  });

  const claimCases: Array<{ name: string; claims: Record<string, unknown>; reason: string }> = [
    { name: 'wrong aud', claims: { aud: 'https://other.test' }, reason: JWT_REASONS.audience },
    { name: 'no aud', claims: {}, reason: JWT_REASONS.audience },
    { name: 'expired', claims: { aud: RESOURCE, exp: now() - 120 }, reason: JWT_REASONS.expired },
    {
      name: 'nbf beyond tolerance',
      claims: { aud: RESOURCE, nbf: now() + 120 },
      reason: JWT_REASONS.notYetValid,
    },
    {
      name: 'unknown issuer',
      claims: { aud: RESOURCE, iss: 'https://evil.test' },
      reason: JWT_REASONS.issuer,
    },
  ];
  for (const { name, claims, reason } of claimCases) {
    it(`rejects ${name}`, async () => {
      const token = await idp.signJwt({ preferred_username: 'alice', ...claims });
      await expectReject(verifier().verify(token), 'auth.invalid_credentials', reason);
    });
  }

  it('accepts exp and nbf within the clock tolerance', async () => {
    const token = await idp.signJwt({
      preferred_username: 'alice',
      aud: RESOURCE,
      exp: now() - 5,
      nbf: now() + 5,
    });
    expect((await verifier({ clockToleranceS: 30 }).verify(token)).user).toBe('alice');
    const strict = verifier({ clockToleranceS: 0 });
    await expectReject(strict.verify(token), 'auth.invalid_credentials', JWT_REASONS.notYetValid);
    const justExpired = await idp.signJwt({ preferred_username: 'alice', aud: RESOURCE, exp: now() - 5 });
    await expectReject(strict.verify(justExpired), 'auth.invalid_credentials', JWT_REASONS.expired);
  });

  it('rejects alg none without fetching keys', async () => {
    const before = idp.jwksFetches();
    const payload = { iss: idp.issuer, aud: RESOURCE, preferred_username: 'alice', exp: now() + 60 };
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    await expectReject(verifier().verify(token), 'auth.invalid_credentials', JWT_REASONS.algorithm);
    expect(idp.jwksFetches()).toBe(before);
  });

  it('rejects HS256 forged with the public key as the HMAC secret', async () => {
    const payload = { iss: idp.issuer, aud: RESOURCE, preferred_username: 'alice', exp: now() + 60 };
    const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: idp.currentKid })}.${b64url(payload)}`;
    const publicJwk = JSON.stringify(idp.publicJwk());
    const signature = createHmac('sha256', publicJwk).update(input).digest('base64url');
    await expectReject(
      verifier().verify(`${input}.${signature}`),
      'auth.invalid_credentials',
      JWT_REASONS.algorithm,
    );
  });

  it('rejects a token signed by another key with the right kid', async () => {
    const other = await TestIdp.start();
    try {
      const forged = await other.signJwt(
        { iss: idp.issuer, aud: RESOURCE, preferred_username: 'alice' },
        { header: { kid: idp.currentKid } },
      );
      await expectReject(verifier().verify(forged), 'auth.invalid_credentials', JWT_REASONS.signature);
    } finally {
      await other.close();
    }
  });

  it('rejects malformed tokens', async () => {
    for (const token of ['', 'abc', 'a.b.c', 'eyJ.eyJ.x']) {
      await expectReject(verifier().verify(token), 'auth.invalid_credentials', JWT_REASONS.malformed);
    }
  });

  it('refuses HMAC or none in the configured algorithm allowlist', () => {
    for (const alg of ['HS256', 'none']) {
      expect(() =>
        verifier({ issuers: [{ issuer: idp.issuer, audiences: [RESOURCE], algorithms: [alg] }] }),
      ).toThrow(/is not allowed/);
    }
    expect(() => verifier({ allowInsecureHttp: false })).toThrow(/must be https/);
  });

  it('bounds JWKS fetches under a storm of unknown kids', async () => {
    const v = verifier({ jwksCooldownMs: 30_000 });
    const good = await idp.signJwt({ preferred_username: 'alice', aud: RESOURCE });
    await v.verify(good);
    const before = idp.jwksFetches();
    const tokens = await Promise.all(
      Array.from({ length: 100 }, () =>
        idp.signJwt(
          { preferred_username: 'alice', aud: RESOURCE },
          { header: { kid: randomBytes(8).toString('hex') } },
        ),
      ),
    );
    const results = await Promise.allSettled(tokens.map((t) => v.verify(t)));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.message).toBe(JWT_REASONS.unknownKey);
    }
    // Within one cooldown after the first fetch: no refetch at all.
    expect(idp.jwksFetches() - before).toBeLessThanOrEqual(1);
  });

  it('picks up a key rotated at the IdP after the cooldown', async () => {
    const v = verifier({ jwksCooldownMs: 200 });
    await v.verify(await idp.signJwt({ preferred_username: 'alice', aud: RESOURCE }));
    const oldKid = idp.currentKid;
    const newKid = await idp.rotateKey();
    await new Promise((resolve) => setTimeout(resolve, 250));
    const fresh = await idp.clientCredentials(CLIENTS.ci, { resource: RESOURCE, scope: RESOURCE_SCOPE });
    const v2 = verifier({
      jwksCooldownMs: 200,
      serviceIdentities: [{ issuer: idp.issuer, subject: CLIENTS.ci.id, name: 'ci', groups: ['ci'] }],
    });
    expect((await v2.verify(fresh.access_token)).user).toBe('ci');
    const signedNew = await idp.signJwt({ preferred_username: 'bob', aud: RESOURCE });
    expect(JSON.parse(Buffer.from(signedNew.split('.')[0]!, 'base64url').toString()).kid).toBe(newKid);
    expect((await v.verify(signedNew)).user).toBe('bob');
    // The old key is still published: its tokens still verify.
    expect(
      (await v.verify(await idp.signJwt({ preferred_username: 'alice', aud: RESOURCE }, { kid: oldKid })))
        .user,
    ).toBe('alice');
  });

  it('maps a client-credentials workload token to a service identity without a directory user', async () => {
    const { access_token } = await idp.clientCredentials(CLIENTS.ci, {
      resource: RESOURCE,
      scope: RESOURCE_SCOPE,
    });
    const v = verifier({
      serviceIdentities: [
        { issuer: idp.issuer, subject: 'ci-*', name: 'ci-bot', groups: ['team-a', 'ci', 'ci'] },
      ],
    });
    expect(await v.verify(access_token)).toMatchObject({
      user: 'ci-bot',
      groups: ['ci', 'team-a'],
      kind: 'service',
      subject: CLIENTS.ci.id,
    });
    // Without a service identity the client id is no directory user.
    await expectReject(
      verifier({ issuers: [{ issuer: idp.issuer, audiences: [RESOURCE], userClaim: 'sub' }] }).verify(
        access_token,
      ),
      'auth.invalid_credentials',
      TOKEN_USER_REJECTED,
    );
    // A service identity of another issuer does not match.
    await expectReject(
      verifier({
        serviceIdentities: [{ issuer: 'https://other.test', subject: '*', name: 'x', groups: [] }],
      }).verify(access_token),
      'auth.invalid_credentials',
      TOKEN_USER_CLAIM_MISSING,
    );
  });

  it('reports an unreachable IdP as unavailable, not as a bad token', async () => {
    const gone = await TestIdp.start();
    const issuer = gone.issuer;
    const token = await gone.signJwt({ preferred_username: 'alice', aud: RESOURCE });
    await gone.close();
    const v = new JwtVerifier({
      issuers: [{ issuer, audiences: [RESOURCE] }],
      lookup: (n) => directory.lookup(n),
      allowInsecureHttp: true,
      idpTimeoutMs: 1_000,
    });
    await expectReject(v.verify(token), 'auth.directory_unavailable', JWT_REASONS.idpUnavailable);
  });
});

describe('service identity subject globs', () => {
  const cases: Array<[string, string, boolean]> = [
    ['ci-runner', 'ci-runner', true],
    ['ci-*', 'ci-runner', true],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/main', true],
    ['repo:acme/*:ref:refs/heads/main', 'repo:acme/app:ref:refs/heads/dev', false],
    ['repo:acme/app?', 'repo:acme/app1', true],
    ['a.b', 'aXb', false],
    ['ci-runner', 'ci-runner-2', false],
  ];
  for (const [glob, subject, expected] of cases) {
    it(`${glob} ${expected ? 'matches' : 'does not match'} ${subject}`, () => {
      expect(globToRegExp(glob).test(subject)).toBe(expected);
    });
  }
});
