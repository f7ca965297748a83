import type { Principal } from '../core/principal.ts';

/** A compiled list of subjects (`user:<name>`, `group:<name>`, `*`) as sets. */
export interface SubjectSet {
  readonly anySubject: boolean;
  readonly users: ReadonlySet<string>;
  readonly groups: ReadonlySet<string>;
}

/** Compiles validated subject strings (the schema checked their shape). */
export function compileSubjects(subjects: readonly string[]): SubjectSet {
  const users = new Set<string>();
  const groups = new Set<string>();
  let anySubject = false;
  for (const s of subjects) {
    if (s === '*') anySubject = true;
    else if (s.startsWith('user:')) users.add(s.slice('user:'.length));
    else groups.add(s.slice('group:'.length));
  }
  return { anySubject, users, groups };
}

/** Whether the set names this subject: `*`, the user, or one of the groups. */
export function inSubjectSet(set: SubjectSet, subject: Principal): boolean {
  if (set.anySubject || set.users.has(subject.user)) return true;
  if (set.groups.size === 0) return false;
  for (const g of subject.groups) if (set.groups.has(g)) return true;
  return false;
}
