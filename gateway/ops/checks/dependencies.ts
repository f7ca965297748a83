/**
 * Every check for one gateway.yaml, in the order check-config prints them:
 * the files (certificate, policy, users file), then what modgate talks to
 * (directory, upstreams, Redis, IdP). `/readyz` runs the same list against
 * the running gateway's own upstreams and credentials.
 */
import { loadUsersFile } from '../../../auth/file-directory.ts';
import { type Check, outcome } from '../../../core/check.ts';
import { isModgateError } from '../../../core/errors.ts';
import type { GatewaySettings } from '../../config/settings.ts';
import type { RoutingDeps } from '../../pipeline/route.ts';
import { ldapCheck } from './ldap.ts';
import { idpChecks } from './optional.ts';
import { policyCheck } from './policy.ts';
import { redisCheck } from './redis.ts';
import { serverCertificateCheck } from './tls.ts';
import { upstreamChecks } from './upstream.ts';

export interface DependencyCheckOptions {
  /** Only what needs no network: files, certificates, the policy. Network checks are listed as skipped. */
  readonly offline?: boolean;
  /** Also look this user up in the LDAP directory. */
  readonly user?: string | undefined;
}

/** The checks for `settings`; upstream probes go through `routing` (built by `buildUpstreams`). */
export function dependencyChecks(
  settings: GatewaySettings,
  routing: Pick<RoutingDeps, 'upstreams' | 'credentials' | 'defaultCredentials'>,
  options: DependencyCheckOptions = {},
): Check[] {
  const offline = options.offline === true;
  const network: Check[] = [
    ...(settings.directory.kind === 'ldap' ? [ldapCheck(settings.directory.options, options)] : []),
    ...upstreamChecks(settings, routing),
  ].map((c) => (offline ? notRun(c) : c));
  const directory = settings.directory;
  const files: Check[] = [
    ...settings.unsafeSettings.map(unsafeSettingCheck),
    serverCertificateCheck(settings),
    policyCheck(settings.policy.path, routing),
    ...(directory.kind === 'file' ? [usersFileCheck(directory.path)] : []),
  ];
  return [...files, ...network, redisCheck(settings, offline), ...idpChecks(settings, offline)];
}

/** An opt-in unsafe setting that is on: always a warning (the same line `serve` logs at start). */
function unsafeSettingCheck(warning: string): Check {
  return {
    name: 'unsafe',
    target: undefined,
    run: async () => outcome.warn(warning.replace(': warning: ', ': '), 'turn it off outside tests'),
  };
}

/** The users file of the file directory loads and validates. */
function usersFileCheck(path: string): Check {
  return {
    name: 'users file',
    target: path,
    run: async () => {
      try {
        await loadUsersFile(path);
        return outcome.ok('valid');
      } catch (err) {
        if (!isModgateError(err)) throw err;
        const [first = err.message, ...rest] = err.message.split('\n');
        return outcome.fail(first, `fix ${path} (hashes come from 'modgate hash-password')`, rest);
      }
    },
  };
}

/** A network check listed but not run (`--offline`). */
export function notRun(check: Check): Check {
  return { name: check.name, target: check.target, run: async () => outcome.skip('not checked (--offline)') };
}
