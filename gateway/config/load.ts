import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { ModgateError } from '../../core/errors.ts';
import { unsafeWarnings } from '../../core/unsafe-settings.ts';
import {
  deepFreeze,
  formatProblem,
  joinKeyPath,
  parseYamlWith,
  type YamlProblem,
} from '../../core/yaml-validate.ts';
import {
  gatewayConfigSchema,
  gatewayRulesSchema,
  gatewaySettingsSchema,
  RENAMED_CONFIG_KEYS,
} from './schema.ts';
import { inConfigFolder } from './secrets.ts';
import type { GatewaySettings } from './settings.ts';

/**
 * Loads `gateway.yaml`: shape (schema), cross-field rules, then secrets and
 * files. Reports every problem at once with key path and line, as one
 * ModgateError('config.invalid').
 */
export function loadGatewayConfig(file: string): GatewaySettings {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ModgateError(
      'config.invalid',
      `cannot read config ${path}: ${(cause as NodeJS.ErrnoException).code}`,
    );
  }
  return settingsFromYaml(path, text);
}

/**
 * The same as loadGatewayConfig for text already read (tests, embedded
 * defaults). Three steps, each only when the one before found no problem:
 * the shape, the cross-field rules, then secrets and paths.
 */
export function settingsFromYaml(path: string, text: string): GatewaySettings {
  const parsed = parseYamlWith(text, gatewayConfigSchema, { renamedKeys: RENAMED_CONFIG_KEYS });
  if (!parsed.ok) throw invalid(path, parsed.problems);
  const problems = (issues: readonly z.core.$ZodIssue[]): YamlProblem[] =>
    issues.map((issue) => ({
      path: joinKeyPath(issue.path),
      line: parsed.lineOf(issue.path),
      message: issue.message,
    }));
  const ruled = gatewayRulesSchema.safeParse(parsed.value);
  if (!ruled.success) throw invalid(path, problems(ruled.error.issues));
  const resolved = inConfigFolder(dirname(path), () => gatewaySettingsSchema.safeParse(parsed.input));
  if (!resolved.success) throw invalid(path, problems(resolved.error.issues));
  return deepFreeze({
    ...resolved.data,
    unsafeSettings: unsafeWarnings(gatewayConfigSchema, parsed.value, path, parsed.lineOf),
  });
}

function invalid(file: string, problems: readonly YamlProblem[]): ModgateError {
  const lines = problems.map((p) => formatProblem(file, p));
  return new ModgateError('config.invalid', `${file}: ${lines.length} problem(s)\n${lines.join('\n')}`, {
    detail: { problems },
  });
}
