import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ModgateError } from '../../core/errors.ts';

/** What a secret reference looks like: `env:NAME` or `file:/path`. */
export const SECRET_REF_PATTERN = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/**
 * A secret is only ever a reference: `env:NAME` or `file:/path`. Literal
 * secrets are rejected. The one schema for every secret key of gateway.yaml.
 */
export const secretRef = z
  .string()
  .regex(SECRET_REF_PATTERN, 'must be a reference, env:NAME or file:/path (literal secrets are not allowed)');

/** What zod gives a refinement or a transform of a section, and problems are reported through. */
export type ConfigCtx = z.core.$RefinementCtx;

/**
 * Resolves a secret reference (`env:NAME` or `file:/path`, already shape-checked
 * by the schema). Relative file paths are taken from `baseDir` (the config
 * file's folder). A file's trailing newline is dropped. The error names the
 * reference, never the value.
 */
export function resolveSecret(ref: string, baseDir: string, keyPath: string): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = process.env[name];
    if (value === undefined || value === '') {
      throw new ModgateError(
        'config.secret_unresolved',
        `${keyPath}: environment variable ${name} is not set`,
      );
    }
    return value;
  }
  const path = resolvePath(ref.slice(5), baseDir);
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ModgateError('config.secret_unresolved', `${keyPath}: cannot read ${path} (${reason})`, {
      cause,
    });
  }
}

export function resolvePath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}
