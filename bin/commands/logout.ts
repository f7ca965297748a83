import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { isPatShaped, PAT_PREFIX } from '../../auth/pat/token-format.ts';
import { NETRC_HOST_PORT_SINCE, netrcMachineFor } from '../../client/go-env.ts';
import { netrcEntryFor, netrcPath, parseNetrc } from '../../client/netrc.ts';
import { readNetrcFile, removeNetrcEntries, writeNetrcFile } from '../../client/netrc-write.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';
import { forgetSignIn } from './logout-goauth.ts';
import {
  type ApiAnswer,
  clientTrust,
  commandTarget,
  postJson,
  reasonOf,
  unreachable,
} from './modgate-api.ts';

export const LOGOUT_USAGE = `usage: modgate logout <https://modgate-url> [--netrc FILE] [--ca FILE]

Revokes the personal token that 'modgate login' wrote to your netrc file and
removes modgate's entries from it (other entries are kept as they are). If
modgate cannot be reached the entries are removed all the same, but the exit
status is 1: the token stays valid until it expires.

  --netrc   the netrc file (default $NETRC, else ~/.netrc)
  --ca      a PEM file of the CA that issued modgate's certificate`;

/** `modgate logout <url>`; returns the exit status (0 revoked or nothing to revoke, 1 not revoked, 2 usage). */
export async function logoutCommand(
  argv: string[],
  io: CommandIo = PROCESS_IO,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { netrc: { type: 'string' }, ca: { type: 'string' } },
  });
  const base = commandTarget('logout', LOGOUT_USAGE, positionals, io);
  if (typeof base === 'number') return base;
  const signedOut = await forgetSignIn(base, env, (login, token, ca) =>
    revoke(base, login, token, clientTrust(env, values.ca ?? ca)),
  );
  if (signedOut !== undefined) {
    if (signedOut.revoked) io.out(`${signedOut.message}\n`);
    else io.err(`${signedOut.message}\n`);
  }
  const file = values.netrc ?? netrcPath(env, homedir());
  const machines = [
    ...new Set([netrcMachineFor(base, NETRC_HOST_PORT_SINCE), netrcMachineFor(base, { major: 1, minor: 0 })]),
  ];
  const before = await readNetrcFile(file);
  const lines = parseNetrc(before.text);
  const entry = machines.map((m) => netrcEntryFor(lines, m)).find((e) => e !== undefined);
  let revoked = signedOut?.revoked ?? true;
  if (entry === undefined) {
    if (signedOut === undefined)
      io.out(`${file} has no entry for ${machines.join(' or ')}: nothing to revoke.\n`);
  } else if (!isPatShaped(entry.password)) {
    io.out(`The entry for ${entry.machine} holds a password, not a modgate token: nothing to revoke.\n`);
  } else {
    const outcome = await revoke(base, entry.login, entry.password, clientTrust(env, values.ca));
    revoked &&= outcome.revoked;
    if (revoked) io.out(`${outcome.message}\n`);
    else io.err(`${outcome.message}\n`);
  }
  const edit = removeNetrcEntries(before.text, machines);
  if (edit.removed > 0) {
    await writeNetrcFile(file, edit.text);
    io.out(`Removed ${machines.map((m) => `"machine ${m}"`).join(' and ')} from ${file}.\n`);
  }
  return revoked ? 0 : 1;
}

/** Asks modgate to revoke the token; a token modgate no longer accepts counts as revoked. */
async function revoke(
  base: URL,
  login: string,
  token: string,
  trust: ReturnType<typeof clientTrust>,
): Promise<{ revoked: boolean; message: string }> {
  const store = await trust;
  const basic = Buffer.from(`${login}:${token}`).toString('base64');
  const notRevoked = (why: string) => ({
    revoked: false,
    message: `modgate logout: ${why}; the token was NOT revoked and stays valid until ${expiryOf(token)}`,
  });
  let answer: ApiAnswer;
  try {
    answer = await postJson(
      base,
      '/_modgate/tokens/revoke-self',
      {},
      { store, authorization: `Basic ${basic}` },
    );
  } catch (err) {
    return notRevoked(unreachable(base, err));
  }
  if (answer.status === 200) return { revoked: true, message: 'Revoked the token at modgate.' };
  if (answer.status === 401) {
    return { revoked: true, message: `modgate no longer accepts the token (${reasonOf(answer)}).` };
  }
  return notRevoked(reasonOf(answer));
}

/** The token's expiry as it claims it (not verified: for the message only). */
function expiryOf(token: string): string {
  try {
    const { exp } = decodeJwt(token.slice(PAT_PREFIX.length));
    return exp === undefined ? 'it expires' : new Date(exp * 1000).toISOString();
  } catch {
    return 'it expires';
  }
}
