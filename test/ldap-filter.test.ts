import fc from 'fast-check';
import { FilterParser } from 'ldapts';
import { describe, expect, it } from 'vitest';
import {
  assertFilterTemplate,
  escapeFilterValue,
  filterTemplateProblems,
  renderFilter,
} from '../auth/ldap-filter.ts';
import { isModgateError } from '../core/errors.ts';

describe('escapeFilterValue (RFC 4515 §3)', () => {
  it.each([
    ['alice', 'alice'],
    ['*', '\\2a'],
    ['*)(uid=*', '\\2a\\29\\28uid=\\2a'],
    ['alice)(|(uid=*', 'alice\\29\\28|\\28uid=\\2a'],
    ['d*ve(ops)', 'd\\2ave\\28ops\\29'],
    ['back\\slash', 'back\\5cslash'],
    ['\\2a', '\\5c2a'],
    ['nul\u0000byte', 'nul\\00byte'],
    ['zoë', 'zoë'],
    ['日本語', '日本語'],
    ['emoji 🙂', 'emoji 🙂'],
    ['a=b,c&|!~<>', 'a=b,c&|!~<>'],
    ['', ''],
  ])('%j → %j', (value, escaped) => {
    expect(escapeFilterValue(value)).toBe(escaped);
  });

  it('round-trips any string through ldapts as one equality value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (value) => {
        const filter = FilterParser.parseString(`(uid=${escapeFilterValue(value)})`) as unknown as {
          attribute: string;
          value: string;
        };
        expect(filter.attribute).toBe('uid');
        expect(filter.value).toBe(value);
      }),
    );
  });
});

describe('renderFilter', () => {
  it.each([
    ['(uid={username})', { username: 'alice' }, '(uid=alice)'],
    ['(uid={username})', { username: '*)(uid=*' }, '(uid=\\2a\\29\\28uid=\\2a)'],
    [
      '(&(objectClass=person)(|(uid={username})(mail={username})))',
      { username: 'a*' },
      '(&(objectClass=person)(|(uid=a\\2a)(mail=a\\2a)))',
    ],
    ['(member={dn})', { dn: 'cn=a\\,b,ou=x' }, '(member=cn=a\\5c,b,ou=x)'],
    [
      '(&(member={dn})(uid={username}))',
      { dn: 'uid=d*ve(ops),ou=p', username: 'd*ve(ops)' },
      '(&(member=uid=d\\2ave\\28ops\\29,ou=p)(uid=d\\2ave\\28ops\\29))',
    ],
  ])('%s with %j → %s', (template, values, rendered) => {
    expect(renderFilter(template, values)).toBe(rendered);
  });

  it('refuses a placeholder without a value instead of matching everything', () => {
    let err: unknown;
    try {
      renderFilter('(member={dn})', { username: 'alice' });
    } catch (e) {
      err = e;
    }
    expect(isModgateError(err, 'internal')).toBe(true);
  });
});

describe('filterTemplateProblems', () => {
  it.each([
    ['(uid={username})', ['username'], []],
    ['(&(objectClass=inetOrgPerson)(uid={username}))', ['username'], []],
    ['(&(member={dn})(memberUid={username}))', ['dn', 'username'], []],
    ['(employeeType=disabled)', ['dn', 'username'], []],
    ['(uid={user})', ['username'], ['unknown placeholder {user} (allowed: {username})']],
    ['(member={dn})', ['username'], ['unknown placeholder {dn} (allowed: {username})']],
    ['(uid={username)', ['username'], ['unbalanced "{" or "}" (placeholders are written {name})']],
    ['(uid=username})', ['username'], ['unbalanced "{" or "}" (placeholders are written {name})']],
    [
      'uid={username}',
      ['username'],
      ['not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))'],
    ],
    [
      '(&(uid={username})',
      ['username'],
      ['not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))'],
    ],
    [
      '(uid={username}))',
      ['username'],
      ['not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))'],
    ],
    [
      '(uid={username})(cn=x)',
      ['username'],
      ['not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))'],
    ],
    [
      '(uid=a(b)',
      ['username'],
      ['not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))'],
    ],
    ['', ['username'], ['not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))']],
  ] as const)('%j (allowed %j) → %j', (template, allowed, problems) => {
    expect(filterTemplateProblems(template, allowed)).toEqual(problems);
  });

  it('names the config key in config.invalid', () => {
    let err: unknown;
    try {
      assertFilterTemplate('ldap.userFilter', '(uid={user})', ['username']);
    } catch (e) {
      err = e;
    }
    expect(isModgateError(err, 'config.invalid')).toBe(true);
    expect((err as Error).message).toBe('ldap.userFilter: unknown placeholder {user} (allowed: {username})');
  });
});
