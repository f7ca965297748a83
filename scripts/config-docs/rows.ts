/**
 * The rows of docs/configuration.md: gateway.yaml's schema read through
 * zod's JSON Schema export (input side), one row per key with its type,
 * default, whether it is required, the variants it belongs to and its
 * `.describe()` text.
 */
import { z } from 'zod';
import { SECRET_REF_PATTERN } from '../../gateway/config/secrets.ts';

/** What a secret reference looks like (gateway/config/secrets.ts `secretRef`). */
const SECRET_PATTERN = SECRET_REF_PATTERN.source;
/** The default shown for an object that applies, with its keys' defaults, when absent. */
export const ON_BY_DEFAULT = 'on';
/** JSON Schema's stand-in for "no upper bound" on integers. */
const NO_MAX = Number.MAX_SAFE_INTEGER;

export type JsonSchema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  description?: string;
};

/** One documented key. `when` lists the variants (`kind: athens`) it belongs to; empty: always. */
export interface Row {
  path: string;
  types: string[];
  defaults: string[];
  required: boolean;
  when: string[];
  /** The key's `.describe()` text (from the first variant that has one). */
  description: string | undefined;
}

/** The schema as JSON Schema (input side: durations are strings), durations marked as such. */
export function jsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const def = ctx.zodSchema._zod.def as { type: string; out?: { _zod: { def: { type: string } } } };
      // core/duration.ts durationMs: a string piped into a transform.
      if (def.type === 'pipe' && def.out?._zod.def.type === 'transform') ctx.jsonSchema.format = 'duration';
    },
  }) as JsonSchema;
}

const variantsOf = (node: JsonSchema) => node.oneOf ?? node.anyOf;
const isObject = (node: JsonSchema) => node.type === 'object' && node.properties !== undefined;

/** The `key: value` that tells a variant apart (kind, sink, from), if it has one. */
function discriminator(node: JsonSchema): string | undefined {
  for (const [key, prop] of Object.entries(node.properties ?? {})) {
    if (prop.const !== undefined && node.required?.includes(key)) return `${key}: ${String(prop.const)}`;
  }
  return undefined;
}

function typeOf(node: JsonSchema): string {
  const variants = variantsOf(node);
  if (variants !== undefined) return [...new Set(variants.map(typeOf))].join(' or ');
  if (node.const !== undefined) return `\`${String(node.const)}\``;
  if (node.enum !== undefined) return node.enum.map((v) => `\`${String(v)}\``).join(' | ');
  if (node.format === 'duration') return 'duration';
  if (node.pattern === SECRET_PATTERN) return 'secret ref';
  if (node.format === 'uri') return 'URL';
  switch (node.type) {
    case 'integer': {
      const max = node.maximum === undefined || node.maximum >= NO_MAX ? undefined : node.maximum;
      if (node.minimum !== undefined && max !== undefined) return `integer ${node.minimum}–${max}`;
      if (node.minimum !== undefined) return `integer ≥ ${node.minimum}`;
      return max === undefined ? 'integer' : `integer ≤ ${max}`;
    }
    case 'array':
      return `list of ${node.items === undefined ? 'values' : plural(typeOf(node.items))}`;
    case 'object':
      if (node.properties !== undefined) return 'object';
      return `map of ${typeof node.additionalProperties === 'object' ? plural(typeOf(node.additionalProperties)) : 'values'}`;
    default:
      return node.type ?? 'any';
  }
}

function plural(type: string): string {
  return /^(string|integer|object|URL|duration|secret ref)$/.test(type) ? `${type}s` : type;
}

function defaultOf(node: JsonSchema): string | undefined {
  const value = node.default;
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    // `{}`: on, every key below has its own default.
    return entries.length === 0
      ? ON_BY_DEFAULT
      : entries.map(([k, v]) => `\`${k}: ${String(v)}\``).join(', ');
  }
  return `\`${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}\``;
}

/** Collects rows for `node` at `path`, merging keys that several variants share. */
function collect(
  node: JsonSchema,
  path: string,
  required: boolean,
  when: string[],
  rows: Map<string, Row>,
): void {
  const variants = variantsOf(node);
  if (variants?.every(isObject)) {
    // A union of objects (directory: ldap | file, upstream kinds): one row for the key, then each variant's keys.
    if (!/(<name>|\[\])$/.test(path)) {
      add(rows, {
        path,
        types: ['object'],
        defaults: opt(defaultOf(node)),
        required,
        when,
        description: node.description,
      });
    }
    const tags = variants.map((v) => discriminator(v) ?? (v.required ?? []).join(' + '));
    for (const [i, variant] of variants.entries()) collectObject(variant, path, [...when, tags[i]!], rows);
    // A key every variant has needs no "with".
    for (const row of rows.values()) {
      if (row.path.startsWith(`${path}.`) && tags.every((t) => row.when.includes(t))) {
        row.when = row.when.filter((w) => !tags.includes(w));
      }
    }
    return;
  }
  add(rows, {
    path,
    types: [typeOf(node)],
    defaults: opt(defaultOf(node)),
    required,
    when,
    description: node.description,
  });
  if (isObject(node)) collectObject(node, path, when, rows);
  else if (node.type === 'object' && typeof node.additionalProperties === 'object') {
    collect(node.additionalProperties, `${path}.<name>`, false, when, rows);
  } else if (node.type === 'array' && node.items !== undefined && isObject(node.items)) {
    collectObject(node.items, `${path}[]`, when, rows);
  }
}

export function collectObject(node: JsonSchema, path: string, when: string[], rows: Map<string, Row>): void {
  for (const [key, prop] of Object.entries(node.properties ?? {})) {
    collect(prop, path === '' ? key : `${path}.${key}`, node.required?.includes(key) ?? false, when, rows);
  }
}

const opt = (s: string | undefined) => (s === undefined ? [] : [s]);

/** Adds a row, or merges it into the row of the same path from another variant. */
function add(rows: Map<string, Row>, row: Row): void {
  const seen = rows.get(row.path);
  if (seen === undefined) {
    rows.set(row.path, row);
    return;
  }
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  seen.types = union(seen.types, row.types);
  seen.defaults = union(seen.defaults, row.defaults);
  seen.required &&= row.required;
  seen.when = union(seen.when, row.when);
  seen.description ??= row.description;
}

/** Variant discriminators read as one alternatives list (`athens` | `artifactory` | `dir`). */
export function typeText(types: string[]): string {
  return types.join(types.every((t) => /^`[^`]*`$/.test(t)) ? ' | ' : ' or ');
}

/** Every documented key of `config`, by path (`a.b`, `<name>` for a map's keys, `[]` for a list's items). */
export function rowsOf(config: z.ZodType): { schema: JsonSchema; rows: Map<string, Row> } {
  const schema = jsonSchema(config);
  const rows = new Map<string, Row>();
  collectObject(schema, '', [], rows);
  return { schema, rows };
}
