import { homedir } from 'node:os';
import {
  credentialStorePath,
  readSignIns,
  type SignIn,
  type SignIns,
  writeSignIns,
} from '../../client/credential-store.ts';
import { credentialSet, responseStatus, underPrefix } from '../../client/goauth.ts';
import { readBounded } from '../../core/read-bounded.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';
import { clientTrust, postJson, reasonOf, unreachable } from './modgate-api.ts';

export const CREDENTIAL_USAGE = `usage: modgate credential [URL]

The go command's GOAUTH helper (go 1.24 and later):

  go env -w GOAUTH='modgate credential'

Prints a short-lived access token for every modgate you signed in to with
'modgate login', refreshing it from the sign-in when it is about to expire or
when go got 401 for URL. Sign-ins are kept in $MODGATE_CREDENTIALS, else
$XDG_CONFIG_HOME/modgate/credentials.json (~/.config/...), mode 0600.`;

/** An access token with less left than this is refreshed before go gets it (ms). */
const REFRESH_MARGIN_MS = 60_000;
/** Bound on one refresh call: go waits for the helper (ms). */
const REFRESH_TIMEOUT_MS = 10_000;
/** Bound on reading the response go writes to stdin (ms, bytes). */
const STDIN_TIMEOUT_MS = 2_000;
const MAX_STDIN_BYTES = 64 * 1024;

/** `modgate credential [URL]`: 0 with credential sets on stdout, 1 when a sign-in go needs has ended. */
export async function credentialCommand(
  argv: string[],
  io: CommandIo = PROCESS_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
  stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin,
): Promise<number> {
  if (argv.length > 1 || argv[0]?.startsWith('-')) {
    io.err(`${CREDENTIAL_USAGE}\n`);
    return 2;
  }
  const url = argv[0];
  const file = credentialStorePath(env, homedir());
  const fail = (message: string) => {
    io.err(`modgate credential: ${message}\n`);
    return 1;
  };
  let signIns: SignIns;
  try {
    signIns = await readSignIns(file);
  } catch (err) {
    return fail(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (Object.keys(signIns).length === 0) {
    return fail('not signed in to any modgate; run: modgate login <https://modgate-url>');
  }
  // After a 401 for one of our URLs, that sign-in's access token is refreshed whatever its age.
  const status = url === undefined ? undefined : responseStatus(await readStdin(stdin));
  const next: Record<string, SignIn> = { ...signIns };
  let changed = false;
  let out = '';
  let ended = false;
  for (const [key, signIn] of Object.entries(signIns)) {
    const rejected = status === 401 && url !== undefined && underPrefix(signIn.url, url);
    const fresh = Date.parse(signIn.expiresAt) - Date.now() > REFRESH_MARGIN_MS;
    if (fresh && !rejected) {
      out += credentialSet(signIn.url, signIn.token);
      continue;
    }
    const refreshed = await refresh(signIn, env);
    if (typeof refreshed === 'string') {
      io.err(`modgate credential: ${refreshed}\n`);
      ended ||= rejected || !fresh;
      if (fresh) out += credentialSet(signIn.url, signIn.token);
      continue;
    }
    next[key] = refreshed;
    changed = true;
    out += credentialSet(refreshed.url, refreshed.token);
  }
  if (changed) await writeSignIns(file, next).catch(() => undefined);
  if (ended) return 1;
  io.out(out);
  return 0;
}

/** A new access token for `signIn`, or the one-line reason it could not be had. */
async function refresh(
  signIn: SignIn,
  env: Readonly<Record<string, string | undefined>>,
): Promise<SignIn | string> {
  const base = new URL(`${signIn.url}/`);
  const again = `run: modgate login ${signIn.url}`;
  try {
    const answer = await postJson(
      base,
      '_modgate/tokens/refresh',
      {},
      {
        store: await clientTrust(env, signIn.ca),
        authorization: `Bearer ${signIn.refreshToken}`,
        timeoutMs: REFRESH_TIMEOUT_MS,
      },
    );
    const b = answer.body;
    if (answer.status === 200 && typeof b?.token === 'string' && typeof b.expires_at === 'string') {
      return { ...signIn, token: b.token, expiresAt: b.expires_at };
    }
    if (answer.status === 401 || answer.status === 403) {
      return `your sign-in to ${signIn.url} as ${signIn.user} has ended (${reasonOf(answer)}); ${again}`;
    }
    return `${signIn.url} did not refresh the token (${reasonOf(answer)})`;
  } catch (err) {
    return `${unreachable(base, err)}; the token was not refreshed`;
  }
}

/** What go wrote to stdin (its response), bounded in size and time; empty on a terminal. */
async function readStdin(stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string> {
  if (stdin.isTTY === true) return '';
  const timer = new Promise<string>((resolve) => setTimeout(() => resolve(''), STDIN_TIMEOUT_MS).unref());
  const read = readBounded(stdin as import('node:stream').Readable, MAX_STDIN_BYTES, 'destroy').then(
    (r) => r.bytes.toString('utf8'),
    () => '',
  );
  const text = await Promise.race([read, timer]);
  // What go did not close in time is not waited for: the process must end.
  (stdin as import('node:stream').Readable).destroy();
  return text;
}
