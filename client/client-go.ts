/**
 * The developer's go command as `modgate doctor` sees it: its version and its
 * effective settings (`go env -json`, which merges the environment, the
 * `go env -w` file and defaults), plus the command that changes a setting
 * where it actually comes from.
 */
import { execFile } from 'node:child_process';
import { type CheckOutcome, errorCode, outcome } from '../core/check.ts';
import { atLeast, type GoRelease, NETRC_HOST_PORT_SINCE, parseGoVersion, shellQuote } from './go-env.ts';

/** Upper bound for `go env` (ms): it reads a file or two, but may first unpack a toolchain. */
const GO_ENV_TIMEOUT_MS = 20_000;

/** The settings doctor reads; names go does not know (GOAUTH before 1.24) come back empty. */
export const GO_VARIABLES = [
  'GOVERSION',
  'GOPROXY',
  'GONOSUMDB',
  'GOPRIVATE',
  'GONOPROXY',
  'GOSUMDB',
  'GOAUTH',
] as const;

export type GoVariable = (typeof GO_VARIABLES)[number];

/** The go command's effective settings. */
export interface GoSettings {
  readonly binary: string;
  /** `go1.19.8`; undefined when the go command could not be run. */
  readonly version: string | undefined;
  readonly release: GoRelease | undefined;
  readonly vars: Readonly<Record<GoVariable, string>>;
  /** Where `set` must write: variables in the process environment override `go env -w`. */
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** go's defaults, used when the go command cannot be run (go help environment). */
const DEFAULTS: Record<GoVariable, string> = {
  GOVERSION: '',
  GOPROXY: 'https://proxy.golang.org,direct',
  GONOSUMDB: '',
  GOPRIVATE: '',
  GONOPROXY: '',
  GOSUMDB: 'sum.golang.org',
  GOAUTH: '',
};

/**
 * Runs `go env -json` with the developer's environment. When go cannot be
 * run, the settings come from the environment and go's defaults, and the
 * outcome says why.
 */
export async function readGoSettings(
  binary: string,
  environment: Readonly<Record<string, string | undefined>>,
): Promise<{ settings: GoSettings; problem: CheckOutcome | undefined }> {
  const env = Object.fromEntries(
    Object.entries(environment).filter((e): e is [string, string] => e[1] !== undefined),
  );
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(binary, ['env', '-json', ...GO_VARIABLES], { env, timeout: GO_ENV_TIMEOUT_MS }, (err, out) =>
        err ? reject(err) : resolve(out),
      );
    });
    const parsed = JSON.parse(stdout) as Record<string, string>;
    const vars = Object.fromEntries(GO_VARIABLES.map((v) => [v, parsed[v] ?? ''])) as Record<
      GoVariable,
      string
    >;
    return {
      settings: {
        binary,
        version: vars.GOVERSION,
        release: parseGoVersion(vars.GOVERSION),
        vars,
        environment,
      },
      problem: undefined,
    };
  } catch (err) {
    const vars = { ...DEFAULTS };
    for (const v of GO_VARIABLES) vars[v] = environment[v] || DEFAULTS[v];
    if (vars.GONOSUMDB === '') vars.GONOSUMDB = vars.GOPRIVATE;
    if (vars.GONOPROXY === '') vars.GONOPROXY = vars.GOPRIVATE;
    const missing = errorCode(err) === 'ENOENT';
    return {
      settings: { binary, version: undefined, release: undefined, vars, environment },
      problem: outcome.fail(
        missing ? `cannot run ${binary}: not found` : `'${binary} env' failed: ${firstLine(err)}`,
        missing
          ? 'install Go (https://go.dev/dl/) and put it on PATH, or pass --go PATH'
          : `run '${binary} env' and fix what it reports`,
      ),
    };
  }
}

function firstLine(err: unknown): string {
  const stderr = (err as { stderr?: unknown }).stderr;
  const text = typeof stderr === 'string' && stderr.trim() !== '' ? stderr : String(err);
  return text.trim().split('\n')[0] ?? '';
}

/** The go check: the version, and how it matches netrc entries. */
export function checkGoVersion(go: GoSettings): CheckOutcome {
  const release = go.release;
  if (release === undefined) {
    return outcome.fail(
      `${go.binary} reports no version I understand ("${go.version}")`,
      'install a go release',
    );
  }
  if (!atLeast(release, { major: 1, minor: 13 })) {
    return outcome.fail(
      `${go.version} predates GOPRIVATE and GONOSUMDB (go 1.13)`,
      'install a current go release',
    );
  }
  const netrc = atLeast(release, NETRC_HOST_PORT_SINCE)
    ? 'matches netrc machines on host:port'
    : 'matches netrc machines on the host name without port';
  return outcome.ok(`${go.version} (${go.binary}); it ${netrc}`);
}

/**
 * The command that sets a go variable where it takes effect: `export` when
 * the environment sets it (the environment wins over `go env -w`) or when
 * GOENV=off, else `go env -w`.
 */
export function setCommand(go: GoSettings, name: string, value: string): string {
  const fromEnv = go.environment[name] !== undefined && go.environment[name] !== '';
  if (fromEnv || go.environment.GOENV === 'off' || go.version === undefined) {
    return `export ${name}=${shellQuote(value)}`;
  }
  return `go env -w ${name}=${shellQuote(value)}`;
}
