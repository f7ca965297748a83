#!/usr/bin/env -S node --max-semi-space-size=8
// --max-semi-space-size=8: V8 grows the young generation to 64 MB per semi-space under
// load, and with one that large it keeps starting major GCs back to back
// while bodies stream (its marking limit is the old generation's headroom
// against the young generation's size): 8 MB stops that (BENCHMARKS.md,
// bench/stream). The flag only works at launch: keep it in package.json
// "start" and the Dockerfile too (test/launch-flags.test.ts).
import { isModgateError } from '../core/errors.ts';

/** A command: what runs it, and its usage text. */
interface Command {
  run: (argv: string[]) => Promise<number>;
  usage: string;
}

// Loaded on demand: `modgate credential` runs under the go command (GOAUTH) on every go
// command and after every 4xx, and must not pay for loading the server's modules.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => {
    const m = await import('./commands/serve.ts');
    return { run: m.serve, usage: m.SERVE_USAGE };
  },
  'hash-password': async () => {
    const m = await import('./commands/hash-password.ts');
    return { run: m.hashPasswordCommand, usage: m.HASH_PASSWORD_USAGE };
  },
  policy: async () => {
    const m = await import('./commands/policy.ts');
    return { run: (argv) => m.policyCommand(argv), usage: m.POLICY_USAGE };
  },
  'check-config': async () => {
    const m = await import('./commands/check-config.ts');
    return { run: (argv) => m.checkConfigCommand(argv), usage: m.CHECK_CONFIG_USAGE };
  },
  doctor: async () => {
    const m = await import('./commands/doctor.ts');
    return { run: (argv) => m.doctorCommand(argv), usage: m.DOCTOR_USAGE };
  },
  pins: async () => {
    const m = await import('./commands/pins.ts');
    return { run: (argv) => m.pinsCommand(argv), usage: m.PINS_USAGE };
  },
  revoke: async () => {
    const m = await import('./commands/revoke.ts');
    return { run: m.revokeCommand, usage: m.REVOKE_USAGE };
  },
  login: async () => {
    const m = await import('./commands/login.ts');
    return { run: (argv) => m.loginCommand(argv), usage: m.LOGIN_USAGE };
  },
  logout: async () => {
    const m = await import('./commands/logout.ts');
    return { run: (argv) => m.logoutCommand(argv), usage: m.LOGOUT_USAGE };
  },
  credential: async () => {
    const m = await import('./commands/credential.ts');
    return { run: (argv) => m.credentialCommand(argv), usage: m.CREDENTIAL_USAGE };
  },
};

const USAGE = `modgate — an authenticating, policy-enforcing gateway for Go module proxies

usage: modgate <command> [options]

commands:
  serve           run the gateway (embedded defaults without --config)
  hash-password   hash a password for the users file
  policy          check, explain and test a policy file (policy check|explain|test)
  revoke          revoke (or --lift) a user at every gateway process
  pins            list, show or forget what integrity recorded of module versions
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
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    process.stderr.write(`modgate: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  const command = await load();
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
