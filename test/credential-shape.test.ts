import { describe, expect, it } from 'vitest';
import { Authenticator } from '../auth/authenticator.ts';
import { FileDirectory } from '../auth/file-directory.ts';
import { credentialShape } from '../auth/jwt/credential-shape.ts';

const basic = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
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
    [basic('no-colon'), 'Basic credentials lack the ":" between user and password'],
    [basic(':pw'), 'Basic credentials have an empty user name'],
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
