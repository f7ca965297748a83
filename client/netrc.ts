/**
 * The netrc file as the go command reads it (cmd/go/internal/auth/netrc.go):
 * where it is, and which `machine … login … password …` lines count.
 */
import { join } from 'node:path';

/** One complete entry; go ignores entries missing any of the three. */
export interface NetrcLine {
  readonly machine: string;
  readonly login: string;
  readonly password: string;
}

/** `$NETRC` if set, else `~/.netrc` (go reads `_netrc` on Windows). */
export function netrcPath(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  const fromEnv = env.NETRC;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return join(env.HOME || homeDir, process.platform === 'win32' ? '_netrc' : '.netrc');
}

/**
 * Parses netrc text with go's rules: tokens in pairs per line, `machine`
 * starts an entry, an entry counts once it has machine, login and password,
 * `macdef` skips to the next blank line, `default` ends the file. No quoting:
 * a password with spaces does not work with go.
 */
export function parseNetrc(text: string): NetrcLine[] {
  const lines: NetrcLine[] = [];
  let machine = '';
  let login = '';
  let password = '';
  let inMacro = false;
  for (const line of text.split('\n')) {
    if (inMacro) {
      if (line === '') inMacro = false;
      continue;
    }
    const f = line.split(/\s+/).filter((t) => t !== '');
    let i = 0;
    for (; i < f.length - 1; i += 2) {
      switch (f[i]) {
        case 'machine':
          machine = f[i + 1]!;
          login = '';
          password = '';
          break;
        case 'login':
          login = f[i + 1]!;
          break;
        case 'password':
          password = f[i + 1]!;
          break;
        case 'macdef':
          inMacro = true;
          break;
      }
      if (machine !== '' && login !== '' && password !== '') {
        lines.push({ machine, login, password });
        machine = '';
        login = '';
        password = '';
      }
    }
    if (i < f.length && f[i] === 'default') break;
  }
  return lines;
}

/** The entry go uses for `machine`: the first one naming it. */
export function netrcEntryFor(lines: readonly NetrcLine[], machine: string): NetrcLine | undefined {
  return lines.find((l) => l.machine === machine);
}
