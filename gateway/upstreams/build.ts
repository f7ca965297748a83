import type { GatewaySettings } from '../config/settings.ts';
import { ArtifactoryTokenCredential } from '../credentials/artifactory-token.ts';
import type { CredentialProvider } from '../credentials/credential.ts';
import { StaticCredential } from '../credentials/static.ts';
import type { TokenCache } from '../credentials/token-cache.ts';
import type { RoutingDeps } from '../pipeline/route.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import type { UpstreamSettings } from './config.ts';
import { DirUpstream } from './dir.ts';
import { GuardedUpstream } from './guarded.ts';
import { RemoteUpstream } from './remote.ts';
import type { Upstream } from './upstream.ts';

/** Prefix of the credential built from an Athens upstream's `username`/`password` shorthand. */
const SHORTHAND_CREDENTIAL_PREFIX = 'upstream:';

export interface BuiltUpstreams extends RoutingDeps {
  close(): Promise<void>;
}

/**
 * Builds every upstream (remote ones behind a circuit breaker) and every
 * credential provider from settings. `onBreaker` hears state changes.
 */
export function buildUpstreams(
  settings: GatewaySettings,
  onBreaker: (upstream: string, from: string, to: string) => void,
  /** Where minted upstream tokens are kept; in-process per credential when undefined. */
  tokenCache?: TokenCache,
): BuiltUpstreams {
  const credentials = new Map<string, CredentialProvider>();
  for (const c of Object.values(settings.credentials)) {
    credentials.set(
      c.name,
      c.kind === 'static'
        ? new StaticCredential(c)
        : new ArtifactoryTokenCredential({ ...c, cache: tokenCache }),
    );
  }
  const upstreams = new Map<string, Upstream>();
  const defaultCredentials = new Map<string, string>();
  const fallbacks = new Map<string, string>();
  for (const u of Object.values(settings.upstreams)) {
    upstreams.set(u.name, createUpstream(u, onBreaker));
    if (u.kind === 'dir') continue;
    if (u.fallback !== undefined) fallbacks.set(u.name, u.fallback);
    if (u.credential !== undefined) defaultCredentials.set(u.name, u.credential);
    else if (u.basicAuth !== undefined) {
      const name = `${SHORTHAND_CREDENTIAL_PREFIX}${u.name}`;
      credentials.set(name, new StaticCredential({ name, scheme: 'basic', ...u.basicAuth }));
      defaultCredentials.set(u.name, name);
    }
  }
  return {
    upstreams,
    credentials,
    defaultCredentials,
    fallbacks,
    defaultUpstream: settings.defaultUpstream,
    close: async () => {
      await Promise.all([...upstreams.values()].map((u) => u.close()));
      await Promise.all([...credentials.values()].map((c) => c.close()));
    },
  };
}

function createUpstream(
  settings: UpstreamSettings,
  onBreaker: (u: string, from: string, to: string) => void,
): Upstream {
  if (settings.kind === 'dir') return new DirUpstream(settings.name, settings.path);
  const breaker = new CircuitBreaker(settings.name, {
    failureThreshold: settings.breaker.failures,
    coolDownMs: settings.breaker.coolDownMs,
    halfOpenProbes: settings.breaker.halfOpenProbes,
    onStateChange: (change) => onBreaker(settings.name, change.from, change.to),
  });
  return new GuardedUpstream(new RemoteUpstream(settings), breaker);
}

/** Problems with a policy's routes against the configured upstreams and credentials (empty when fine). */
export function checkRouteReferences(
  references: readonly { route: string; upstream: string; credentials: readonly string[] }[],
  deps: Pick<RoutingDeps, 'upstreams' | 'credentials'>,
): string[] {
  const problems: string[] = [];
  for (const r of references) {
    if (!deps.upstreams.has(r.upstream))
      problems.push(`route ${r.route}: no upstream named ${r.upstream} in gateway.yaml`);
    for (const c of r.credentials) {
      if (!deps.credentials.has(c))
        problems.push(`route ${r.route}: no credential named ${c} in gateway.yaml`);
    }
  }
  return problems;
}
