import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import { checkGoVersion, readGoSettings } from '../../client/client-go.ts';
import { checkGoauth, goauthCommand } from '../../client/client-goauth.ts';
import { checkGoproxy, checkPrivateModules } from '../../client/client-goproxy.ts';
import { checkProbe, checkTrust } from '../../client/client-https.ts';
import { checkCredentials } from '../../client/client-netrc.ts';
import { parseGoproxy, parseUrl, splitGlobs, withoutUserinfo } from '../../client/go-env.ts';
import { netrcPath } from '../../client/netrc.ts';
import { type CheckOutcome, type CheckResult, outcome, resultOf } from '../../core/check.ts';
import { parseDuration } from '../../core/duration.ts';
import { checkPath } from '../../core/gomod/module.ts';
import { privateRoutePatterns } from '../../gateway/ops/checks/policy.ts';
import { render } from './check-config.ts';
import { type CommandIo, PROCESS_IO } from './io.ts';

/** The module doctor lists through modgate when not told one: any path works, a 404 proves the credentials too. */
export const DEFAULT_PROBE_MODULE = 'golang.org/x/mod';
/** Default bound on each network step (ms). */
const DEFAULT_DOCTOR_TIMEOUT_MS = 10_000;

export const DOCTOR_USAGE = `usage: modgate doctor [--url https://goproxy.corp.example] [--private PATTERN ...]
                      [--policy FILE] [--module PATH] [--go PATH] [--timeout DURATION]

Checks this machine's go setup against modgate, the way the go command will
use it, and prints each problem with the command that fixes it:
  go        the go command and its version (netrc matching changed in go 1.24)
  GOPROXY   names modgate first, without '|' after it ('|direct' bypasses denials)
  private   GONOSUMDB/GOPRIVATE cover the private module patterns, and
            GONOPROXY does not send them around modgate
  netrc     an entry for modgate's host in the form this go looks up; mode 0600
  tls       modgate's certificate verifies with the CAs go uses (SSL_CERT_FILE)
  probe     an authenticated GET of <module>/@v/list, with its answer explained
Exit status 1 when something is wrong.

  --url       modgate's URL (default $MODGATE_URL, else the first https entry of GOPROXY)
  --private   a private module pattern (GOPRIVATE syntax), repeatable; modgate's
              status page does not publish routes, so tell doctor which they are
  --policy    read the private patterns from the private routes of a policy file
  --module    the module the probe lists (default ${DEFAULT_PROBE_MODULE})
  --go        the go command (default: go on PATH)
  --timeout   bound on each network step (default ${DEFAULT_DOCTOR_TIMEOUT_MS / 1000}s)`;

/** The developer's environment: injectable so tests run doctor against a test stack with their own HOME. */
export interface DoctorEnvironment {
  /** The environment variables the go command sees (HOME, GO*, NETRC, SSL_CERT_FILE, PATH). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The home folder, for ~/.netrc when env has no HOME. */
  readonly homeDir: string;
  /** The go command to run. */
  readonly goBinary: string;
}

function processEnvironment(): DoctorEnvironment {
  return { env: process.env, homeDir: homedir(), goBinary: 'go' };
}

/** `modgate doctor`; returns the exit status (0 all good or warnings only, 1 problems, 2 usage). */
export async function doctorCommand(
  argv: string[],
  io: CommandIo = PROCESS_IO,
  environment: DoctorEnvironment = processEnvironment(),
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' },
      private: { type: 'string', multiple: true },
      policy: { type: 'string' },
      module: { type: 'string' },
      go: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const timeoutMs = values.timeout === undefined ? DEFAULT_DOCTOR_TIMEOUT_MS : parseDuration(values.timeout);
  const module = values.module ?? DEFAULT_PROBE_MODULE;
  const usage = (message: string) => {
    io.err(`modgate doctor: ${message}\n`);
    return 2;
  };
  if (timeoutMs === undefined || timeoutMs <= 0)
    return usage(`--timeout "${values.timeout}" is not a duration`);
  try {
    checkPath(module);
  } catch (err) {
    return usage(`--module: ${(err as Error).message}`);
  }
  const { env } = environment;
  const results: CheckResult[] = [];
  const report = (name: string, target: string | undefined, o: CheckOutcome) => {
    const result = resultOf({ name, target }, o, 0);
    results.push(result);
    io.out(render(result));
  };

  const go = await readGoSettings(values.go ?? environment.goBinary, env);
  report('go', undefined, go.problem ?? checkGoVersion(go.settings));

  const modgate = modgateUrl(values.url ?? env.MODGATE_URL, go.settings.vars.GOPROXY);
  if (modgate === undefined) {
    report(
      'modgate',
      undefined,
      outcome.fail(
        `no modgate URL: GOPROXY=${withoutUserinfo(go.settings.vars.GOPROXY)} names none but the public proxy`,
        'modgate doctor --url https://<modgate host>   (ask your platform team for it)',
      ),
    );
    return finish(io, results);
  }
  const base = modgate.href.replace(/\/$/, '');
  report('GOPROXY', undefined, checkGoproxy(go.settings, modgate));

  const patterns = (values.private ?? []).flatMap(splitGlobs);
  if (values.policy !== undefined) {
    const fromPolicy = await privateRoutePatterns(values.policy);
    if (fromPolicy.ok) patterns.push(...fromPolicy.patterns);
    else
      report(
        'policy',
        values.policy,
        outcome.fail(fromPolicy.problems.join('; '), 'pass a valid policy file'),
      );
  }
  report('private modules', undefined, checkPrivateModules(go.settings, [...new Set(patterns)]));

  const goauth = goauthCommand(go.settings);
  const credentials =
    goauth === undefined
      ? await checkCredentials(go.settings, modgate, netrcPath(env, environment.homeDir))
      : await checkGoauth(go.settings, goauth, modgate);
  for (const c of credentials.outcomes) report(c.name, undefined, c.outcome);

  const trust = await checkTrust(env, modgate, timeoutMs);
  report('tls', base, trust.outcome);

  const target = `${base}/${module}/@v/list`;
  if (trust.store === undefined) report('probe', target, outcome.skip('not tried: TLS must work first'));
  else if (credentials.credentials === undefined) {
    report('probe', target, outcome.skip('not tried: no credentials to send (see above)'));
  } else {
    report(
      'probe',
      target,
      await checkProbe(modgate, module, credentials.credentials, trust.store, timeoutMs),
    );
  }
  return finish(io, results);
}

/** go's default proxy: never modgate, so never guessed to be. */
const PUBLIC_PROXY_HOST = 'proxy.golang.org';

/** The URL doctor checks: given, else the first https entry of GOPROXY but the public proxy (userinfo removed). */
function modgateUrl(given: string | undefined, goproxy: string): URL | undefined {
  const guess = given === undefined || given === '';
  const candidates = guess ? parseGoproxy(goproxy).map((e) => e.value) : [given];
  for (const c of candidates) {
    const url = parseUrl(c);
    if (url === undefined) continue;
    if (guess && (url.protocol !== 'https:' || url.hostname === PUBLIC_PROXY_HOST)) continue;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') continue;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url;
  }
  return undefined;
}

function finish(io: CommandIo, results: readonly CheckResult[]): number {
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  if (failed > 0) {
    io.out(
      `doctor: ${failed} problem${failed === 1 ? '' : 's'}: run the fixes above, then 'modgate doctor' again\n`,
    );
    return 1;
  }
  io.out(
    warned > 0 ? `doctor: no problems, ${warned} warning${warned === 1 ? '' : 's'}\n` : 'doctor: all good\n',
  );
  return 0;
}
