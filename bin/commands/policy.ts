import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { canonicalVersion, checkPath } from '../../core/gomod/module.ts';
import { formatProblem, type YamlProblem } from '../../core/yaml-validate.ts';
import { parseCases, runCases } from '../../policies/cases.ts';
import { explain, renderExplanation } from '../../policies/explain.ts';
import { loadPolicyFile, type PolicyLoadResult } from '../../policies/load.ts';
import { parseExpiry } from '../../policies/schema.ts';
import type { CompiledPolicy } from '../../policies/types.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';

/** The policy file the subcommands read when not told otherwise (relative to the working directory). */
export const DEFAULT_POLICY_FILE = 'policies/policy.yaml';

export const POLICY_USAGE = `usage: modgate policy check [file]
       modgate policy explain [--policy file] --user NAME [--group NAME ...]
                              [--published TIME] [--now TIME] <module>[@version]
       modgate policy test [--policy file] [--verbose] <cases.yaml>

check    validates a policy file (default ${DEFAULT_POLICY_FILE}): prints every
         error as file:line: path: message, then warnings and a summary;
         exit status 1 when there are errors.
explain  the decision for a user (and their groups) and a module version: the
         rule that decided, its reason, and why other rules that name the
         user or the module did not decide. Without @version, the decision
         for the whole module (what @v/list and @latest see first).
         --published: the version's publish time (RFC 3339), for min_age rules.
         --now: evaluate at this time (RFC 3339 or a date) instead of now.
test     runs a cases file (see policies/policy.example-cases.yaml); prints one
         line per failing case and a summary; exit status 1 when a case fails.
         The policy is --policy, else the file's \`policy:\`, else ${DEFAULT_POLICY_FILE}.`;

/** Thrown for bad command lines: printed with the usage, exit status 2. */
class UsageError extends Error {}

/** `modgate policy <check|explain|test>`; returns the exit status. */
export async function policyCommand(argv: string[], io: CommandIo = PROCESS_IO): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'check':
        return await check(rest, io);
      case 'explain':
        return await explainCommand(rest, io);
      case 'test':
        return await testCommand(rest, io);
      default:
        throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`);
    }
  } catch (err) {
    const parseArgsError =
      err instanceof TypeError && String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (!(err instanceof UsageError) && !parseArgsError) throw err;
    io.err(`modgate policy: ${(err as Error).message}\n\n${POLICY_USAGE}\n`);
    return 2;
  }
}

async function check(argv: string[], io: CommandIo): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true });
  if (positionals.length > 1) throw new UsageError('check takes one file');
  const file = positionals[0] ?? DEFAULT_POLICY_FILE;
  const loaded = await loadPolicyFile(file);
  if (!reportProblems(file, loaded, io)) return 1;
  for (const w of loaded.warnings) io.out(`${w}\n`);
  const p = loaded.policy;
  const warned = loaded.warnings.length === 0 ? '' : `, ${plural(loaded.warnings.length, 'warning')}`;
  io.out(`${file}: ok: ${plural(p.ruleCount, 'rule')}, mode ${p.mode}, version ${p.version}${warned}\n`);
  return 0;
}

async function explainCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      policy: { type: 'string' },
      user: { type: 'string' },
      group: { type: 'string', multiple: true },
      published: { type: 'string' },
      now: { type: 'string' },
    },
  });
  if (values.user === undefined || values.user === '') throw new UsageError('explain needs --user');
  if (positionals.length !== 1) throw new UsageError('explain takes one <module>[@version]');
  const target = positionals[0]!;
  const at = target.indexOf('@');
  const module = at < 0 ? target : target.slice(0, at);
  const version = at < 0 ? undefined : target.slice(at + 1);
  try {
    checkPath(module);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (version !== undefined && canonicalVersion(version) !== version) {
    const hint = canonicalVersion(version) === '' ? '' : ` (did you mean ${canonicalVersion(version)}?)`;
    throw new UsageError(`"${version}" is not a canonical version such as v1.2.3${hint}`);
  }
  const publishedAt =
    values.published === undefined ? undefined : new Date(time('--published', values.published));
  const now = values.now === undefined ? undefined : time('--now', values.now);
  const file = values.policy ?? DEFAULT_POLICY_FILE;
  const policy = await loadOrReport(file, io);
  if (policy === undefined) return 1;
  const subject = { user: values.user, groups: values.group ?? [] };
  const explanation = explain(policy, { subject, module, version, publishedAt, now });
  io.out(renderExplanation(explanation, target));
  return 0;
}

async function testCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { policy: { type: 'string' }, verbose: { type: 'boolean', short: 'v' } },
  });
  if (positionals.length !== 1) throw new UsageError('test takes one cases file');
  const casesPath = positionals[0]!;
  let text: string;
  try {
    text = await readFile(casesPath, 'utf8');
  } catch (err) {
    io.err(`modgate policy: cannot read ${casesPath}: ${(err as NodeJS.ErrnoException).code}\n`);
    return 1;
  }
  const cases = parseCases(text);
  if (!cases.ok) {
    for (const p of byLine(cases.problems)) io.out(`${formatProblem(casesPath, p)}\n`);
    io.out(`${casesPath}: ${plural(cases.problems.length, 'error')}\n`);
    return 1;
  }
  const policyFile =
    values.policy ??
    (cases.file.policy === undefined ? DEFAULT_POLICY_FILE : join(dirname(casesPath), cases.file.policy));
  const policy = await loadOrReport(policyFile, io);
  if (policy === undefined) return 1;
  const results = runCases(policy, cases.file, cases.lineOf);
  let failed = 0;
  for (const r of results) {
    const where = r.line === undefined ? casesPath : `${casesPath}:${r.line}`;
    if (r.failures.length > 0) {
      failed++;
      io.out(`${where}: FAIL ${r.name}: ${r.failures.join('; ')}\n`);
    } else if (values.verbose === true) {
      io.out(`${where}: ok ${r.name}\n`);
    }
  }
  const summary = `${plural(results.length, 'case')}: ${results.length - failed} passed, ${failed} failed`;
  io.out(`${summary} (policy ${policyFile}, version ${policy.version})\n`);
  return failed > 0 ? 1 : 0;
}

/** Loads a policy; on problems prints them (exit status 1 follows) and returns undefined. */
async function loadOrReport(file: string, io: CommandIo): Promise<CompiledPolicy | undefined> {
  const loaded = await loadPolicyFile(file);
  return reportProblems(file, loaded, io) ? loaded.policy : undefined;
}

function reportProblems(
  file: string,
  loaded: PolicyLoadResult,
  io: CommandIo,
): loaded is Extract<PolicyLoadResult, { ok: true }> {
  if (loaded.ok) return true;
  for (const p of byLine(loaded.problems)) io.out(`${formatProblem(file, p)}\n`);
  io.out(`${file}: ${plural(loaded.problems.length, 'error')}\n`);
  return false;
}

/** An RFC 3339 time or a date, in ms since epoch. */
function time(flag: string, text: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : parseExpiry(text);
  if (ms === undefined || Number.isNaN(ms))
    throw new UsageError(`${flag} must be an RFC 3339 time such as 2026-01-31T12:00:00Z`);
  return ms;
}

/** Problems in file order (the schema reports unknown keys and file-wide checks last). */
function byLine(problems: readonly YamlProblem[]): YamlProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
