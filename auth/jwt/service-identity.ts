/**
 * CI workload identities: tokens whose (issuer, subject) match a configured
 * service identity are accepted without a directory user, with the groups the
 * configuration gives.
 *
 * ```yaml
 * service_identities:
 *   - issuer: https://token.actions.githubusercontent.com
 *     subject: repo:acme/*:ref:refs/heads/main
 *     name: ci-acme-main
 *     groups: [ci, team-a]
 * ```
 */

/** One configured service identity. */
export interface ServiceIdentity {
  /** Exact `iss` of the tokens. */
  readonly issuer: string;
  /**
   * `sub` of the tokens: exact, or a glob where `*` matches any run of
   * characters (including `/` and `:`, which CI subjects contain) and `?`
   * exactly one.
   */
  readonly subject: string;
  /** The identity's user name in policies (`user:<name>`). */
  readonly name: string;
  readonly groups: readonly string[];
}

/** A compiled matcher over the configured service identities. */
export class ServiceIdentities {
  readonly #entries: ReadonlyArray<{ identity: ServiceIdentity; pattern: RegExp }>;

  constructor(identities: readonly ServiceIdentity[]) {
    this.#entries = identities.map((identity) => ({
      identity: { ...identity, groups: [...new Set(identity.groups)].sort() },
      pattern: globToRegExp(identity.subject),
    }));
  }

  /** The first service identity whose issuer is `issuer` and subject pattern matches `subject`. */
  match(issuer: string, subject: string): ServiceIdentity | undefined {
    for (const { identity, pattern } of this.#entries) {
      if (identity.issuer === issuer && pattern.test(subject)) return identity;
    }
    return undefined;
  }
}

/** `*` → any run of characters, `?` → one character, everything else literal; anchored. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}
