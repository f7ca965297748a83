import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  audienceList,
  INTROSPECTION_REASONS,
  type IntrospectedToken,
  TokenIntrospector,
} from '../auth/introspection.ts';
import { TOKEN_USER_CLAIM_MISSING, TOKEN_USER_REJECTED } from '../auth/jwt/verifier.ts';
import { OpaqueTokenVerifier, TOKEN_NOT_FOR_GATEWAY } from '../auth/opaque-token.ts';
import { type ErrorCode, ModgateError } from '../core/errors.ts';
import { expectRejection } from './support/directory-suite.ts';
import { CLIENTS, TestIdp } from './support/oidc-provider.ts';

let idp: TestIdp;
beforeAll(async () => {
  idp = await TestIdp.start();
});
afterAll(async () => {
  await idp?.close();
});

const INTROSPECT = '/token/introspection';

function introspector(options: { maxEntries?: number; cacheMaxTtlMs?: number } = {}): TokenIntrospector {
  return new TokenIntrospector({
    issuer: idp.issuer,
    clientId: CLIENTS.modgate.id,
    clientSecret: CLIENTS.modgate.secret,
    allowInsecureHttp: true,
    ...options,
  });
}

async function expectReject(promise: Promise<unknown>, code: ErrorCode, message: string): Promise<void> {
  expect((await expectRejection(promise, code)).message).toBe(message);
}

describe('RFC 7662 introspection against oidc-provider', () => {
  it('describes an active opaque token and caches the answer', async () => {
    const { access_token } = await idp.clientCredentials(CLIENTS.ci);
    const i = introspector();
    const before = idp.hits(INTROSPECT);
    const first = await i.introspect(access_token);
    // oidc-provider's opaque tokens carry no `aud`: such an IdP is allowlisted by client_ids.
    expect(first).toMatchObject({ clientId: CLIENTS.ci.id, subject: undefined, audiences: [] });
    expect(first.expiresAtMs).toBeGreaterThan(Date.now());
    await i.introspect(access_token);
    await Promise.all([i.introspect(access_token), i.introspect(access_token)]);
    expect(idp.hits(INTROSPECT) - before).toBe(1);
  });

  it('rejects an unknown token as inactive, and caches that briefly', async () => {
    const i = introspector();
    const before = idp.hits(INTROSPECT);
    await expectReject(
      i.introspect('not-a-real-token'),
      'auth.invalid_credentials',
      INTROSPECTION_REASONS.inactive,
    );
    await expectReject(
      i.introspect('not-a-real-token'),
      'auth.invalid_credentials',
      INTROSPECTION_REASONS.inactive,
    );
    expect(idp.hits(INTROSPECT) - before).toBe(1);
  });

  it('sees a revocation at the IdP once the cached answer ages out', async () => {
    const { access_token } = await idp.clientCredentials(CLIENTS.ci);
    const i = introspector({ cacheMaxTtlMs: 100 });
    await i.introspect(access_token);
    await idp.revoke(access_token);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await expectReject(
      i.introspect(access_token),
      'auth.invalid_credentials',
      INTROSPECTION_REASONS.inactive,
    );
  });

  it('keeps at most maxEntries answers', async () => {
    const i = introspector({ maxEntries: 2 });
    for (let n = 0; n < 5; n++) {
      await i.introspect(`garbage-${n}`).catch(() => undefined);
    }
    expect(i.cacheSize).toBe(2);
  });

  it('reports an IdP that refuses modgate’s client as unavailable', async () => {
    const i = new TokenIntrospector({
      issuer: idp.issuer,
      clientId: CLIENTS.modgate.id,
      clientSecret: 'wrong',
      allowInsecureHttp: true,
    });
    await expectReject(i.introspect('x'), 'auth.directory_unavailable', INTROSPECTION_REASONS.unavailable);
  });
});

