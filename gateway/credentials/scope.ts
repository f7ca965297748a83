import { ModgateError } from '../../core/errors.ts';
import type { Principal } from '../../core/principal.ts';

/**
 * Renders the `scope` of an Artifactory token for a subject from a template
 * such as `applied-permissions/groups:{groups}` (JFrog REST APIs, "Create
 * Token": scopes are space-separated; `applied-permissions/groups:` takes
 * comma-separated group names, double-quoted when they hold spaces or commas).
 *
 * The subject's groups come from modgate's directory (LDAP), whose names the
 * operator does not control, so a group name must never be able to widen the
 * scope: names are either mapped through the configured allowlist, or (with
 * no allowlist) passed only when they consist of plain name characters. A
 * name with a space, comma or quote could otherwise smuggle in
 * `applied-permissions/admin` or another group.
 */

/** Placeholders a template may hold. */
const PLACEHOLDER = /\{([^{}]*)\}/g;
const KNOWN_PLACEHOLDERS: ReadonlySet<string> = new Set(['user', 'groups']);
/** A name that needs no quoting and cannot change the scope's structure. */
const PLAIN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/;
/** An operator-configured group name that can be quoted safely: no quotes, no control characters, not blank. */
const QUOTABLE_NAME = /^[^"\p{Cc}\s](?:[^"\p{Cc}]*[^"\p{Cc}\s])?$/u;
/** Characters a user name may not hold: it goes into a scope and into Basic `user:token` (RFC 7617). */
const UNSAFE_USER = /[\s:,"\\\p{Cc}]/u;

/**
 * Which subject groups may appear in a scope: a list of names passed as they
 * are, or a map from a directory group name to the Artifactory group it
 * stands for. Groups not listed are dropped.
 */
export type GroupAllowlist = readonly string[] | Readonly<Record<string, string>>;

export interface ScopeTemplateOptions {
  /** Credential name, for error messages. */
  readonly name: string;
  /** The scope with `{user}` and `{groups}` placeholders. */
  readonly template: string;
  /** Absent: every group with a plain name passes (see module comment). */
  readonly allowedGroups?: GroupAllowlist;
}

/** A validated scope template; `render` is pure and cheap. */
export class ScopeTemplate {
  readonly template: string;
  readonly #name: string;
  readonly #allowlist: ReadonlyMap<string, string> | undefined;
  readonly #usesGroups: boolean;
  readonly #usesUser: boolean;

  /** Throws `config.invalid` for an empty template, an unknown placeholder or an unquotable group name. */
  constructor(options: ScopeTemplateOptions) {
    const invalid = (what: string) =>
      new ModgateError('config.invalid', `credential ${options.name}: ${what}`);
    this.#name = options.name;
    this.template = options.template.trim();
    if (this.template === '') throw invalid('scope template is empty');
    const names = [...this.template.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
    const unknown = names.find((n) => !KNOWN_PLACEHOLDERS.has(n));
    if (unknown !== undefined)
      throw invalid(`scope template has unknown placeholder {${unknown}} (use {user} and {groups})`);
    this.#usesGroups = names.includes('groups');
    this.#usesUser = names.includes('user');
    const { allowedGroups } = options;
    if (allowedGroups !== undefined) {
      const entries: [string, string][] = Array.isArray(allowedGroups)
        ? allowedGroups.map((g) => [g, g])
        : Object.entries(allowedGroups);
      const bad = entries.find(([, target]) => !QUOTABLE_NAME.test(target));
      if (bad !== undefined)
        throw invalid(`allowed group "${bad[0]}" maps to an invalid Artifactory group name`);
      this.#allowlist = new Map(entries);
    }
  }

  /**
   * The scope for `subject`: `{user}` becomes the user name, `{groups}` the
   * allowed groups, sorted and de-duplicated (so group order does not change
   * the cache key), comma-joined. `policy.denied` when the user name cannot
   * be used or when `{groups}` would be empty (the subject holds no group
   * this credential may grant).
   */
  render(subject: Principal): string {
    if (subject.user === '' || UNSAFE_USER.test(subject.user)) {
      throw new ModgateError(
        'policy.denied',
        `credential ${this.#name}: this user name cannot be used in an Artifactory token`,
      );
    }
    let groups = '';
    if (this.#usesGroups) {
      const allowed = this.allowedGroups(subject.groups);
      if (allowed.length === 0) {
        throw new ModgateError(
          'policy.denied',
          `credential ${this.#name}: none of your groups may be granted an Artifactory token scope`,
        );
      }
      groups = allowed.map((g) => (PLAIN_NAME.test(g) ? g : `"${g}"`)).join(',');
    }
    if (!this.#usesGroups && !this.#usesUser) return this.template;
    return this.template.replace(PLACEHOLDER, (_, name: string) => (name === 'user' ? subject.user : groups));
  }

  /** The Artifactory group names `groups` stand for under the allowlist, sorted, without duplicates. */
  allowedGroups(groups: readonly string[]): string[] {
    const out = new Set<string>();
    for (const group of groups) {
      const target = this.#allowlist === undefined ? group : this.#allowlist.get(group);
      if (target === undefined) continue;
      if (this.#allowlist !== undefined || PLAIN_NAME.test(target)) out.add(target);
    }
    return [...out].sort();
  }
}
