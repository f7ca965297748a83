/**
 * LDAP search filter templates with `{placeholder}` substitution, where every
 * substituted value is escaped as an RFC 4515 assertion value, so a user name
 * like `*)(uid=*` can never change the filter's structure.
 */
import { FilterParser } from 'ldapts';
import { ModgateError } from '../core/errors.ts';

/** The placeholders a filter template may use. */
export type FilterPlaceholder = 'username' | 'dn';

/** Values for the placeholders, unescaped; `renderFilter` escapes them. */
export type FilterValues = Partial<Record<FilterPlaceholder, string>>;

const KNOWN_PLACEHOLDERS: readonly FilterPlaceholder[] = ['username', 'dn'];
/** `{name}`: a placeholder; any `{` or `}` outside one is a template error. */
const PLACEHOLDER_PATTERN = /\{([^{}]*)\}/g;

/**
 * Escapes a string for use as an assertion value in a filter (RFC 4515 §3):
 * `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`, `\5c`, `\00`.
 *
 * Other characters, non-ASCII included, stay as they are: RFC 4515 allows
 * UTF-8 in values, and ldapts decodes each `\XX` escape to one UTF-16 code
 * unit, so escaping the UTF-8 bytes of `ë` would send the wrong characters.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '*':
        out += '\\2a';
        break;
      case '(':
        out += '\\28';
        break;
      case ')':
        out += '\\29';
        break;
      case '\\':
        out += '\\5c';
        break;
      case '\0':
        out += '\\00';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/**
 * The problems of a filter template, empty when it is usable: it must use only
 * the `allowed` placeholders, have no stray braces, and be a valid RFC 4515
 * filter once placeholders are filled. Pure, for config validation.
 */
export function filterTemplateProblems(template: string, allowed: readonly FilterPlaceholder[]): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER_PATTERN)) {
    const name = match[1] ?? '';
    if (!(allowed as readonly string[]).includes(name)) {
      const choices = allowed.map((p) => `{${p}}`).join(', ') || 'none';
      problems.push(`unknown placeholder {${name}} (allowed: ${choices})`);
    }
  }
  if (/[{}]/.test(template.replace(PLACEHOLDER_PATTERN, ''))) {
    problems.push('unbalanced "{" or "}" (placeholders are written {name})');
  }
  if (problems.length === 0) {
    const sample = template.replace(PLACEHOLDER_PATTERN, 'x');
    try {
      // ldapts accepts `uid=x` and `(&(uid=x)`; RFC 4515 does not.
      if (!isParenthesized(sample)) throw new SyntaxError('unbalanced parentheses');
      FilterParser.parseString(sample);
    } catch {
      problems.push('not a valid LDAP filter (RFC 4515), e.g. (&(objectClass=person)(uid={username}))');
    }
  }
  return problems;
}

/** True when `filter` is one parenthesized expression with balanced parentheses. */
function isParenthesized(filter: string): boolean {
  let depth = 0;
  for (let i = 0; i < filter.length; i += 1) {
    const ch = filter[i];
    if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    // Closing the outermost expression before the end means a second expression follows.
    if (depth < 0 || (depth === 0 && i < filter.length - 1)) return false;
  }
  return depth === 0 && filter.startsWith('(');
}

/**
 * Throws `config.invalid` naming `key` unless `template` is usable (see
 * `filterTemplateProblems`).
 */
export function assertFilterTemplate(
  key: string,
  template: string,
  allowed: readonly FilterPlaceholder[],
): void {
  const problems = filterTemplateProblems(template, allowed);
  if (problems.length > 0) {
    throw new ModgateError('config.invalid', `${key}: ${problems.join('; ')}`, { detail: { key, template } });
  }
}

/**
 * Fills a validated template's placeholders with escaped values. A placeholder
 * without a value is a programming error (`internal`), never an empty match.
 */
export function renderFilter(template: string, values: FilterValues): string {
  return template.replace(PLACEHOLDER_PATTERN, (_whole, name: string) => {
    const value = KNOWN_PLACEHOLDERS.includes(name as FilterPlaceholder)
      ? values[name as FilterPlaceholder]
      : undefined;
    if (value === undefined) {
      throw new ModgateError('internal', 'LDAP filter template has a placeholder without a value', {
        detail: { template, placeholder: name },
      });
    }
    return escapeFilterValue(value);
  });
}
