import { generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileDirectory } from '../auth/file-directory.ts';
import { JWT_REASONS } from '../auth/jwt/jose-errors.ts';
import { PatKeyRing } from '../auth/pat/keys.ts';
import { PAT_REASONS, PersonalTokens } from '../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens, type RevokedTokens } from '../auth/pat/revoked-tokens.ts';
import { PAT_PREFIX, PAT_TYP } from '../auth/pat/token-format.ts';
import type { ErrorCode } from '../core/errors.ts';
import { fixtureUsersFile, USERS } from '../harness/directory-fixture.ts';
import { expectRejection } from './support/directory-suite.ts';

const ISSUER = 'https://modgate.test';
const HOUR_MS = 3_600_000;

function pemKey(kid: string, type: 'ed25519' | 'ec' = 'ed25519') {
  const { privateKey } =
    type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

async function expectReject(promise: Promise<unknown>, code: ErrorCode, message: string): Promise<void> {
  expect((await expectRejection(promise, code)).message).toBe(message);
}

describe('personal access tokens', () => {
  const k1 = pemKey('k1');
  const k2 = pemKey('k2', 'ec');
  let revoked: MemoryRevokedTokens;
  let tokens: PersonalTokens;
  let clock: number;

  beforeAll(() => {
    clock = Date.now();
    revoked = new MemoryRevokedTokens(() => clock);
    tokens = new PersonalTokens({
      issuer: ISSUER,
      keys: PatKeyRing.fromPem([k1]),
      revoked,
      now: () => clock,
    });
  });

  it('issues a prefixed token that verifies to its owner, jti and scope', async () => {
    const issued = await tokens.issue('alice', 24 * HOUR_MS, ['goproxy:read']);
    expect(issued.token.startsWith(PAT_PREFIX)).toBe(true);
    expect(issued).toMatchObject({ owner: 'alice', scopes: ['goproxy:read'], kid: 'k1' });
    const claims = await tokens.verify(issued.token);
    expect(claims).toEqual({
      owner: 'alice',
      jti: issued.jti,
      scopes: ['goproxy:read'],
      issuedAtMs: issued.issuedAtMs,
      expiresAtMs: issued.expiresAtMs,
      kid: 'k1',
    });
  });

  it('carries no more access than the owner has at use time', async () => {
    const directory = FileDirectory.fromData(await fixtureUsersFile());
    const forCarol = await tokens.issue('carol', HOUR_MS);
    const { owner } = await tokens.verify(forCarol.token);
    // Verification gives the owner; the directory decides (carol is disabled).
    expect(await directory.lookup(owner)).toBeUndefined();
    const { owner: alice } = await tokens.verify((await tokens.issue('alice', HOUR_MS)).token);
    expect((await directory.lookup(alice))?.groups).toEqual(USERS.alice.groups);
  });

  it('rejects an expired token', async () => {
    const issued = await tokens.issue('alice', HOUR_MS);
    const later = new PersonalTokens({
      issuer: ISSUER,
      keys: PatKeyRing.fromPem([k1]),
      revoked,
      now: () => clock + HOUR_MS + 60_000,
    });
    await expectReject(later.verify(issued.token), 'auth.invalid_credentials', JWT_REASONS.expired);
  });

  it('rejects a revoked token, until it would have expired anyway', async () => {
    const issued = await tokens.issue('alice', HOUR_MS);
    await tokens.revoke(issued);
    await expectReject(tokens.verify(issued.token), 'auth.invalid_credentials', PAT_REASONS.revoked);
    const other = await tokens.issue('alice', HOUR_MS);
    expect((await tokens.verify(other.token)).jti).toBe(other.jti);
  });

  it('a token verified once is still refused once revoked or expired (the verified-token memory)', async () => {
    let now = clock;
    const t = new PersonalTokens({ issuer: ISSUER, keys: PatKeyRing.fromPem([k1]), revoked, now: () => now });
    const issued = await t.issue('alice', HOUR_MS);
    expect((await t.verify(issued.token)).jti).toBe(issued.jti);
    expect((await t.verify(issued.token)).jti).toBe(issued.jti);
    now = clock + HOUR_MS + 60_000;
    await expectReject(t.verify(issued.token), 'auth.invalid_credentials', JWT_REASONS.expired);
    now = clock;
    await t.revoke(issued);
    await expectReject(t.verify(issued.token), 'auth.invalid_credentials', PAT_REASONS.revoked);
  });

  it('a tampered copy of a verified token is not taken for it', async () => {
    const issued = await tokens.issue('alice', HOUR_MS);
    await tokens.verify(issued.token);
    const tampered = `${issued.token.slice(0, -2)}${issued.token.endsWith('AA') ? 'BB' : 'AA'}`;
    await expect(tokens.verify(tampered)).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
  });

  it('fails closed when the revocation list cannot answer', async () => {
    const broken: RevokedTokens = {
      isRevoked: () => Promise.reject(new Error('redis down')),
      revoke: () => Promise.resolve(),
    };
    const t = new PersonalTokens({ issuer: ISSUER, keys: PatKeyRing.fromPem([k1]), revoked: broken });
    const issued = await t.issue('alice', HOUR_MS);
    await expectReject(
      t.verify(issued.token),
      'auth.directory_unavailable',
      PAT_REASONS.revocationUnavailable,
    );
  });

  it('rotates keys: old tokens verify while their key is listed, fail once it is removed', async () => {
    const old = await tokens.issue('alice', HOUR_MS);
    const rotated = new PersonalTokens({ issuer: ISSUER, keys: PatKeyRing.fromPem([k2, k1]), revoked });
    const fresh = await rotated.issue('bob', HOUR_MS);
    expect(fresh.kid).toBe('k2');
    expect((await rotated.verify(old.token)).owner).toBe('alice');
    expect((await rotated.verify(fresh.token)).owner).toBe('bob');
    const removed = new PersonalTokens({ issuer: ISSUER, keys: PatKeyRing.fromPem([k2]), revoked });
    await expectReject(removed.verify(old.token), 'auth.invalid_credentials', PAT_REASONS.unknownKey);
    expect((await removed.verify(fresh.token)).owner).toBe('bob');
  });

  it('loads keys from a JWK set with kids', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: 'jwk-1' };
    const ring = PatKeyRing.fromJwks({ keys: [jwk] });
    expect(ring.kids).toEqual(['jwk-1']);
    const t = new PersonalTokens({ issuer: ISSUER, keys: ring, revoked });
    expect((await t.verify((await t.issue('alice', HOUR_MS)).token)).kid).toBe('jwk-1');
    expect(() => PatKeyRing.fromJwks({ keys: [{ ...jwk, kid: undefined }] })).toThrow(/has no kid/);
    const { d: _d, ...pub } = jwk;
    expect(() => PatKeyRing.fromJwks({ keys: [pub] })).toThrow(/private key/);
  });

  it('refuses unsupported keys and duplicate kids', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    expect(() =>
      PatKeyRing.fromPem([{ kid: 'r', pem: rsa.export({ type: 'pkcs8', format: 'pem' }).toString() }]),
    ).toThrow(/only Ed25519/);
    expect(() => PatKeyRing.fromPem([k1, k1])).toThrow(/appears twice/);
    expect(() => PatKeyRing.fromPem([])).toThrow(/at least one key/);
  });

  it('rejects tokens of another modgate, with the wrong typ, or tampered', async () => {
    const elsewhere = new PersonalTokens({
      issuer: 'https://other.test',
      keys: PatKeyRing.fromPem([k1]),
      revoked,
    });
    const foreign = await elsewhere.issue('alice', HOUR_MS);
    await expectReject(tokens.verify(foreign.token), 'auth.invalid_credentials', PAT_REASONS.malformed);

    // An IdP-style JWT signed with the right key but not typed as a PAT.
    const { createPrivateKey } = await import('node:crypto');
    const untyped = await new SignJWT({ scope: 'goproxy:read' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(ISSUER)
      .setSubject('alice')
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(createPrivateKey(k1.pem));
    await expectReject(tokens.verify(PAT_PREFIX + untyped), 'auth.invalid_credentials', JWT_REASONS.claims);

    const good = await tokens.issue('alice', HOUR_MS);
    const [h, p, s] = good.token.slice(PAT_PREFIX.length).split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = `${PAT_PREFIX}${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'bob' })).toString('base64url')}.${s}`;
    await expectReject(tokens.verify(tampered), 'auth.invalid_credentials', JWT_REASONS.signature);
    await expectReject(tokens.verify('mgp_nope'), 'auth.invalid_credentials', PAT_REASONS.malformed);
    await expectReject(
      tokens.verify(good.token.slice(PAT_PREFIX.length)),
      'auth.invalid_credentials',
      PAT_REASONS.malformed,
    );
    // A header claiming a different alg than the kid's key.
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1', typ: PAT_TYP })).toString(
      'base64url',
    );
    await expectReject(
      tokens.verify(`${PAT_PREFIX}${noneHeader}.${p}.`),
      'auth.invalid_credentials',
      JWT_REASONS.algorithm,
    );
  });

  it('validates issue requests', async () => {
    await expectReject(tokens.issue('', HOUR_MS), 'auth.malformed', 'a personal token needs an owner');
    await expectReject(
      tokens.issue('alice', 0),
      'auth.malformed',
      'token lifetime must be between 1s and 90 days',
    );
    await expectReject(
      tokens.issue('alice', 91 * 24 * HOUR_MS),
      'auth.malformed',
      'token lifetime must be between 1s and 90 days',
    );
    await expectReject(
      tokens.issue('alice', HOUR_MS, ['admin']),
      'auth.malformed',
      'unknown token scope: admin',
    );
  });
});
