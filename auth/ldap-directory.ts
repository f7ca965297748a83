/**
 * The LDAP directory: find the user with a service account, verify the
 * password by binding as the user (RFC 4513 §5.1.3 simple bind), then read
 * the disabled flag and the groups with the service account.
 */
import { randomUUID } from 'node:crypto';
import type { Client, Entry } from 'ldapts';
import { InvalidCredentialsError } from 'ldapts';
import { ModgateError } from '../core/errors.ts';
import { type Directory, type DirectoryUser, INVALID_CREDENTIALS, USER_DISABLED } from './directory.ts';
import { assertFilterTemplate, renderFilter } from './ldap-filter.ts';
import { LdapPool, toDirectoryUnavailable } from './ldap-pool.ts';

/** How to reach and read the LDAP server. */
export interface LdapDirectoryOptions {
  /** `ldap://host:port` or `ldaps://host:port`. */
  url: string;
  /** Upgrade `ldap://` connections with StartTLS (RFC 4513 §3) before any bind. */
  startTls: boolean;
  /**
   * For ldaps:// and StartTLS (ignored otherwise): the CA certificates (PEM) to
   * trust instead of Node's default roots, and the opt-in, unsafe skip of
   * certificate and host name checks.
   */
  tls?: { ca?: string; insecureSkipVerify?: boolean };
  /** The service account that searches users and groups. */
  bindDn: string;
  bindPassword: string;
  /** Subtree searched for users. */
  userBase: string;
  /** Finds one user; `{username}` is replaced by the escaped login name. */
  userFilter: string;
  /** Attribute holding the canonical user name, e.g. `uid`. */
  userNameAttribute: string;
  /** Groups from the user's `memberOf` values (name = first RDN value), or from a group search. */
  groups: { from: 'memberOf' } | { from: 'search'; base: string; filter: string; nameAttribute: string };
  /**
   * An entry matching this filter (may use `{dn}`, `{username}`) is disabled.
   * The service account must be able to read the attributes it tests.
   */
  disabledFilter?: string;
  /** Limit for connecting and for each operation, in milliseconds. */
  timeoutMs: number;
  /** Connections kept open per pool (service searches, user binds). */
  poolSize: number;
}

/** At most this many user entries are fetched: two already mean "ambiguous". */
const USER_SEARCH_SIZE_LIMIT = 2;

interface FoundUser {
  readonly dn: string;
  readonly name: string;
  readonly entry: Entry;
}

/**
 * A `Directory` over LDAP with two connection pools: service connections, bound
 * once as `bindDn` and reused for every search, and user connections used only
 * for password binds, so a service connection is never left bound as a user.
 * Every connection, timeout or server error is `auth.directory_unavailable`.
 */
export class LdapDirectory implements Directory {
  readonly kind = 'ldap' as const;
  readonly #options: LdapDirectoryOptions;
  readonly #service: LdapPool;
  readonly #binds: LdapPool;
  /** A DN no entry has, bound against for unknown users to spend a comparable bind. */
  readonly #dummyDn: string;

