import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Secret references and the config file's folder. Every secret key of
 * gateway.yaml is {@link secretRef}; the transforms of the section schemas
 * resolve references with {@link secretAt}, which reports a problem as a zod
 * issue at the key (path and message, never the value) instead of throwing.
 */

/** What a secret reference looks like: `env:NAME` or `file:/path`. */
export const SECRET_REF_PATTERN = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** A secret is only ever a reference: `env:NAME` or `file:/path`. Literal secrets are rejected. */
export const secretRef = z
  .string()
  .regex(SECRET_REF_PATTERN, 'must be a reference, env:NAME or file:/path (literal secrets are not allowed)');

/** What zod gives a refinement or a transform of a section, and problems are reported through. */
export type ConfigCtx = z.core.$RefinementCtx;

/** The folder of the config file being resolved (see {@link inConfigFolder}); the working folder otherwise. */
let configFolder: string | undefined;

/**
 * Runs `parse` (a parse of a settings schema) with relative paths and
 * `file:` references taken from `folder`, the config file's folder. Parsing
 * is synchronous, so the folder is the one of this call only.
 */
export function inConfigFolder<T>(folder: string, parse: () => T): T {
  const outer = configFolder;
  configFolder = folder;
  try {
    return parse();
  } finally {
    configFolder = outer;
  }
}

/** `path` made absolute: relative paths are taken from the config file's folder. */
export function configPath(path: string): string {
  return isAbsolute(path) ? path : resolve(configFolder ?? process.cwd(), path);
}

/**
 * Resolves a secret reference (already shape-checked by {@link secretRef})
 * found at `path` below the schema being transformed. A file's trailing
 * newline is dropped. A reference that cannot be resolved is an issue at
 * `path` naming the reference, never a value; the result is then ''.
 */
export function secretAt(ctx: ConfigCtx, ref: string, path: readonly PropertyKey[]): string {
  const problem = (message: string) => {
    ctx.addIssue({ code: 'custom', path: [...path], message });
    return '';
  };
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = process.env[name];
    return value === undefined || value === '' ? problem(`environment variable ${name} is not set`) : value;
  }
  const file = configPath(ref.slice(5));
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    return problem(`cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/** {@link secretAt} for an optional key: undefined stays undefined. */
export function optionalSecretAt(
  ctx: ConfigCtx,
  ref: string | undefined,
  path: readonly PropertyKey[],
): string | undefined {
  return ref === undefined ? undefined : secretAt(ctx, ref, path);
}
