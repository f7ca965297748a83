#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8: V8 grows the young generation to 64 MB per semi-space under
// load, and with one that large it keeps starting major GCs back to back
// while bodies stream (its marking limit is the old generation's headroom
// against the young generation's size): 8 MB stops that (BENCHMARKS.md,
// bench/stream). The flag only works at launch: keep it in package.json
// "start" and the Dockerfile too (test/launch-flags.test.ts).
import { isModgateError } from '../core/errors.ts';
import { CHECK_CONFIG_USAGE, checkConfigCommand } from './commands/check-config.ts';
import { CREDENTIAL_USAGE, credentialCommand } from './commands/credential.ts';
import { DOCTOR_USAGE, doctorCommand } from './commands/doctor.ts';
import { HASH_PASSWORD_USAGE, hashPasswordCommand } from './commands/hash-password.ts';
import { LOGIN_USAGE, loginCommand } from './commands/login.ts';
import { LOGOUT_USAGE, logoutCommand } from './commands/logout.ts';
import { POLICY_USAGE, policyCommand } from './commands/policy.ts';
import { REVOKE_USAGE, revokeCommand } from './commands/revoke.ts';
import { SERVE_USAGE, serve } from './commands/serve.ts';

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  serve: { run: serve, usage: SERVE_USAGE },
  'hash-password': { run: hashPasswordCommand, usage: HASH_PASSWORD_USAGE },
  policy: { run: (argv) => policyCommand(argv), usage: POLICY_USAGE },
  'check-config': { run: (argv) => checkConfigCommand(argv), usage: CHECK_CONFIG_USAGE },
  doctor: { run: (argv) => doctorCommand(argv), usage: DOCTOR_USAGE },
  revoke: { run: revokeCommand, usage: REVOKE_USAGE },
  login: { run: (argv) => loginCommand(argv), usage: LOGIN_USAGE },
  logout: { run: (argv) => logoutCommand(argv), usage: LOGOUT_USAGE },
  credential: { run: (argv) => credentialCommand(argv), usage: CREDENTIAL_USAGE },
};

const USAGE = `modgate — an authenticating, policy-enforcing gateway for Go module proxies

usage: modgate <command> [options]

commands:
  serve           run the gateway (embedded defaults without --config)
  hash-password   hash a password for the users file
  policy          check, explain and test a policy file (policy check|explain|test)
  revoke          revoke (or --lift) a user at every gateway process
  check-config    validate gateway.yaml and the policy, then try every dependency
  doctor          check this machine's go setup against modgate (GOPROXY, netrc, TLS, …)
  login           sign in through the identity provider (for GOAUTH with go ≥1.24, else ~/.netrc)
  logout          revoke that sign-in or token and remove it
  credential      the go command's GOAUTH helper: GOAUTH='modgate credential'

'modgate <command> --help' shows a command's options.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`modgate: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Config and usage problems are the user's to fix: print them plainly, no stack.
    if (isModgateError(err)) process.stderr.write(`modgate: ${err.message}\n`);
    else if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`modgate: ${err.message}\n`);
      process.exitCode = 2;
      return;
    } else process.stderr.write(`modgate: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
