/**
 * Loading a policy file: parse and validate (every problem with its line),
 * compile, lint. Pure apart from {@link loadPolicyFile} reading the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { unsafeWarnings } from '../core/unsafe-settings.ts';
import { parseYamlWith, type YamlProblem } from '../core/yaml-validate.ts';
import { compilePolicy, policyInternals } from './compile.ts';
import { lintPolicy, type PolicyWarning } from './lint.ts';
import { policyFileSchema } from './schema.ts';
import type { CompiledPolicy } from './types.ts';

/** Hex digits of the SHA-256 of the file content that make the policy version. */
const VERSION_HEX_DIGITS = 12;

export type PolicyLoadResult =
  | {
      readonly ok: true;
      readonly policy: CompiledPolicy;
      /** Formatted `file:line: warning: message`, ready to print or log. */
      readonly warnings: readonly string[];
      readonly warningDetails: readonly PolicyWarning[];
    }
  | { readonly ok: false; readonly problems: readonly YamlProblem[] };

export interface ParsePolicyOptions {
  /** Evaluation time for warnings about expired rules (ms since epoch); defaults to Date.now(). */
  readonly now?: number;
}

/** The policy version: first 12 hex digits of the SHA-256 of the file content. */
export function policyVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, VERSION_HEX_DIGITS);
}

/**
 * Parses, validates and compiles policy text. `file` names the file in
 * warnings and explain output. Never throws for bad input: problems come back
 * with key path and line (print them with core/yaml-validate.ts formatProblem).
 */
export function parsePolicy(file: string, text: string, options: ParsePolicyOptions = {}): PolicyLoadResult {
  const parsed = parseYamlWith(text, policyFileSchema);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const policy = compilePolicy(parsed.value, { version: policyVersion(text), file, lineOf: parsed.lineOf });
  const rules = policyInternals(policy)?.rules ?? [];
  const warningDetails = lintPolicy(parsed.value, rules, parsed.lineOf, options.now ?? Date.now());
  const warnings = [
    ...unsafeWarnings(policyFileSchema, parsed.value, file, parsed.lineOf),
    ...warningDetails.map((w) => formatWarning(file, w)),
  ];
  return { ok: true, policy, warnings, warningDetails };
}

/** Reads and parses a policy file; an unreadable file is a problem without a line. */
export async function loadPolicyFile(
  path: string,
  options: ParsePolicyOptions = {},
): Promise<PolicyLoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return {
      ok: false,
      problems: [{ path: '', line: undefined, message: `cannot read the policy file: ${code}` }],
    };
  }
  return parsePolicy(path, text, options);
}

export function formatWarning(file: string, w: PolicyWarning): string {
  return `${w.line === undefined ? file : `${file}:${w.line}`}: warning: ${w.message}`;
}
