import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTROSPECTION_REASONS, TokenIntrospector } from '../auth/introspection.ts';
import type { ErrorCode } from '../core/errors.ts';
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
    expect(first).toMatchObject({ clientId: CLIENTS.ci.id, subject: undefined });
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
