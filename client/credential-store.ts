/**
 * Where `modgate credential` (the GOAUTH helper) keeps its sign-ins: one
 * JSON file, mode 0600 in a 0700 folder, one entry per modgate URL with the
 * refresh token of `modgate login` and the current short-lived access token.
 * A file, not an OS keyring: the helper runs non-interactively under go
 * (CI, SSH sessions, containers), where no keyring is unlocked.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** One sign-in, as `modgate login` stored it and `modgate credential` refreshes it. */
export interface SignIn {
  /** modgate's base URL, the GOAUTH prefix (`https://host[:port][/path]`, no trailing slash). */
  readonly url: string;
  readonly user: string;
  readonly refreshToken: string;
  /** ISO time the refresh token (the sign-in) ends. */
  readonly refreshExpiresAt: string;
  readonly token: string;
  /** ISO time the access token ends. */
  readonly expiresAt: string;
  /** A CA file to trust for modgate besides go's roots (`modgate login --ca`). */
  readonly ca?: string | undefined;
}

export type SignIns = Readonly<Record<string, SignIn>>;

/** `$MODGATE_CREDENTIALS`, else `$XDG_CONFIG_HOME/modgate/credentials.json`, else `~/.config/modgate/credentials.json`. */
export function credentialStorePath(env: Readonly<Record<string, string | undefined>>, home: string): string {
  if ((env.MODGATE_CREDENTIALS ?? '') !== '') return env.MODGATE_CREDENTIALS!;
  const config = (env.XDG_CONFIG_HOME ?? '') !== '' ? env.XDG_CONFIG_HOME! : join(home, '.config');
  return join(config, 'modgate', 'credentials.json');
}

/** The key of a modgate URL in the store: origin and path, without a trailing slash. */
export function signInKey(base: URL): string {
  return `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
}

/** The sign-ins in `file`; none when it does not exist. Throws on a file that is not one of ours. */
export async function readSignIns(file: string): Promise<SignIns> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} is not a modgate credential store`);
  }
  const out: Record<string, SignIn> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (isSignIn(value)) out[key] = value;
  }
  return out;
}

/** Writes `signIns` to `file` atomically (a 0600 temp file renamed over it), in a 0700 folder. */
export async function writeSignIns(file: string, signIns: SignIns): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(signIns, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}

function isSignIn(v: unknown): v is SignIn {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return ['url', 'user', 'refreshToken', 'refreshExpiresAt', 'token', 'expiresAt'].every(
    (k) => typeof s[k] === 'string',
  );
}
