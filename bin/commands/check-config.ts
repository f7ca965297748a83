import { parseArgs } from 'node:util';
import { LdapDirectory } from '../../auth/ldap-directory.ts';
import { type CheckResult, DEFAULT_CHECK_TIMEOUT_MS, runChecks } from '../../core/check.ts';
import { parseDuration } from '../../core/duration.ts';
import { isModgateError } from '../../core/errors.ts';
import { loadGatewayConfig } from '../../gateway/config/load.ts';
import type { GatewaySettings } from '../../gateway/config/settings.ts';
import { dependencyChecks } from '../../gateway/ops/checks/dependencies.ts';
import { type BuiltUpstreams, buildUpstreams } from '../../gateway/upstreams/build.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';

/** The config file check-config reads when neither --config nor $MODGATE_CONFIG names one. */
export const DEFAULT_CONFIG_FILE = 'gateway.yaml';

export const CHECK_CONFIG_USAGE = `usage: modgate check-config [--config FILE] [--offline] [--user NAME] [--timeout DURATION]

Validates gateway.yaml (--config, else $MODGATE_CONFIG, else ./${DEFAULT_CONFIG_FILE}) as
'modgate serve' would, then the TLS certificate and the policy file it names
(routes must name defined upstreams and credentials), then tries every
dependency: the LDAP service bind, each upstream's @v/list of its
probe_module, Redis and the identity provider when configured.

Prints one line per item — ok, WARN, FAIL (with what to fix) or skip — and
exits 1 when anything failed.

  --offline   validation only: files, certificate, policy; no network
  --user      also find this user in the LDAP directory with user_filter
  --timeout   bound on each dependency check (default ${DEFAULT_CHECK_TIMEOUT_MS / 1000}s)`;

/** `modgate check-config`; returns the exit status (0 fine, 1 something failed, 2 usage). */
export async function checkConfigCommand(
  argv: string[],
  io: CommandIo = PROCESS_IO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      config: { type: 'string' },
      offline: { type: 'boolean', default: false },
      user: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const timeoutMs = values.timeout === undefined ? DEFAULT_CHECK_TIMEOUT_MS : parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    io.err(`modgate check-config: --timeout "${values.timeout}" is not a duration such as 5s\n`);
    return 2;
  }
  const file = values.config ?? env.MODGATE_CONFIG ?? DEFAULT_CONFIG_FILE;

  const loaded = await loadConfig(file);
  if ('problems' in loaded) {
    const [first = '', ...rest] = loaded.problems;
    io.out(`${line('FAIL', `config ${file}`, first, `fix ${file} and run again`)}\n`);
    for (const more of rest) io.out(`     ${more}\n`);
    io.out('check-config: the configuration is invalid\n');
    return 1;
  }
  const { settings, routing } = loaded;
  try {
    io.out(`${line('ok', `config ${file}`, describeSettings(settings), undefined)}\n`);
    const checks = dependencyChecks(settings, routing, { offline: values.offline, user: values.user });
    const results = await runChecks(checks, timeoutMs);
    for (const r of results) io.out(render(r));
    io.out(`${summary(results)}\n`);
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await routing.close();
  }
}

/**
 * Loads gateway.yaml and builds what `serve` would build before listening
 * (upstreams, credentials, the directory's filter templates), so a config
 * that passes here also starts. Nothing connects yet.
 */
async function loadConfig(
  file: string,
): Promise<{ settings: GatewaySettings; routing: BuiltUpstreams } | { problems: string[] }> {
  let settings: GatewaySettings;
  let routing: BuiltUpstreams;
  try {
    settings = loadGatewayConfig(file);
    routing = buildUpstreams(settings, () => {});
  } catch (err) {
    if (!isModgateError(err)) throw err;
    // The first line is `<absolute path>: N problem(s)`; the path is printed already.
    const [first = '', ...rest] = err.message.split('\n');
    return { problems: [first.replace(/^.*: (\d+ problem\(s\))$/, '$1'), ...rest] };
  }
  if (settings.directory.kind === 'ldap') {
    try {
      await new LdapDirectory(settings.directory.options).close();
    } catch (err) {
      await routing.close();
      if (!isModgateError(err)) throw err;
      return { problems: [err.message] };
    }
  }
  return { settings, routing };
}

function describeSettings(s: GatewaySettings): string {
  const upstreams = Object.keys(s.upstreams);
  const credentials = Object.keys(s.credentials).length;
  const listen = `${'cert' in s.tls ? 'https' : 'http (behind a TLS terminator)'} on ${s.listen.host}:${s.listen.port}`;
  return [
    `valid; ${listen}`,
    `${s.directory.kind} directory`,
    `${upstreams.length} upstream${upstreams.length === 1 ? '' : 's'} (${upstreams.join(', ')}; default ${s.defaultUpstream})`,
    `${credentials} credential${credentials === 1 ? '' : 's'}`,
  ].join(', ');
}

const LABELS = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' } as const;

/** `FAIL upstream athens https://…: detail — fix: …` then the extra lines, indented. */
export function render(r: CheckResult): string {
  const name = r.target === undefined ? r.name : `${r.name} ${r.target}`;
  const more = r.more.map((m) => `     ${m}\n`).join('');
  return `${line(LABELS[r.status], name, r.detail, r.fix)}\n${more}`;
}

function line(label: string, name: string, detail: string, fix: string | undefined): string {
  return `${label.padEnd(4)} ${name}: ${detail}${fix === undefined ? '' : ` — fix: ${fix}`}`;
}

function summary(results: readonly CheckResult[]): string {
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  if (failed > 0) return `check-config: ${failed} of ${results.length} checks failed`;
  if (warned > 0) return `check-config: no failures, ${warned} warning${warned === 1 ? '' : 's'}`;
  return 'check-config: everything checked is fine';
}
