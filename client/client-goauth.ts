/**
 * `modgate doctor`'s GOAUTH check (go ≥1.24): when GOAUTH names a command,
 * it is run as go runs it and must print a credential set for modgate's URL;
 * its Authorization header is what the probe then sends.
 */
import { execFile } from 'node:child_process';
import { type CheckOutcome, outcome } from '../core/check.ts';
import type { GoSettings } from './client-go.ts';
import type { CredentialFindings } from './client-netrc.ts';
import { atLeast, NETRC_HOST_PORT_SINCE } from './go-env.ts';
import { underPrefix } from './goauth.ts';

/** Bound on one run of the GOAUTH command (ms). */
const GOAUTH_TIMEOUT_MS = 20_000;
/** GOAUTH methods go implements itself (not commands). */
const BUILT_IN = new Set(['off', 'netrc', 'git']);

/** The GOAUTH command doctor runs, or undefined when go reads credentials itself (netrc, git, off) or predates GOAUTH. */
export function goauthCommand(go: GoSettings): string | undefined {
  if (go.release === undefined || !atLeast(go.release, NETRC_HOST_PORT_SINCE)) return undefined;
  const commands = go.vars.GOAUTH.split(';').map((c) => c.trim());
  return commands.find((c) => c !== '' && !BUILT_IN.has(c.split(/\s+/)[0]!));
}

/** Runs the GOAUTH command and finds the credential set that covers `modgate`. */
export async function checkGoauth(
  go: GoSettings,
  command: string,
  modgate: URL,
): Promise<CredentialFindings> {
  const base = modgate.href.replace(/\/$/, '');
  const run = await runCommand(command, go.environment);
  if (typeof run !== 'string') {
    const said = run.stderr.trim().split('\n')[0] ?? '';
    return failed(`GOAUTH=${command} failed${said === '' ? '' : `: ${said}`}`, command);
  }
  const sets = parseSets(run);
  const match = sets.find((s) => underPrefix(s.prefix, base));
  if (match === undefined) {
    return failed(`GOAUTH=${command} printed no credential for ${base}`, command);
  }
  return {
    outcomes: [{ name: 'GOAUTH', outcome: outcome.ok(`${command} gives a credential for ${match.prefix}`) }],
    credentials: {
      login: 'the GOAUTH token',
      password: '',
      source: `GOAUTH=${command}`,
      authorization: match.authorization,
    },
  };
}

function failed(message: string, command: string): CredentialFindings {
  const fix = command.includes('credential')
    ? 'modgate login <https://modgate-url>'
    : 'fix the GOAUTH command';
  const o: CheckOutcome = outcome.fail(message, fix);
  return { outcomes: [{ name: 'GOAUTH', outcome: o }], credentials: undefined };
}

/** Credential sets as go parses them: URL lines, a blank line, header lines, a blank line. */
function parseSets(text: string): { prefix: string; authorization: string | undefined }[] {
  const sets: { prefix: string; authorization: string | undefined }[] = [];
  for (const block of text.split(/\n\n(?=https?:)/)) {
    const [urls = '', headers = ''] = block.split('\n\n');
    const authorization = headers
      .split('\n')
      .find((h) => h.toLowerCase().startsWith('authorization: '))
      ?.slice('authorization: '.length)
      .trim();
    for (const url of urls.split('\n').filter(Boolean))
      sets.push({ prefix: url.replace(/\/$/, ''), authorization });
  }
  return sets;
}

/** Runs `command` split as go splits it (quoted words), with no URL and no stdin. */
function runCommand(
  command: string,
  environment: Readonly<Record<string, string | undefined>>,
): Promise<string | { stderr: string }> {
  const words = [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
  const env = Object.fromEntries(
    Object.entries(environment).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return new Promise((resolve) => {
    execFile(words[0]!, words.slice(1), { env, timeout: GOAUTH_TIMEOUT_MS }, (err, stdout, stderr) =>
      resolve(err ? { stderr: stderr || String(err.message) } : stdout),
    );
  });
}
