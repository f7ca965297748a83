/**
 * Doctor's credential check: where the go command gets modgate's credentials
 * from (userinfo in GOPROXY, else the netrc file), whether the netrc entry
 * has the `machine` form this go release looks up, and whether the file is
 * private to its owner.
 */
import { readFile, stat } from 'node:fs/promises';
import { type CheckOutcome, errorCode, outcome } from '../core/check.ts';
import { type GoSettings, setCommand } from './client-go.ts';
import {
  atLeast,
  NETRC_HOST_PORT_SINCE,
  netrcMachineFor,
  parseGoproxy,
  sameProxy,
  shellQuote,
} from './go-env.ts';
import { netrcEntryFor, parseNetrc } from './netrc.ts';

/** The credentials the go command would send modgate, and where they are. */
export interface ClientCredentials {
  readonly login: string;
  readonly password: string;
  /** `~/.netrc (machine host)`, `the GOPROXY URL` or `GOAUTH=…`. */
  readonly source: string;
  /** The whole Authorization header, when it is not Basic login:password (a GOAUTH helper's). */
  readonly authorization?: string | undefined;
}

/** The outcome of the credential checks: one or two lines, and the credentials when found. */
export interface CredentialFindings {
  readonly outcomes: readonly { name: string; outcome: CheckOutcome }[];
  readonly credentials: ClientCredentials | undefined;
}

export async function checkCredentials(
  go: GoSettings,
  modgate: URL,
  file: string,
): Promise<CredentialFindings> {
  const entry = parseGoproxy(go.vars.GOPROXY).find((e) => sameProxy(e.value, modgate));
  const url = entry === undefined ? undefined : new URL(entry.value);
  if (url !== undefined && url.username !== '') {
    return {
      outcomes: [
        {
          name: 'credentials',
          outcome: outcome.ok(`user ${decodeURIComponent(url.username)} from the GOPROXY URL`),
        },
      ],
      credentials: {
        login: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        source: 'the GOPROXY URL',
      },
    };
  }
  const outcomes: { name: string; outcome: CheckOutcome }[] = [];
  const release = go.release;
  if (release !== undefined && atLeast(release, NETRC_HOST_PORT_SINCE)) {
    const goauth = go.vars.GOAUTH;
    if (goauth !== '' && !goauth.split(';').some((m) => m.trim() === 'netrc')) {
      outcomes.push({
        name: 'GOAUTH',
        outcome: outcome.fail(
          `GOAUTH=${goauth} does not read the netrc file`,
          setCommand(go, 'GOAUTH', 'netrc'),
        ),
      });
    }
  }
  const machines = machinesFor(modgate);
  const append = `printf '%s\\n' ${machines.map((m) => shellQuote(`machine ${m} login <user> password <password>`)).join(' ')} >> ${shellQuote(file)} && chmod 600 ${shellQuote(file)}`;
  let mode: number;
  let text: string;
  try {
    mode = (await stat(file)).mode & 0o777;
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = errorCode(err) ?? String(err);
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
    outcomes.push({
      name: 'netrc',
      outcome: outcome.fail(`${file} ${what}: go sends no credentials and modgate answers 401`, append),
    });
    return { outcomes, credentials: undefined };
  }
  if ((mode & 0o077) !== 0 && process.platform !== 'win32') {
    outcomes.push({
      name: 'netrc mode',
      outcome: outcome.fail(
        `${file} has mode 0${mode.toString(8)}: other users can read your password`,
        `chmod 600 ${shellQuote(file)}`,
      ),
    });
  }
  const lines = parseNetrc(text);
  const wanted = release === undefined ? machines : [netrcMachineFor(modgate, release)];
  for (const machine of wanted) {
    const found = netrcEntryFor(lines, machine);
    if (found !== undefined) {
      const how = release === undefined ? '' : ` (${go.version} looks up "machine ${machine}")`;
      outcomes.unshift({
        name: 'netrc',
        outcome: outcome.ok(`${file}: machine ${machine} login ${found.login}${how}`),
      });
      return {
        outcomes,
        credentials: { login: found.login, password: found.password, source: `${file} (machine ${machine})` },
      };
    }
  }
  const other = machines.map((m) => netrcEntryFor(lines, m)).find((l) => l !== undefined);
  const detail =
    other === undefined
      ? `${file} has no complete "machine ${wanted[0]} login … password …" entry: go sends no credentials`
      : `${file} has "machine ${other.machine}", but ${go.version} looks up "machine ${wanted[0]}"`;
  const fix = `printf '%s\\n' ${shellQuote(`machine ${wanted[0]} login ${other?.login ?? '<user>'} password <password>`)} >> ${shellQuote(file)} && chmod 600 ${shellQuote(file)}`;
  outcomes.unshift({ name: 'netrc', outcome: outcome.fail(detail, other === undefined ? append : fix) });
  return { outcomes, credentials: undefined };
}

/** The machine names to write: the host, and host:port too when the URL has a port (go ≤1.23 and ≥1.24 both find theirs). */
function machinesFor(modgate: URL): string[] {
  const old = netrcMachineFor(modgate, { major: 1, minor: 0 });
  const current = netrcMachineFor(modgate, NETRC_HOST_PORT_SINCE);
  return old === current ? [old] : [old, current];
}
