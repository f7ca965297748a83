/**
 * `modgate login` for GOAUTH (go ≥1.24): the sign-in is kept for
 * `modgate credential` instead of a token in the netrc file.
 */

import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { readGoSettings } from '../../client/client-go.ts';
import { credentialStorePath, readSignIns, signInKey, writeSignIns } from '../../client/credential-store.ts';
import { atLeast, NETRC_HOST_PORT_SINCE } from '../../client/go-env.ts';
import { goauthValue } from '../../client/goauth.ts';

export type LoginMethod = 'goauth' | 'netrc';

/** `--use`; netrc with `--netrc`; else GOAUTH for go ≥1.24 and netrc for older go (or no go at all); with the reason. */
export async function loginMethod(
  use: string | undefined,
  netrc: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ method: LoginMethod; why: string } | string> {
  if (use === 'goauth' || use === 'netrc') return { method: use, why: `--use ${use}` };
  if (use !== undefined) return `--use takes goauth or netrc, not "${use}"`;
  if (netrc !== undefined) return { method: 'netrc', why: '--netrc' };
  const { settings } = await readGoSettings(env.MODGATE_GO ?? 'go', env);
  if (settings.release === undefined) return { method: 'netrc', why: 'no go command found' };
  return atLeast(settings.release, NETRC_HOST_PORT_SINCE)
    ? { method: 'goauth', why: `${settings.version} reads GOAUTH` }
    : { method: 'netrc', why: `${settings.version} predates GOAUTH (go 1.24)` };
}

/** What the token endpoint answers a GOAUTH login. */
export interface SignedIn {
  readonly token: string;
  readonly user: string;
  readonly expiresAt: string;
  readonly refreshToken: string;
  readonly refreshExpiresAt: string;
}

/** Keeps the sign-in for `modgate credential`; returns the store's path. */
export async function keepSignIn(
  base: URL,
  signedIn: SignedIn,
  ca: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const file = credentialStorePath(env, homedir());
  const key = signInKey(base);
  const signIns = await readSignIns(file);
  await writeSignIns(file, {
    ...signIns,
    [key]: {
      url: key,
      user: signedIn.user,
      refreshToken: signedIn.refreshToken,
      refreshExpiresAt: signedIn.refreshExpiresAt,
      token: signedIn.token,
      expiresAt: signedIn.expiresAt,
      ca: ca === undefined ? undefined : realpathSync(ca),
    },
  });
  return file;
}

/** The GOAUTH value that runs this modgate's `credential` command as it is installed here. */
export function credentialCommandLine(): string {
  const script = process.argv[1];
  if (script === undefined) return 'modgate credential';
  return goauthValue([process.execPath, realpathSync(script), 'credential']);
}
