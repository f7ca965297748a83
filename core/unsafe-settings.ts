/**
 * Opt-in unsafe settings, each warned about at start. A schema marks such a key with
 * `.meta(unsafe(value, risk))`; {@link unsafeKeys} lists every marked key of a
 * schema and {@link unsafeSettingsOf} finds the ones a validated file turns on,
 * so `serve` and `check-config` warn about each without a list to keep in step.
 */
import { z } from 'zod';
import { joinKeyPath } from './yaml-validate.ts';

/** The mark on an unsafe key: the value that is unsafe, and what it risks (one line). */
export interface UnsafeMark {
  readonly when: boolean | string;
  readonly risk: string;
}

/** Metadata for `.meta()` marking a key unsafe when it has the value `when`. */
export function unsafe(when: boolean | string, risk: string): { unsafe: UnsafeMark } {
  return { unsafe: { when, risk } };
}

/** A marked key by schema path: `upstreams.<name>.allow_insecure_http`, `rules[].mode`. */
export interface UnsafeKey {
  readonly key: string;
  readonly mark: UnsafeMark;
}

/** An unsafe setting a file turns on, located by its key path (for the line). */
export interface UnsafeSetting {
  readonly path: readonly (string | number)[];
  readonly key: string;
  readonly mark: UnsafeMark;
}

/** The JSON Schema node shape this walks (zod's export, every reuse inlined). */
interface Node {
  unsafe?: UnsafeMark;
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
  allOf?: Node[];
}

const exported = new WeakMap<z.ZodType, Node>();

/** The schema's JSON Schema, made once per schema (policies are parsed on every reload). */
function jsonSchemaOf(schema: z.ZodType): Node {
  let node = exported.get(schema);
  if (node === undefined) {
    node = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Node;
    exported.set(schema, node);
  }
  return node;
}

function alternatives(node: Node): Node[] {
  return [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
}

/** Every key the schema marks unsafe. */
export function unsafeKeys(schema: z.ZodType): UnsafeKey[] {
  const found = new Map<string, UnsafeKey>();
  const visit = (node: Node, key: string) => {
    if (node.unsafe !== undefined) found.set(key, { key, mark: node.unsafe });
    for (const [name, child] of Object.entries(node.properties ?? {}))
      visit(child, key ? `${key}.${name}` : name);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${key}.<name>`);
    if (node.items !== undefined) visit(node.items, `${key}[]`);
    for (const alt of alternatives(node)) visit(alt, key);
  };
  visit(jsonSchemaOf(schema), '');
  return [...found.values()];
}

/** The unsafe settings `value` (a file validated by `schema`, defaults applied) turns on, in file order. */
export function unsafeSettingsOf(schema: z.ZodType, value: unknown): UnsafeSetting[] {
  const found = new Map<string, UnsafeSetting>();
  const visit = (node: Node, v: unknown, path: (string | number)[], key: string) => {
    if (node.unsafe !== undefined && v === node.unsafe.when) {
      found.set(path.join('\u0000'), { path, key, mark: node.unsafe });
    }
    if (Array.isArray(v)) {
      const items = node.items;
      if (items !== undefined) {
        for (const [i, item] of v.entries()) visit(items, item, [...path, i], `${key}[]`);
      }
    } else if (v !== null && typeof v === 'object') {
      for (const [name, child] of Object.entries(v as Record<string, unknown>)) {
        const known = node.properties?.[name];
        const join = (k: string) => (key ? `${key}.${k}` : k);
        if (known !== undefined) visit(known, child, [...path, name], join(name));
        else if (typeof node.additionalProperties === 'object')
          visit(node.additionalProperties, child, [...path, name], join('<name>'));
      }
    }
    for (const alt of alternatives(node)) visit(alt, v, path, key);
  };
  visit(jsonSchemaOf(schema), value, [], '');
  return [...found.values()];
}

/**
 * One warning line per unsafe setting `value` turns on, located like a
 * problem: `gateway.yaml:12: warning: unsafe setting
 * upstreams.athens.allow_insecure_http: true (<risk>)`.
 */
export function unsafeWarnings(
  schema: z.ZodType,
  value: unknown,
  file: string,
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
): string[] {
  return unsafeSettingsOf(schema, value).map((s) => {
    const line = lineOf(s.path);
    return `${line === undefined ? file : `${file}:${line}`}: warning: ${describeUnsafe(s)}`;
  });
}

/** `unsafe setting upstreams.athens.allow_insecure_http: true (<risk>)`, the text of one warning. */
export function describeUnsafe(setting: UnsafeSetting): string {
  return `unsafe setting ${joinKeyPath(setting.path)}: ${String(setting.mark.when)} (${setting.mark.risk})`;
}
