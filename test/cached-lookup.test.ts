import { describe, expect, it } from 'vitest';
import { decodeUser } from '../auth/cached-lookup.ts';

describe('decodeUser: a directory user cached by another process', () => {
  it('reads the Principal form, and the {name, groups} form processes wrote before it (a rolling upgrade)', () => {
    expect(decodeUser('{"user":"alice","groups":["team-a"]}')).toEqual({ user: 'alice', groups: ['team-a'] });
    expect(decodeUser('{"name":"alice","groups":["team-a"]}')).toEqual({ user: 'alice', groups: ['team-a'] });
  });

  it.each([
    '{"groups":[]}',
    '{"user":1,"groups":[]}',
    '{"user":"a","groups":[1]}',
    '{"user":"a"}',
    'not json',
  ])('anything else is no user: %s', (text) => {
    expect(decodeUser(text)).toBeUndefined();
  });
});