describe('opaque token → principal (claim mapping)', () => {
  const ISSUER = 'https://idp.example';
  /** The audience the mapping tests' verifier accepts; their tokens carry it unless they say otherwise. */
  const GATEWAY = 'https://goproxy.example';
  // Like LDAP: names match case-insensitively, the directory's spelling comes back.
  const lookup = async (name: string) =>
    name.toLowerCase() === 'alice' ? { user: 'alice', groups: ['developers', 'team-a'] } : undefined;
  const described = (members: Record<string, unknown>): IntrospectedToken => ({
    subject: typeof members.sub === 'string' ? members.sub : undefined,
    username: typeof members.username === 'string' ? members.username : undefined,
    clientId: typeof members.client_id === 'string' ? members.client_id : undefined,
    audiences: audienceList(members.aud),
    scope: undefined,
    expiresAtMs: Date.now() + 60_000,
    claims: { active: true, ...members },
  });
  type VerifierOptions = {
    userClaim?: string;
    stripSuffix?: string;
    audiences?: readonly string[];
    clientIds?: readonly string[];
  };
  const verifier = (members: Record<string, unknown>, options: VerifierOptions = {}) =>
    new OpaqueTokenVerifier({
      introspect: async () => described({ aud: GATEWAY, ...members }),
      issuer: ISSUER,
      audiences: [GATEWAY],
      clientIds: [],
      lookup,
      serviceIdentities: [{ issuer: ISSUER, subject: 'ci-*', name: 'ci-bot', groups: ['ci'] }],
      ...options,
    });

  it.each([
    ['`username` by default', { username: 'alice', sub: 'u-1' }, {}, 'alice'],
    ['a configured member', { sub: 'alice' }, { userClaim: 'sub' }, 'alice'],
    [
      'with the suffix stripped',
      { email: 'Alice@Corp.Example' },
      { userClaim: 'email', stripSuffix: '@corp.example' },
      'alice',
    ],
  ] as const)('maps %s to the directory user', async (_name, members, options, user) => {
    expect(await verifier(members, options).verify('t')).toEqual({
      user,
      groups: ['developers', 'team-a'],
      kind: 'user',
    });
  });

  it.each([
    ['a client credentials token (no sub): by client_id', { client_id: 'ci-runner' }],
    ['a token whose sub matches', { sub: 'ci-nightly', client_id: 'other', username: 'alice' }],
  ])('maps %s to the service identity, without the directory', async (_name, members) => {
    expect(await verifier(members).verify('t')).toEqual({ user: 'ci-bot', groups: ['ci'], kind: 'service' });
  });

  it.each([
    ['no `username` (no fallback to sub)', { sub: 'alice', client_id: 'app' }, {}, TOKEN_USER_CLAIM_MISSING],
    ['a claim that is not a string', { username: ['alice'] }, {}, TOKEN_USER_CLAIM_MISSING],
    ['an unknown or disabled user', { username: 'mallory' }, {}, TOKEN_USER_REJECTED],
    ['a client that is no service identity', { client_id: 'web-app' }, {}, TOKEN_USER_CLAIM_MISSING],
  ] as const)('refuses %s with a one-line reason', async (_name, members, options, reason) => {
    await expectReject(verifier(members, options).verify('t'), 'auth.invalid_credentials', reason);
  });

  it('passes on the introspector’s refusals unchanged (inactive → 401, IdP down → 503)', async () => {
    for (const [code, reason] of [
      ['auth.invalid_credentials', INTROSPECTION_REASONS.inactive],
      ['auth.directory_unavailable', INTROSPECTION_REASONS.unavailable],
    ] as const) {
      const v = new OpaqueTokenVerifier({
        introspect: async () => {
          throw new ModgateError(code, reason);
        },
        issuer: ISSUER,
        audiences: [GATEWAY],
        clientIds: [],
        lookup,
      });
      await expectReject(v.verify('t'), code, reason);
    }
  });

  describe('only tokens issued for modgate (audiences, client_ids): no confused deputy', () => {
    const ALICE = { user: 'alice', groups: ['developers', 'team-a'], kind: 'user' };
    const OURS = { audiences: [GATEWAY, 'goproxy'], clientIds: [] };
    const LOGIN = { audiences: [], clientIds: ['modgate-login', 'modgate-cli'] };

    it.each([
      ['aud, a string naming an accepted audience', { aud: 'goproxy' }, OURS],
      ['aud, a list holding an accepted audience', { aud: ['https://wiki.example', GATEWAY] }, OURS],
      ['client_id, an accepted client', { client_id: 'modgate-cli', aud: undefined }, LOGIN],
      [
        'aud and client_id when both lists are configured',
        { aud: [GATEWAY], client_id: 'modgate-login' },
        { audiences: [GATEWAY], clientIds: ['modgate-login'] },
      ],
    ] as const)('accepts a token matching by %s', async (_name, members, lists) => {
      expect(await verifier({ username: 'alice', ...members }, lists).verify('t')).toEqual(ALICE);
    });

    it.each([
      ['aud, a string naming another audience', { aud: 'https://wiki.example' }, OURS],
      ['aud, a list without an accepted audience', { aud: ['https://wiki.example', 'mail'] }, OURS],
      ['no aud at all', { aud: undefined }, OURS],
      ['an aud list of non-strings', { aud: [42] }, OURS],
      ['client_id, another client of the IdP', { client_id: 'wiki-app' }, LOGIN],
      ['no client_id at all', {}, LOGIN],
      [
        'the right client_id but another audience (every configured list must match)',
        { aud: 'https://wiki.example', client_id: 'modgate-login' },
        { audiences: [GATEWAY], clientIds: ['modgate-login'] },
      ],
      [
        'a client_id, but neither list configured (fail closed)',
        { client_id: 'modgate-login' },
        { audiences: [], clientIds: [] },
      ],
    ] as const)(
      'refuses a token with %s, though it names a directory user',
      async (_name, members, lists) => {
        await expectReject(
          verifier({ username: 'alice', ...members }, lists).verify('t'),
          'auth.invalid_credentials',
          TOKEN_NOT_FOR_GATEWAY,
        );
      },
    );

    it('checks before the service identities: a matching sub from another client is refused too', async () => {
      await expectReject(
        verifier({ sub: 'ci-nightly', client_id: 'wiki-app' }, LOGIN).verify('t'),
        'auth.invalid_credentials',
        TOKEN_NOT_FOR_GATEWAY,
      );
      expect(
        await verifier({ sub: 'ci-nightly', client_id: 'modgate-cli' }, LOGIN).verify('t'),
      ).toMatchObject({
        user: 'ci-bot',
        kind: 'service',
      });
    });
  });
});
