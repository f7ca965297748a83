import { spawn } from 'node:child_process';
import { homedir, hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { NETRC_HOST_PORT_SINCE, netrcMachineFor, shellQuote, splitGlobs } from '../../client/go-env.ts';
import { netrcPath } from '../../client/netrc.ts';
import { readNetrcFile, setNetrcEntries, writeNetrcFile } from '../../client/netrc-write.ts';
import { isModgateError } from '../../core/errors.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';
import { credentialCommandLine, keepSignIn, loginMethod } from './login-goauth.ts';
import {
  type ApiAnswer,
  clientTrust,
  commandTarget,
  goproxyValue,
  postJson,
  reasonOf,
  trusted,
  unreachable,
} from './modgate-api.ts';

export const LOGIN_USAGE = `usage: modgate login <https://modgate-url> [--use goauth|netrc] [--netrc FILE] [--name NAME] [--no-browser] [--ca FILE]

Signs you in through your company's identity provider (the OAuth device flow:
open the link shown, confirm the code, sign in), then prints the go settings
to use. With go 1.24 and later the sign-in is kept for GOAUTH='modgate
credential', which hands go short-lived tokens and refreshes them; older go
gets a personal token in your netrc file. Run it again to sign in again;
'modgate logout' revokes it.

  --use         goauth or netrc (default: netrc with --netrc, else goauth when
                'go' ($MODGATE_GO, else go on PATH) is 1.24 or later)
  --netrc       the netrc file to write (default $NETRC, else ~/.netrc); mode 0600,
                other entries are kept as they are
  --name        a label for the token in your token list (default: this machine's name)
  --no-browser  print the link only, do not open a browser
  --ca          a PEM file of the CA that issued modgate's certificate, trusted
                besides the system's and SSL_CERT_FILE's`;

/** Longest a login waits for approval, whatever the IdP allows (seconds). */
export const MAX_LOGIN_WAIT_S = 15 * 60;
/** Added to the poll interval on each `slow_down` (seconds; RFC 8628 §3.5). */
const SLOW_DOWN_STEP_S = 5;
/** Shortest poll interval, whatever the server says (seconds). */
const MIN_POLL_INTERVAL_S = 1;
/** Network failures in a row after which polling gives up. */
const MAX_POLL_FAILURES = 3;

/** What the token endpoint answers once the sign-in is approved. */
interface Approved {
  readonly token: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly expiresAt: string;
  readonly privatePatterns: readonly string[];
  /** GOAUTH logins: the sign-in `modgate credential` refreshes from. */
  readonly refreshToken: string | undefined;
  readonly refreshExpiresAt: string;
}

/** `modgate login <url>`; returns the exit status (0 signed in, 1 failed, 2 usage). */
export async function loginCommand(
  argv: string[],
  io: CommandIo = PROCESS_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      netrc: { type: 'string' },
      name: { type: 'string' },
      'no-browser': { type: 'boolean', default: false },
      ca: { type: 'string' },
      use: { type: 'string' },
    },
  });
  const base = commandTarget('login', LOGIN_USAGE, positionals, io);
  if (typeof base === 'number') return base;
  const fail = (message: string) => {
    io.err(`modgate login: ${message}\n`);
    return 1;
  };
  const method = await loginMethod(values.use, values.netrc, env);
  if (typeof method === 'string') return fail(method);
  const store = await clientTrust(env, values.ca);
  let started: ApiAnswer;
  try {
    started = await postJson(base, '/_modgate/login/device', {}, { store });
  } catch (err) {
    return fail(unreachable(base, err));
  }
  const device = started.body;
  if (started.status !== 200 || device === undefined || typeof device.device_code !== 'string') {
    return fail(reasonOf(started));
  }
  const link = String(device.verification_uri_complete ?? device.verification_uri);
  io.out(`To sign in, open ${link}\nand confirm the code ${String(device.user_code)}\n`);
  if (!values['no-browser']) openBrowser(link, env);
  io.out('Waiting for you to sign in...\n');

  const name = values.name ?? `modgate login on ${hostname()}`;
  const approved = await poll(base, store, device, name, method.method === 'goauth');
  if (typeof approved === 'string') return fail(approved);
  if (method.method === 'goauth') return goauthLogin(base, approved, values.ca, env, io, method.why);

  const file = values.netrc ?? netrcPath(env, homedir());
  const machines = [
    ...new Set([netrcMachineFor(base, { major: 1, minor: 0 }), netrcMachineFor(base, NETRC_HOST_PORT_SINCE)]),
  ];
  try {
    const before = await readNetrcFile(file);
    const edit = setNetrcEntries(
      before.text,
      machines.map((machine) => ({ machine, login: approved.user, password: approved.token })),
    );
    await writeNetrcFile(file, edit.text);
    const loose = before.mode !== undefined && (before.mode & 0o077) !== 0;
    io.out(
      `Signed in as ${approved.user}${approved.groups.length > 0 ? ` (${approved.groups.join(', ')})` : ''}; the token expires ${approved.expiresAt}.\n` +
        `Wrote ${machines.map((m) => `"machine ${m}"`).join(' and ')} to ${file}` +
        `${edit.removed > 0 ? `, replacing ${edit.removed} old entr${edit.removed === 1 ? 'y' : 'ies'}` : ''}` +
        `${loose ? ` (its mode was 0${before.mode!.toString(8)}, now 0600)` : ''}.\n`,
    );
  } catch (err) {
    const why = isModgateError(err) ? err.message : String((err as Error).message ?? err);
    return fail(`signed in, but could not write ${file}: ${why}`);
  }
  io.out(await goSettings(base, approved, env, values.ca, file));
  return 0;
}

