/**
 * The rule index: a trie over module path elements, so a decision looks only
 * at the rules whose pattern can match the module instead of at every rule.
 *
 * A pattern hangs at the node of its literal leading elements: a fully literal
 * pattern (`github.com/acme`) at its last element, where reaching the node is
 * the match; a glob (`github.com/acme-*`, `*.corp.example`) at the node before
 * its first element with a metacharacter (the root for a glob in the first
 * element), where its compiled matcher still has to agree.
 *
 * Globs in the first element are common (`*.corp.example`) and would all be
 * tried for every module, so the root also files star-only globs under the
 * literal end of their first element (`.corp.example`): a module is tried only
 * against those whose end its own first element has.
 */
import type { ModulePattern } from './module-pattern.ts';

/** A pattern of a rule, as stored in the index. */
export interface IndexEntry<R> {
  readonly rule: R;
  readonly pattern: ModulePattern;
}

interface Node<R> {
  readonly children: Map<string, Node<R>>;
  /** Literal patterns ending here: they match every module that reaches this node. */
  readonly exact: IndexEntry<R>[];
  /** Globs whose literal prefix ends here: they still need their matcher. */
  readonly globs: IndexEntry<R>[];
}

/** A compiled index; `forEachMatch` visits every entry whose pattern matches a module path. */
export interface RuleIndex<R> {
  /** Calls `visit` for each entry whose glob matches `module` (in no particular order). */
  forEachMatch(module: string, visit: (entry: IndexEntry<R>) => void): void;
  readonly size: number;
}

function node<R>(): Node<R> {
  return { children: new Map(), exact: [], globs: [] };
}

/** Root globs that are star-only, by the literal end of their first element (`*.corp.example` → `.corp.example`). */
interface SuffixIndex<R> {
  readonly bySuffix: Map<string, IndexEntry<R>[]>;
  /** The distinct suffix lengths, so a lookup tries each length once. */
  readonly lengths: number[];
}

/** The literal end of the first element of a star-only glob, or undefined (none, or other metacharacters). */
function firstElementSuffix(glob: string): string | undefined {
  if (/[?[\\]/.test(glob)) return undefined;
  const slash = glob.indexOf('/');
  const first = slash < 0 ? glob : glob.slice(0, slash);
  const suffix = first.slice(first.lastIndexOf('*') + 1);
  return suffix === '' ? undefined : suffix;
}

/** Moves star-only globs with a literal first-element end out of the root's glob list into a suffix index. */
function indexRootSuffixes<R>(root: Node<R>): SuffixIndex<R> {
  const index: SuffixIndex<R> = { bySuffix: new Map(), lengths: [] };
  const rest: IndexEntry<R>[] = [];
  for (const e of root.globs) {
    const suffix = firstElementSuffix(e.pattern.glob);
    if (suffix === undefined) {
      rest.push(e);
      continue;
    }
    const list = index.bySuffix.get(suffix);
    if (list === undefined) index.bySuffix.set(suffix, [e]);
    else list.push(e);
    if (!index.lengths.includes(suffix.length)) index.lengths.push(suffix.length);
  }
  root.globs.splice(0, root.globs.length, ...rest);
  return index;
}

/** Builds the index once per policy load. */
export function buildRuleIndex<R>(entries: readonly IndexEntry<R>[]): RuleIndex<R> {
  const root = node<R>();
  for (const entry of entries) {
    let at = root;
    for (const element of entry.pattern.literalPrefix) {
      let next = at.children.get(element);
      if (next === undefined) {
        next = node<R>();
        at.children.set(element, next);
      }
      at = next;
    }
    (entry.pattern.literal ? at.exact : at.globs).push(entry);
  }
  const suffixes = indexRootSuffixes(root);
  return {
    size: entries.length,
    forEachMatch(module, visit) {
      if (suffixes.lengths.length > 0) {
        let firstEnd = module.indexOf('/');
        if (firstEnd < 0) firstEnd = module.length;
        for (const n of suffixes.lengths) {
          if (n > firstEnd) continue;
          const list = suffixes.bySuffix.get(module.slice(firstEnd - n, firstEnd));
          if (list !== undefined) for (const e of list) if (e.pattern.matchesPath(module)) visit(e);
        }
      }
      let at: Node<R> | undefined = root;
      let start = 0;
      for (;;) {
        for (const e of at.exact) visit(e);
        for (const e of at.globs) if (e.pattern.matchesPath(module)) visit(e);
        if (start > module.length) return;
        let end = module.indexOf('/', start);
        if (end < 0) end = module.length;
        at = at.children.get(module.slice(start, end));
        if (at === undefined) return;
        start = end + 1;
      }
    },
  };
}
