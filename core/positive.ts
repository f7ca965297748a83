import { ModgateError } from './errors.ts';

/**
 * Rejects a size, count or duration that is not a positive safe integer (or,
 * with `zero`, a non-negative one). Such a value comes from code or from an
 * already validated config, so a bad one is a programming error (`internal`)
 * unless the caller says it came from the operator (`config.invalid`).
 */
export function checkPositiveInteger(
  what: string,
  n: number,
  options: { zero?: boolean; code?: 'internal' | 'config.invalid' } = {},
): void {
  const least = options.zero === true ? 0 : 1;
  if (!Number.isSafeInteger(n) || n < least) {
    const kind = least === 0 ? 'a non-negative' : 'a positive';
    throw new ModgateError(options.code ?? 'internal', `${what} must be ${kind} integer, got ${n}`);
  }
}
