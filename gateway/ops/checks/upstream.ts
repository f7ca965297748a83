/**
 * The upstream checks: each remote upstream must answer a real `@v/list` for
 * its `probe_module` (a 200 from `/` proves nothing about storage or
 * credentials), sent with the credential modgate uses for it; a folder
 * upstream must be a readable folder.
 */

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { type Check, type CheckOutcome, outcome } from '../../../core/check.ts';
import { isModgateError } from '../../../core/errors.ts';
import { escapePath } from '../../../core/gomod/module.ts';
import type { Principal } from '../../../core/principal.ts';
import type { GatewaySettings } from '../../config/settings.ts';
import { newRequestId } from '../../pipeline/context.ts';
import type { RoutingDeps } from '../../pipeline/route.ts';
import type { UpstreamSettings } from '../../upstreams/config.ts';
import type { Upstream } from '../../upstreams/upstream.ts';

/** Who the probe acts for when the upstream's credential is minted per subject (Artifactory tokens). */
export const PROBE_SUBJECT: Principal = Object.freeze({ user: 'modgate-probe', groups: [] });

/** One check per upstream in gateway.yaml, probing through the upstreams and credentials in `routing`. */
export function upstreamChecks(
  settings: GatewaySettings,
  routing: Pick<RoutingDeps, 'upstreams' | 'credentials' | 'defaultCredentials'>,
): Check[] {
  return Object.values(settings.upstreams).map((u) => {
    const upstream = routing.upstreams.get(u.name);
    return {
      name: `upstream ${u.name}`,
      target: u.kind === 'dir' ? u.path : u.url.href.replace(/\/$/, ''),
      run: async (): Promise<CheckOutcome> => {
        if (upstream === undefined) return outcome.fail(`upstream ${u.name} was not built`, undefined);
        return checkUpstream(u, upstream, () => authorizationFor(u.name, routing));
      },
    };
  });
}

/** The `Authorization` value modgate sends `upstream` when no route names a credential. */
async function authorizationFor(
  upstream: string,
  routing: Pick<RoutingDeps, 'credentials' | 'defaultCredentials'>,
): Promise<string | undefined> {
  const name = routing.defaultCredentials.get(upstream);
  if (name === undefined) return undefined;
  const provider = routing.credentials.get(name);
  if (provider === undefined) throw new Error(`credential ${name} is not defined`);
  return provider.authorization(PROBE_SUBJECT);
}

/**
 * Checks one upstream: a folder exists and is readable; a remote upstream
 * lists its `probe_module` (missing `probe_module` is a warning saying how to
 * set it). The remote call goes through `upstream` and so is bounded by the
 * upstream's own timeout (and refused fast while its circuit is open).
 */
export async function checkUpstream(
  settings: UpstreamSettings,
  upstream: Upstream,
  authorization: () => Promise<string | undefined>,
): Promise<CheckOutcome> {
  const key = `upstreams.${settings.name}`;
  if (settings.kind === 'dir') return checkFolder(settings.path, key);
  const module = settings.probeModule;
  if (module === undefined) {
    return outcome.warn(
      'no probe_module: readiness cannot tell whether it serves modules',
      `set ${key}.probe_module to a module it always serves (e.g. one your builds use)`,
    );
  }
  let auth: string | undefined;
  try {
    auth = await authorization();
  } catch (err) {
    const message = isModgateError(err) ? err.message : String(err);
    return outcome.fail(
      `cannot get modgate's credential for it: ${message}`,
      `check the credential ${key} uses (credentials in gateway.yaml)`,
    );
  }
  try {
    const list = await upstream.fetchText(
      { id: newRequestId() },
      { kind: 'list', module, escapedModule: escapePath(module) },
      auth,
    );
    const versions = list.split('\n').filter((v) => v.trim() !== '').length;
    if (versions === 0) {
      return outcome.warn(
        `lists no version of ${module}`,
        `set ${key}.probe_module to a module with tagged versions, so the probe proves the storage works`,
      );
    }
    return outcome.ok(`lists ${versions} version${versions === 1 ? '' : 's'} of ${module}`);
  } catch (err) {
    return upstreamFailure(err, key, module);
  }
}

async function checkFolder(path: string, key: string): Promise<CheckOutcome> {
  try {
    if (!(await stat(path)).isDirectory()) {
      return outcome.fail(`${path} is not a folder`, `set ${key}.path to a GOPROXY-layout folder`);
    }
    await access(path, constants.R_OK | constants.X_OK);
    return outcome.ok('folder readable');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return outcome.fail(
      `cannot read ${path} (${code})`,
      `set ${key}.path to a folder modgate's user can read`,
    );
  }
}

function upstreamFailure(err: unknown, key: string, module: string): CheckOutcome {
  if (!isModgateError(err)) return outcome.fail(`probe failed: ${String(err)}`, undefined);
  const detail = `@v/list of ${module}: ${err.message}`;
  switch (err.code) {
    case 'upstream.not_found':
    case 'upstream.gone':
    case 'request.not_found':
      return outcome.fail(
        detail,
        `set ${key}.probe_module to a module it serves, or make it serve ${module}`,
      );
    case 'upstream.unreachable':
      return outcome.fail(
        detail,
        `check ${key}.url and that the upstream is running and reachable from here`,
      );
    case 'upstream.timeout':
      return outcome.fail(detail, `check the upstream's health, or raise ${key}.timeout`);
    case 'upstream.rejected_credential':
      return outcome.fail(
        `@v/list of ${module}: the upstream rejected modgate's credential`,
        `check ${key}.username/password or the credential it uses against the upstream's users`,
      );
    case 'upstream.refused':
      return outcome.fail(
        detail,
        `the upstream refuses ${module} (e.g. Athens' filter file): allow it there, or pick another probe_module`,
      );
    case 'upstream.circuit_open':
      return outcome.fail(detail, "the upstream has been failing; see modgate's log for its errors");
    default:
      return outcome.fail(detail, "see the upstream's log");
  }
}
