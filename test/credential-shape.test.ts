/**
 * Which credential an Authorization header carries (auth/jwt/credential-shape.ts):
 * the authenticator picks its one verifier from this.
 */
import { describe, expect, it } from 'vitest';
import { Authenticator } from '../auth/authenticator.ts';
import { FileDirectory } from '../auth/file-directory.ts';
import { type CredentialKind, credentialShape } from '../auth/jwt/credential-shape.ts';

describe('credentialShape', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const cases: Array<[string, string | undefined, CredentialKind, string?]> = [
    ['no header', undefined, 'missing'],
    ['empty header', '', 'missing'],
    ['password', basic('alice', 'alice-pw'), 'basic-password', 'alice-pw'],
    ['password with colons', basic('alice', 'a:b:c'), 'basic-password', 'a:b:c'],
    ['JWT as password', basic('alice', jwt), 'basic-jwt', jwt],
    ['PAT as password', basic('alice', `mgp_${jwt}`), 'basic-pat', `mgp_${jwt}`],
    ['prefix without a JWT is a password', basic('alice', 'mgp_hunter2'), 'basic-password', 'mgp_hunter2'],
    ['dotted password is a password', basic('alice', 'a.b.c'), 'basic-password', 'a.b.c'],
    ['Bearer JWT', `Bearer ${jwt}`, 'bearer-jwt', jwt],
    ['bearer scheme is case-insensitive', `bearer ${jwt}`, 'bearer-jwt', jwt],
    ['Bearer PAT', `Bearer mgp_${jwt}`, 'bearer-pat', `mgp_${jwt}`],
    ['Bearer opaque', 'Bearer epE24HlQmWSa0d1-b0mQJ106QhZ2Ui8bCE9g82_dt_0', 'bearer-opaque'],
    ['Bearer without a token', 'Bearer', 'malformed'],
    ['Bearer with bad characters', 'Bearer a"b', 'malformed'],
    ['Basic not base64', 'Basic !!!', 'malformed'],
    ['Basic without colon', `Basic ${Buffer.from('alice').toString('base64')}`, 'malformed'],
    ['Basic empty user', basic('', jwt), 'malformed'],
    ['unknown scheme', 'Digest username="a"', 'malformed'],
    ['too long', `Bearer ${'a'.repeat(9000)}`, 'malformed'],
  ];
  for (const [name, header, kind, secret] of cases) {
    it(name, () => {
      const shape = credentialShape(header);
      expect(shape.kind).toBe(kind);
      if (secret !== undefined) expect('secret' in shape && shape.secret).toBe(secret);
    });
  }

  describe('after the token login, the password is a token of its own shape and no user is claimed', () => {
    const tokenLogin = 'oauth2accesstoken';
    const opaque = 'epE24HlQmWSa0d1-b0mQJ106QhZ2Ui8bCE9g82_dt_0';
    it.each([
      ['an opaque token', tokenLogin, opaque, { kind: 'basic-opaque', secret: opaque }],
      ['a JWT', tokenLogin, jwt, { kind: 'basic-jwt', secret: jwt }],
      ['a personal token', tokenLogin, `mgp_${jwt}`, { kind: 'basic-pat', secret: `mgp_${jwt}` }],
      [
        'another login: a password',
        'alice',
        opaque,
        { kind: 'basic-password', username: 'alice', secret: opaque },
      ],
      [
        'the login in another case: a password',
        'OAuth2AccessToken',
        opaque,
        { kind: 'basic-password', username: 'OAuth2AccessToken', secret: opaque },
      ],
    ] as const)('%s', (_name, login, password, expected) => {
      expect(credentialShape(basic(login, password), { tokenLogin })).toEqual(expected);
    });
    it('without a token login, that name is a user like any other', () => {
      expect(credentialShape(basic(tokenLogin, opaque))).toEqual({
        kind: 'basic-password',
        username: tokenLogin,
        secret: opaque,
      });
    });
  });
});

const basicOf = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
const UNSUPPORTED = '"; use Basic (a password or token) or Bearer (a JWT)';

describe('a malformed Authorization header carries its reason in its shape', () => {
  const authenticator = new Authenticator({
    directory: FileDirectory.fromData({ users: [] }),
    cacheTtlMs: 0,
    cacheMaxEntries: 0,
    cacheKey: undefined,
  });

  it.each([
    ['Basic !!!', 'Basic credentials are not valid base64'],
    [basicOf('no-colon'), 'Basic credentials lack the ":" between user and password'],
    [basicOf(':pw'), 'Basic credentials have an empty user name'],
    [`Basic ${'A'.repeat(20_000)}`, 'Authorization header is too long'],
    ['Digest realm=x', `unsupported authorization scheme "digest${UNSUPPORTED}`],
    ['Bearer a b', `unsupported authorization scheme "bearer${UNSUPPORTED}`],
  ])('%s → %s, and the authenticator refuses with it', async (header, reason) => {
    expect(credentialShape(header)).toEqual({ kind: 'malformed', reason });
    await expect(authenticator.authenticate(header)).rejects.toMatchObject({
      code: 'auth.malformed',
      message: reason,
    });
  });
});
