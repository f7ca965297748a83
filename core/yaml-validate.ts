import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ModgateError } from './errors.ts';

/** Most alias expansions a config or policy file may use (the yaml library's guard against alias bombs). */
const MAX_ALIAS_COUNT = 100;

/** One problem found in a YAML file, located by key path and line. */
export interface YamlProblem {
  /** Dotted key path, e.g. `directory.ldap.url` or `users[2].name`. */
  readonly path: string;
  /** 1-based line, or undefined when the key does not exist in the file. */
  readonly line: number | undefined;
  readonly message: string;
}

export function formatProblem(file: string, p: YamlProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}`;
  return `${where}: ${p.path || '(document)'}: ${p.message}`;
}

/** `users[1].password_hash` from a zod issue path. */
export function joinKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Finds the line of the deepest existing node on `path`: the key itself for a map entry. */
function lineOf(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const parent = depth === 0 ? undefined : doc.getIn(path.slice(0, depth - 1) as unknown[], true);
    if (isMap(parent)) {
      const pair = parent.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(path[depth - 1]),
      );
      if (pair && isNode(pair.key) && pair.key.range) return counter.linePos(pair.key.range[0]).line;
    }
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** Options of {@link parseYamlWith}. */
export interface YamlParseOptions {
  /**
   * Keys that were renamed, old dotted key path → new one (exact paths, as
   * {@link joinKeyPath} writes them). An old key is refused with its new
   * name instead of as an unknown key, and the new key's own problems (it is
   * missing, of course) are then not reported besides.
   */
  readonly renamedKeys?: Readonly<Record<string, string>>;
}

/**
 * Parses YAML text and validates it against a zod schema. Every problem is
 * reported at once: YAML syntax errors, then schema errors, each with key path
 * and line. Pure: no I/O, no side effects. Returns the frozen parsed value.
 */
export function parseYamlWith<S extends z.ZodType>(
  text: string,
  schema: S,
  options: YamlParseOptions = {},
):
  | {
      ok: true;
      value: Readonly<z.output<S>>;
      /** The document as plain data, before validation (for a second schema over the same file). */
      input: unknown;
      lineOf: (path: readonly PropertyKey[]) => number | undefined;
    }
  | { ok: false; problems: YamlProblem[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '',
        line: counter.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0] ?? e.code,
      })),
    };
  }
  let data: unknown;
  try {
    // Resolving aliases can still fail here: an alias without an anchor, or an alias bomb past maxAliasCount.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return {
      ok: false,
      problems: [
        { path: '', line: undefined, message: (err as Error).message.split('\n')[0] ?? 'invalid YAML' },
      ],
    };
  }
  const input = data ?? {};
  const result = schema.safeParse(input);
  if (!result.success) {
    const renamed = options.renamedKeys ?? {};
    const problems = result.error.issues.flatMap((issue) => {
      // An unknown key is reported on the key itself, not on its parent.
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
      return keys.map((key) => {
        const path = key === undefined ? issue.path : [...issue.path, key];
        const joined = joinKeyPath(path);
        const renamedTo = key !== undefined && Object.hasOwn(renamed, joined) ? renamed[joined] : undefined;
        return {
          path: joined,
          line: lineOf(doc, counter, path),
          message:
            key === undefined
              ? issue.message
              : renamedTo === undefined
                ? 'unknown key'
                : `was renamed to ${renamedTo}`,
        };
      });
    });
    const replaced = new Set(
      problems.filter((p) => Object.hasOwn(renamed, p.path)).map((p) => renamed[p.path]),
    );
    return { ok: false, problems: problems.filter((p) => !replaced.has(p.path)) };
  }
  return { ok: true, value: deepFreeze(result.data), input, lineOf: (path) => lineOf(doc, counter, path) };
}

/** Like parseYamlWith, but throws one ModgateError('config.invalid') listing every problem, one per line. */
export function parseYamlOrThrow<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): Readonly<z.output<S>> {
  const result = parseYamlWith(text, schema);
  if (result.ok) return result.value;
  const lines = result.problems.map((p) => formatProblem(file, p));
  throw new ModgateError('config.invalid', `${file}: ${lines.length} problem(s)\n${lines.join('\n')}`, {
    detail: { problems: result.problems },
  });
}

/**
 * Freezes a value and everything reachable from it. Typed arrays and Buffers
 * (key material such as `state.encryption.keys`) cannot be frozen: Object.freeze
 * throws on a view with elements, so they are left as they are.
 */
export function deepFreeze<T>(value: T): T {
  if (ArrayBuffer.isView(value)) return value;
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
