/** The per-owner personal-token list (records, never tokens) and the self-service built on it. */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PatKeyRing } from '../auth/pat/keys.ts';
import { PersonalTokens } from '../auth/pat/personal-tokens.ts';
import { MemoryRevokedTokens } from '../auth/pat/revoked-tokens.ts';
import { MAX_TOKEN_NAME_CHARS, type TokenRecord, tokenName } from '../auth/pat/token-registry.ts';
import { isModgateError } from '../core/errors.ts';
import { SelfService } from '../gateway/people/self-service.ts';
import { MAX_TOKENS_PER_OWNER, storeTokenRegistry } from '../gateway/people/token-registry-store.ts';
import { MemoryStore } from '../gateway/state/memory-store.ts';

const HOUR = 3_600_000;
/** Access tokens of 10 minutes, for the directory users alice and bob. */
const REFRESHING = {
  accessTtlMs: 600_000,
  lookup: async (user: string) =>
    ['alice', 'bob'].includes(user) ? { user, groups: [] as string[] } : undefined,
};

function record(jti: string, owner: string, issuedAtMs: number, ttlMs = HOUR): TokenRecord {
  return {
    jti,
    owner,
    name: `t-${jti}`,
    scopes: ['goproxy:read'],
    issuedAtMs,
    expiresAtMs: issuedAtMs + ttlMs,
    via: 'web',
  };
}

describe('storeTokenRegistry', () => {
  it('lists an owner’s tokens newest first, and only theirs', async () => {
    const registry = storeTokenRegistry(new MemoryStore());
    const t0 = Date.now();
    await registry.add(record('a', 'alice', t0 - 2_000));
    await registry.add(record('b', 'alice', t0 - 1_000));
    await registry.add(record('c', 'bob', t0));
    expect((await registry.list('alice')).map((r) => r.jti)).toEqual(['b', 'a']);
    expect((await registry.list('bob')).map((r) => r.jti)).toEqual(['c']);
    expect(await registry.list('carol')).toEqual([]);
  });

  it('removes only the owner’s own token', async () => {
    const registry = storeTokenRegistry(new MemoryStore());
    await registry.add(record('a', 'alice', Date.now()));
    expect(await registry.remove('bob', 'a')).toBeUndefined();
    expect((await registry.remove('alice', 'a'))?.jti).toBe('a');
    expect(await registry.list('alice')).toEqual([]);
  });

  it('drops expired records', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ now: () => now });
    const registry = storeTokenRegistry(store, () => now);
    await registry.add(record('short', 'alice', now, 1_000));
    await registry.add(record('long', 'alice', now, HOUR));
    now += 2_000;
    expect((await registry.list('alice')).map((r) => r.jti)).toEqual(['long']);
  });

  it('loses nothing when many adds race, and keeps at most the cap', async () => {
    const registry = storeTokenRegistry(new MemoryStore());
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => registry.add(record(`r${i}`, 'alice', t0 + i))));
    expect((await registry.list('alice')).length).toBe(20);
    for (let i = 20; i < MAX_TOKENS_PER_OWNER + 5; i++) await registry.add(record(`r${i}`, 'alice', t0 + i));
    const listed = await registry.list('alice');
    expect(listed.length).toBe(MAX_TOKENS_PER_OWNER);
    expect(listed[0]?.jti).toBe(`r${MAX_TOKENS_PER_OWNER + 4}`);
  });
});

describe('tokenName', () => {
  it.each([
    ['laptop', 'laptop'],
    ['  ci\u0000 runner\n', 'ci runner'],
    ['', 'personal token'],
    [undefined, 'personal token'],
    ['x'.repeat(200), 'x'.repeat(MAX_TOKEN_NAME_CHARS)],
  ])('%j → %j', (raw, expected) => {
    expect(tokenName(raw, 'personal token')).toBe(expected);
  });
});

describe('SelfService', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const tokens = () =>
    new PersonalTokens({
      issuer: 'https://goproxy.test',
      keys: PatKeyRing.fromPem([{ kid: 'k1', pem }]),
      revoked: new MemoryRevokedTokens(),
    });

  it('mints a token that verifies, lists it without the token, and revokes it', async () => {
    const pats = tokens();
    const service = new SelfService(pats, storeTokenRegistry(new MemoryStore()), HOUR, REFRESHING);
    const issued = await service.mint({ user: 'alice', groups: ['team-a'] }, 'laptop', 'web');
    expect((await pats.verify(issued.token)).owner).toBe('alice');
    const listed = await service.list('alice');
    expect(listed).toEqual([expect.objectContaining({ jti: issued.jti, name: 'laptop', via: 'web' })]);
    expect(JSON.stringify(listed)).not.toContain(issued.token.slice(4, 40));
    await service.revoke('alice', issued.jti);
    await expect(pats.verify(issued.token)).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
    expect(await service.list('alice')).toEqual([]);
  });

  it('refuses to revoke a token of another owner', async () => {
    const service = new SelfService(tokens(), storeTokenRegistry(new MemoryStore()), HOUR, REFRESHING);
    const issued = await service.mint({ user: 'alice', groups: [] }, undefined, 'device');
    const err = await service.revoke('bob', issued.jti).catch((e: unknown) => e);
    expect(isModgateError(err, 'request.invalid')).toBe(true);
    expect(await service.list('alice')).toHaveLength(1);
  });

  it('revokes the token presented (logout) and forgets it', async () => {
    const pats = tokens();
    const service = new SelfService(pats, storeTokenRegistry(new MemoryStore()), HOUR, REFRESHING);
    const issued = await service.mint({ user: 'alice', groups: [] }, 'cli', 'device');
    expect(await service.revokePresented(issued.token)).toMatchObject({ jti: issued.jti, owner: 'alice' });
    await expect(pats.verify(issued.token)).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
    expect(await service.list('alice')).toEqual([]);
  });

  it('a sign-in for modgate credential: a listed refresh token that fetches nothing, and access tokens that die with it', async () => {
    const pats = tokens();
    const service = new SelfService(pats, storeTokenRegistry(new MemoryStore()), HOUR, REFRESHING);
    const { refresh, access } = await service.mintRefreshable(
      { user: 'alice', groups: [] },
      'laptop',
      'device',
    );
    expect(refresh.scopes).toEqual(['token:refresh']);
    expect(access).toMatchObject({ owner: 'alice', scopes: ['goproxy:read'], parent: refresh.jti });
    expect(access.expiresAtMs - access.issuedAtMs).toBe(REFRESHING.accessTtlMs);
    expect((await service.list('alice')).map((r) => r.jti)).toEqual([refresh.jti]);
    const next = await service.refresh(refresh.token);
    expect((await pats.verify(next.token)).parent).toBe(refresh.jti);
    // An access token cannot refresh; a refresh token of a user gone from the directory cannot either.
    await expect(service.refresh(access.token)).rejects.toThrow(
      'this token cannot refresh; sign in with modgate login',
    );
    const carol = await service.mintRefreshable({ user: 'carol', groups: [] }, undefined, 'device');
    await expect(service.refresh(carol.refresh.token)).rejects.toThrow(
      'unknown or disabled in the directory',
    );
    // Logging out revokes the sign-in: its access tokens stop at once, and it refreshes no more.
    await service.revokePresented(refresh.token);
    for (const t of [access.token, next.token]) {
      await expect(pats.verify(t)).rejects.toThrow(
        'the sign-in this token was refreshed from has been revoked',
      );
    }
    await expect(service.refresh(refresh.token)).rejects.toThrow('personal token has been revoked');
  });
});