  /** Validates the filters (`config.invalid`); connects lazily, on first use. */
  constructor(options: LdapDirectoryOptions) {
    if (options.startTls && options.url.startsWith('ldaps:')) {
      throw new ModgateError('config.invalid', 'ldap: startTls cannot be combined with an ldaps:// url');
    }
    if (!Number.isInteger(options.poolSize) || options.poolSize < 1 || !(options.timeoutMs > 0)) {
      throw new ModgateError('config.invalid', 'ldap: poolSize must be an integer ≥ 1 and timeoutMs > 0');
    }
    assertFilterTemplate('ldap.userFilter', options.userFilter, ['username']);
    if (options.groups.from === 'search')
      assertFilterTemplate('ldap.groups.filter', options.groups.filter, ['dn', 'username']);
    if (options.disabledFilter !== undefined)
      assertFilterTemplate('ldap.disabledFilter', options.disabledFilter, ['dn', 'username']);
    this.#options = options;
    this.#service = new LdapPool(
      options,
      options.poolSize,
      (c) => c.bind(options.bindDn, options.bindPassword),
      true,
    );
    this.#binds = new LdapPool(options, options.poolSize, async () => {}, false);
    this.#dummyDn = `cn=modgate-no-such-user-${randomUUID()},${options.userBase}`;
  }

  /** Verifies a password by binding as the user found by `userFilter`. */
  async verifyPassword(username: string, password: string): Promise<DirectoryUser> {
    // RFC 4513 §5.1.2: a bind with a DN and an empty password is an
    // "unauthenticated bind", which some servers answer with success.
    if (password === '' || username === '') throw invalidCredentials(username, 'empty user name or password');
    try {
      const found = await this.#findUser(username);
      if (found.length !== 1) {
        await this.#bind(this.#dummyDn, password);
        const dns = found.map((f) => f.dn);
        throw invalidCredentials(username, found.length === 0 ? 'unknown user' : 'ambiguous user', { dns });
      }
      const user = found[0]!;
      if (!(await this.#bind(user.dn, password))) throw invalidCredentials(username, 'wrong password');
      if (await this.#isDisabled(user)) {
        throw new ModgateError('auth.user_disabled', USER_DISABLED, {
          detail: { user: user.name, dn: user.dn },
        });
      }
      return { user: user.name, groups: await this.#groups(user) };
    } catch (err) {
      throw toDirectoryUnavailable(err, 'verify password');
    }
  }

  /** The user with groups, without a password; undefined if unknown, ambiguous or disabled. */
  async lookup(username: string): Promise<DirectoryUser | undefined> {
    if (username === '') return undefined;
    try {
      const found = await this.#findUser(username);
      const user = found[0];
      if (found.length !== 1 || user === undefined || (await this.#isDisabled(user))) return undefined;
      return { user: user.name, groups: await this.#groups(user) };
    } catch (err) {
      throw toDirectoryUnavailable(err, 'lookup');
    }
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    await Promise.all([this.#service.close(), this.#binds.close()]);
  }

  #search(base: string, scope: 'base' | 'sub', filter: string, attributes: string[], sizeLimit = 0) {
    const timeLimit = Math.ceil(this.#options.timeoutMs / 1000);
    return this.#service.use(
      async (c: Client) =>
        (await c.search(base, { scope, filter, attributes, sizeLimit, timeLimit })).searchEntries,
    );
  }

  async #findUser(username: string): Promise<FoundUser[]> {
    const o = this.#options;
    const attributes = [o.userNameAttribute, ...(o.groups.from === 'memberOf' ? ['memberOf'] : [])];
    const filter = renderFilter(o.userFilter, { username });
    const entries = await this.#search(o.userBase, 'sub', filter, attributes, USER_SEARCH_SIZE_LIMIT);
    return entries.map((entry) => {
      const name = values(entry, o.userNameAttribute)[0];
      if (name === undefined) {
        throw new ModgateError('auth.directory_unavailable', 'the user directory is unavailable', {
          detail: { operation: 'find user', error: `entry has no ${o.userNameAttribute}`, dn: entry.dn },
        });
      }
      return { dn: entry.dn, name, entry };
    });
  }

  /** Binds as `dn` on a user connection: true if the password is right, false if rejected (49). */
  async #bind(dn: string, password: string): Promise<boolean> {
    try {
      await this.#binds.use((c: Client) => c.bind(dn, password));
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return false;
      throw err;
    }
  }

  async #isDisabled(user: FoundUser): Promise<boolean> {
    const template = this.#options.disabledFilter;
    if (template === undefined) return false;
    const filter = renderFilter(template, { dn: user.dn, username: user.name });
    return (await this.#search(user.dn, 'base', filter, ['1.1'])).length > 0;
  }

  async #groups(user: FoundUser): Promise<readonly string[]> {
    const g = this.#options.groups;
    let names: string[];
    if (g.from === 'memberOf') {
      names = values(user.entry, 'memberOf').flatMap((dn) => firstRdnValue(dn) ?? []);
    } else {
      const filter = renderFilter(g.filter, { dn: user.dn, username: user.name });
      const groups = await this.#search(g.base, 'sub', filter, [g.nameAttribute]);
      names = groups.flatMap((entry) => values(entry, g.nameAttribute).slice(0, 1));
    }
    return [...new Set(names)].sort();
  }
}

/**
 * The value of a DN's first RDN, unescaped (RFC 4514 §3): `team-a` for
 * `cn=team-a,ou=groups,dc=example,dc=org`, `a,b` for `cn=a\\,b,...`. For a
 * multi-valued RDN the first value; undefined for a malformed DN or a `#`-BER value.
 */
export function firstRdnValue(dn: string): string | undefined {
  const start = dn.indexOf('=') + 1;
  if (start <= 1 || dn[start] === '#') return undefined;
  const bytes: number[] = [];
  for (let i = start; i < dn.length; i += 1) {
    const ch = String.fromCodePoint(dn.codePointAt(i)!);
    if (ch === ',' || ch === '+' || ch === ';') break;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      i += ch.length - 1;
      continue;
    }
    const hex = dn.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (i + 1 < dn.length) {
      const escaped = String.fromCodePoint(dn.codePointAt(i + 1)!);
      bytes.push(...Buffer.from(escaped, 'utf8'));
      i += escaped.length;
    } else {
      return undefined;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes)) || undefined;
  } catch {
    return undefined;
  }
}

/** String values of an attribute, matched case-insensitively (servers return their own spelling). */
function values(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  const key = Object.keys(entry).find((k) => k.toLowerCase() === wanted);
  const raw = key === undefined || key === 'dn' ? [] : entry[key];
  return (Array.isArray(raw) ? raw : [raw]).flatMap((v) =>
    typeof v === 'string' ? [v] : v === undefined ? [] : [v.toString('utf8')],
  );
}

function invalidCredentials(user: string, reason: string, extra: Record<string, unknown> = {}): ModgateError {
  return new ModgateError('auth.invalid_credentials', INVALID_CREDENTIALS, {
    detail: { user, reason, ...extra },
  });
}