/** Polls the token endpoint until approval, a refusal, or the codes expire; a string is the reason it failed. */
async function poll(
  base: URL,
  store: Awaited<ReturnType<typeof clientTrust>>,
  device: Record<string, unknown>,
  name: string,
  goauth: boolean,
): Promise<Approved | string> {
  const expiresIn = typeof device.expires_in === 'number' ? device.expires_in : MAX_LOGIN_WAIT_S;
  const deadline = Date.now() + Math.min(expiresIn, MAX_LOGIN_WAIT_S) * 1000;
  let interval = Math.max(MIN_POLL_INTERVAL_S, typeof device.interval === 'number' ? device.interval : 5);
  let failures = 0;
  for (;;) {
    await sleep(interval * 1000);
    if (Date.now() > deadline)
      return 'the code expired before the sign-in was approved; run modgate login again';
    let answer: ApiAnswer;
    try {
      answer = await postJson(
        base,
        '/_modgate/login/device/token',
        {
          device_code: String(device.device_code),
          name,
          ...(goauth ? { goauth: '1' } : {}),
        },
        { store },
      );
      failures = 0;
    } catch (err) {
      failures += 1;
      if (failures >= MAX_POLL_FAILURES) return unreachable(base, err);
      continue;
    }
    const error = answer.body?.error;
    if (answer.status === 200) return approvedFrom(answer);
    if (error === 'authorization_pending') continue;
    if (error === 'slow_down') {
      interval += SLOW_DOWN_STEP_S;
      continue;
    }
    return reasonOf(answer);
  }
}

function approvedFrom(answer: ApiAnswer): Approved | string {
  const b = answer.body ?? {};
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  if (typeof b.token !== 'string' || typeof b.user !== 'string') return 'modgate answered without a token';
  return {
    token: b.token,
    user: b.user,
    groups: strings(b.groups),
    expiresAt: typeof b.expires_at === 'string' ? b.expires_at : 'at an unknown time',
    privatePatterns: strings(b.private_patterns),
    refreshToken: typeof b.refresh_token === 'string' ? b.refresh_token : undefined,
    refreshExpiresAt: typeof b.refresh_expires_at === 'string' ? b.refresh_expires_at : 'at an unknown time',
  };
}

/** The GOAUTH end of a login: keep the sign-in for `modgate credential`, print the settings. */
async function goauthLogin(
  base: URL,
  approved: Approved,
  ca: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  io: CommandIo,
  why: string,
): Promise<number> {
  if (approved.refreshToken === undefined) {
    io.err('modgate login: modgate answered without a sign-in for GOAUTH; try --use netrc\n');
    return 1;
  }
  let file: string;
  try {
    file = await keepSignIn(base, { ...approved, refreshToken: approved.refreshToken }, ca, env);
  } catch (err) {
    io.err(`modgate login: signed in, but could not keep the sign-in: ${(err as Error).message}\n`);
    return 1;
  }
  io.out(
    `Signed in as ${approved.user}${approved.groups.length > 0 ? ` (${approved.groups.join(', ')})` : ''} for GOAUTH (${why}); the sign-in lasts until ${approved.refreshExpiresAt}.\n` +
      `Kept it in ${file} (mode 0600); 'modgate credential' gives go short-lived tokens from it and refreshes them.\n`,
  );
  io.out(await goSettings(base, approved, env, ca, undefined));
  return 0;
}

/** The go settings to export, as shell lines with a word on each. */
async function goSettings(
  base: URL,
  approved: Approved,
  env: Readonly<Record<string, string | undefined>>,
  ca: string | undefined,
  file: string | undefined,
): Promise<string> {
  const lines = [
    '',
    'Point go at modgate (e.g. in ~/.profile):',
    `  export GOPROXY=${shellQuote(goproxyValue(base))}`,
  ];
  if (approved.privatePatterns.length > 0) {
    const noSumDb = [...new Set([...splitGlobs(env.GONOSUMDB ?? ''), ...approved.privatePatterns])];
    lines.push(
      `  export GONOSUMDB=${shellQuote(noSumDb.join(','))}   # private modules: not in the public checksum DB`,
    );
    if ((env.GOPRIVATE ?? '') !== '' && (env.GONOPROXY ?? '') === '') {
      lines.push('  export GONOPROXY=none   # GOPRIVATE would send private modules around modgate');
    }
  }
  if (file === undefined) {
    lines.push(`  export GOAUTH=${shellQuote(credentialCommandLine())}`);
  } else if (file !== netrcPath(env, homedir())) {
    lines.push(`  export NETRC=${shellQuote(file)}`);
  }
  if (
    ca !== undefined &&
    env.SSL_CERT_FILE !== ca &&
    !(await trusted(base, await clientTrust(env, undefined)))
  ) {
    lines.push(`  export SSL_CERT_FILE=${shellQuote(ca)}   # go must trust modgate's CA too`);
  }
  lines.push("Then 'modgate doctor' checks the whole setup.", '');
  return lines.join('\n');
}

/** Opens `link` in a browser when there is a desktop to show it on; never in CI. Failures are ignored. */
function openBrowser(link: string, env: Readonly<Record<string, string | undefined>>): void {
  if ((env.CI ?? '') !== '') return;
  const command =
    process.platform === 'darwin'
      ? 'open'
      : (env.DISPLAY ?? '') !== '' || (env.WAYLAND_DISPLAY ?? '') !== ''
        ? 'xdg-open'
        : undefined;
  if (command === undefined) return;
  try {
    const child = spawn(command, [link], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
  } catch {
    // No browser: the link is printed anyway.
  }
}
