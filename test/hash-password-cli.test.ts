/**
 * `modgate hash-password`: the real CLI reads a password from
 * stdin and prints a hash for a users file; the hash is argon2id with the
 * OWASP parameters and verifies with auth/password-hash.ts.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  ARGON2_MEMORY_COST_KIB,
  ARGON2_PARALLELISM,
  ARGON2_TIME_COST,
  verifyPasswordHash,
} from '../auth/password-hash.ts';

/** Upper bound for one CLI run (ms): Node start plus one argon2id hash, on a loaded machine. */
const CLI_TIMEOUT_MS = 30_000;

/** Runs `bin/modgate.ts hash-password` with `input` on stdin (not a TTY: no prompt). */
function hashPasswordCli(input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'bin/modgate.ts',
      ['hash-password'],
      { timeout: CLI_TIMEOUT_MS, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : undefined;
        if (code === undefined) reject(err);
        else resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input);
  });
}

describe('modgate hash-password', () => {
  it.each([
    [
      'a password with a trailing newline (echo, a file)',
      'correct horse battery staple\n',
      'correct horse battery staple',
    ],
    ['a password without one (printf)', 's3cret-Ü9 with spaces', 's3cret-Ü9 with spaces'],
    ['a CRLF line end', 'windows-pw\r\n', 'windows-pw'],
  ])('%s: prints one argon2id hash that verifies', async (_, input, password) => {
    const { code, stdout, stderr } = await hashPasswordCli(input);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\$argon2id\$v=19\$[^\n]+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n$/);
    const hash = stdout.trimEnd();
    expect(hash.split('$')[3]).toBe(
      `m=${ARGON2_MEMORY_COST_KIB},t=${ARGON2_TIME_COST},p=${ARGON2_PARALLELISM}`,
    );
    expect(await verifyPasswordHash(hash, password)).toBe(true);
    expect(await verifyPasswordHash(hash, `${password}x`)).toBe(false);
    // The line end is not part of the password.
    expect(await verifyPasswordHash(hash, `${password}\n`)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashPasswordCli('same-pw\n'), hashPasswordCli('same-pw\n')]);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it('refuses an empty password with a one-line reason and exit code 1', async () => {
    const { code, stdout, stderr } = await hashPasswordCli('\n');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe('modgate: empty password\n');
  });
});
