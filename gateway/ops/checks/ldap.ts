/**
 * The LDAP check: bind with the service account exactly as the directory
 * does (same connection code, TLS and StartTLS), read the user base, and
 * optionally find one user with the configured filter.
 */
import type { Client } from 'ldapts';
import {
  InsufficientAccessError,
  InvalidCredentialsError,
  NoSuchObjectError,
  ResultCodeError,
  StrongAuthRequiredError,
} from 'ldapts';
import type { LdapDirectoryOptions } from '../../../auth/ldap-directory.ts';
import { renderFilter } from '../../../auth/ldap-filter.ts';
import { LdapPool } from '../../../auth/ldap-pool.ts';
import {
  type Check,
  type CheckOutcome,
  describeSocketError,
  isTlsVerifyError,
  outcome,
} from '../../../core/check.ts';
import { isModgateError } from '../../../core/errors.ts';

/** A user search needs at most two entries to tell "found one" from "ambiguous". */
const USER_SEARCH_SIZE_LIMIT = 2;

export interface LdapCheckOptions {
  /** Also find this user with `user_filter` (check-config `--user`). */
  readonly user?: string | undefined;
}

/** The LDAP check as a runnable {@link Check} (for check-config and `/readyz`). */
export function ldapCheck(options: LdapDirectoryOptions, checkOptions: LdapCheckOptions = {}): Check {
  return {
    name: 'ldap',
    target: options.url,
    run: () => checkLdap(options, checkOptions),
  };
}

/**
 * Binds as `bindDn` on a fresh connection, reads `userBase` (scope base) and,
 * when asked, searches one user. Each operation is bounded by the directory's
 * own `timeoutMs`. Never reports the password.
 */
export async function checkLdap(
  options: LdapDirectoryOptions,
  checkOptions: LdapCheckOptions = {},
): Promise<CheckOutcome> {
  const pool = new LdapPool(options, 1, (c) => c.bind(options.bindDn, options.bindPassword), true);
  const timeLimit = Math.ceil(options.timeoutMs / 1000);
  let step: 'bind' | 'user base' | 'user' = 'bind';
  try {
    const base = await pool.use(async (c: Client) => {
      step = 'user base';
      return (await c.search(options.userBase, { scope: 'base', attributes: ['1.1'], timeLimit }))
        .searchEntries;
    });
    if (base.length === 0) return userBaseMissing(options);
    let found = '';
    if (checkOptions.user !== undefined) {
      step = 'user';
      const filter = renderFilter(options.userFilter, { username: checkOptions.user });
      const users = await pool.use(
        async (c: Client) =>
          (
            await c.search(options.userBase, {
              scope: 'sub',
              filter,
              attributes: ['1.1'],
              sizeLimit: USER_SEARCH_SIZE_LIMIT,
              timeLimit,
            })
          ).searchEntries,
      );
      if (users.length !== 1) {
        return outcome.fail(
          `service bind as ${options.bindDn} works, but user_filter finds ${users.length === 0 ? 'no entry' : 'more than one entry'} for "${checkOptions.user}" under ${options.userBase}`,
          'check directory.ldap.user_base and user_filter (the user must match exactly one entry)',
        );
      }
      found = `; user "${checkOptions.user}" is ${users[0]!.dn}`;
    }
    return outcome.ok(`service bind as ${options.bindDn}; ${options.userBase} readable${found}`);
  } catch (err) {
    return ldapFailure(options, step, err);
  } finally {
    await pool.close();
  }
}

function userBaseMissing(options: LdapDirectoryOptions): CheckOutcome {
  return outcome.fail(
    `service bind as ${options.bindDn} works, but ${options.userBase} does not exist`,
    'check directory.ldap.user_base',
  );
}

/** Explains a failed step with what to change in gateway.yaml. */
function ldapFailure(options: LdapDirectoryOptions, step: string, err: unknown): CheckOutcome {
  const cause = isModgateError(err) ? (err.detail?.error ?? err.message) : err;
  if (err instanceof InvalidCredentialsError) {
    return outcome.fail(
      `service bind as ${options.bindDn} refused: invalid credentials (LDAP 49)`,
      "check directory.ldap.bind_dn and bind_password (the secret it references must be the service account's password)",
    );
  }
  if (err instanceof StrongAuthRequiredError) {
    return outcome.fail(
      `the server requires a secure connection for binds (LDAP ${err.code})`,
      'use an ldaps:// url, or set directory.ldap.start_tls: true',
    );
  }
  if (err instanceof NoSuchObjectError) return userBaseMissing(options);
  if (err instanceof InsufficientAccessError) {
    return outcome.fail(
      `${options.bindDn} may not read ${step === 'user' ? 'users under ' : ''}${options.userBase} (LDAP 50)`,
      "grant the service account read access to the user and group entries in the directory's ACLs",
    );
  }
  if (err instanceof ResultCodeError) {
    return outcome.fail(`${step} failed: ${err.message} (LDAP ${err.code})`, 'see the LDAP server log');
  }
  if (isTlsVerifyError(err)) {
    return outcome.fail(
      `cannot connect: ${describeSocketError(err)}`,
      "set directory.ldap.ca to the CA that signed the LDAP server's certificate",
    );
  }
  const reason = typeof cause === 'string' ? cause : describeSocketError(cause);
  return outcome.fail(
    `cannot ${step === 'bind' ? 'connect or bind' : `read ${step}`}: ${reason}`,
    'check directory.ldap.url and that the LDAP server is running and reachable from here',
  );
}
