import { homedir } from 'node:os';
import { credentialStorePath, readSignIns, signInKey, writeSignIns } from '../../client/credential-store.ts';

/**
 * `modgate logout` for a GOAUTH sign-in: revokes its refresh token (which
 * revokes every access token refreshed from it) and forgets it. Undefined
 * when there is no sign-in for `base`.
 */
export async function forgetSignIn(
  base: URL,
  env: Readonly<Record<string, string | undefined>>,
  revoke: (
    login: string,
    token: string,
    ca: string | undefined,
  ) => Promise<{ revoked: boolean; message: string }>,
): Promise<{ revoked: boolean; message: string } | undefined> {
  const file = credentialStorePath(env, homedir());
  const key = signInKey(base);
  const signIns = await readSignIns(file).catch(() => ({}) as Awaited<ReturnType<typeof readSignIns>>);
  const signIn = signIns[key];
  if (signIn === undefined) return undefined;
  const outcome = await revoke(signIn.user, signIn.refreshToken, signIn.ca);
  const { [key]: _gone, ...rest } = signIns;
  await writeSignIns(file, rest);
  return {
    revoked: outcome.revoked,
    message: `${outcome.message} Forgot the sign-in for GOAUTH in ${file}.`,
  };
}
