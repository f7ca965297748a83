import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.ts';
import { cachedLookup } from '../auth/cached-lookup.ts';
import type { Directory } from '../auth/directory.ts';
import { loadUsersFile } from '../auth/file-directory.ts';
import { LdapDirectory } from '../auth/ldap-directory.ts';
import { AbuseGuard } from './abuse/guard.ts';
import type { GatewaySettings } from './config/settings.ts';
import { openIntegrity } from './integrity/open.ts';
import { type AuditLog, createAuditLog } from './ops/audit.ts';
import { dependencyChecks } from './ops/checks/dependencies.ts';
import { createOperationalLog } from './ops/log.ts';
import { Metrics } from './ops/metrics.ts';
import { Readiness } from './ops/readiness.ts';
import { SelfService } from './people/self-service.ts';
import { SsoClient } from './people/sso/oidc.ts';
import { ssoRoutes } from './people/sso/routes.ts';
import { storeTokenRegistry } from './people/token-registry-store.ts';
import { TrustedProxies } from './pipeline/client-ip.ts';
import { createHandler } from './pipeline/handler.ts';
import { PolicyStore } from './pipeline/policy-store.ts';
import { PublishTimes } from './pipeline/publish-times.ts';
import { Revocations } from './pipeline/revocations.ts';
import { tokenVerifiers } from './pipeline/token-verifiers.ts';
import { ParsedPaths } from './protocol/parsed-paths.ts';
import { sealedTokenCache, sharedAuthCache } from './state/adapters.ts';
import { openStateStore } from './state/settings.ts';
import { buildUpstreams, checkRouteReferences } from './upstreams/build.ts';

/** The dependency checks that decide readiness (files were checked at start; a broken edit keeps the old). */
const READINESS_COMPONENTS = /^(ldap|upstream|redis|idp)\b/;

export interface GatewayOptions {
  /** Overrides the operational log (tests capture it). */
  readonly log?: Logger;
  /** Overrides the audit sink (tests capture it). */
  readonly audit?: AuditLog;
}

/** The gateway's parts, built and not yet listening. */
export interface BuiltGateway {
  readonly handler: RequestListener;
  readonly log: Logger;
  readonly audit: AuditLog;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly policies: PolicyStore;
  readonly directoryKind: Directory['kind'];
  /** Closes what was opened, newest first: readiness, directory, policy watcher, upstreams, state, audit. */
  close(): Promise<void>;
}

/** What was opened so far, closed newest first; one failing close does not stop the others. */
class Opened {
  readonly #closers: (() => unknown)[] = [];

  add(close: () => unknown): void {
    this.#closers.push(close);
  }

  async closeAll(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // Closing is best effort: the error that matters is the one being thrown, or none.
      }
    }
  }
}

/**
 * Builds every component from settings, in order; when a step fails, what
 * the earlier steps opened (state store, upstream pools, policy watcher,
 * directory connections, readiness checks) is closed before the error is
 * rethrown.
 */
export async function buildGateway(
  settings: GatewaySettings,
  options: GatewayOptions = {},
): Promise<BuiltGateway> {
  const opened = new Opened();
  try {
    return await build(settings, options, opened);
  } catch (err) {
    await opened.closeAll();
    throw err;
  }
}

async function build(
  settings: GatewaySettings,
  options: GatewayOptions,
  opened: Opened,
): Promise<BuiltGateway> {
  const log = options.log ?? createOperationalLog(settings.log.level);
  const audit = options.audit ?? (await createAuditLog(settings.audit));
  opened.add(() => audit.flush());
  const metrics = new Metrics();
  const state = await openStateStore(settings.state, log.child({ stream: 'state' }));
  const store = metrics.instrumentStore(state.store);
  opened.add(() => store.close());
  const sealer = state.sealer;
  const revocations = await Revocations.open(store);
  const routing = buildUpstreams(
    settings,
    (upstream, from, to) => {
      metrics.circuit(upstream, to as 'closed' | 'open' | 'half-open');
      log.warn(
        { event: 'upstream.circuit', upstream, from, to },
        `upstream ${upstream} circuit ${from} → ${to}`,
      );
    },
    store.kind === 'redis' ? sealedTokenCache(store, sealer) : undefined,
  );
  opened.add(() => routing.close());
  const policies = await PolicyStore.open(
    settings.policy.path,
    log.child({ stream: 'policy' }),
    (policy) => checkRouteReferences(policy.routes.references, routing),
    (ok) => metrics.policyReload(ok),
  );
  opened.add(() => policies.close());
  const directory = metrics.instrument(await createDirectory(settings));
  opened.add(() => directory.close());
  if (store.kind === 'redis' && settings.auth.cacheKey === undefined) {
    log.warn(
      'state is shared but auth.cache_key is not set: each process keys its credential cache differently',
    );
  }
  const sharedCache = store.kind === 'redis' ? sharedAuthCache(store) : undefined;
  const lookup = cachedLookup(directory, {
    key: settings.auth.cacheKey,
    ttlMs: settings.auth.cacheTtlMs,
    maxEntries: settings.auth.cacheMaxEntries,
    shared: sharedCache,
  });
  const tokens = tokenVerifiers(settings, lookup, store, (call, ms, ok) => metrics.idpCall(call, ms, ok));
  const authenticator = new Authenticator({
    directory,
    ...settings.auth,
    sharedCache,
    revocations,
    tokens: tokens.verifiers,
    tokenLogin: settings.jwt?.introspection?.netrcLogin,
  });
  const abuse = new AbuseGuard(store, settings.abuse, log.child({ stream: 'abuse' }));
  const pages =
    settings.sso && tokens.personalTokens
      ? ssoRoutes({
          sso: new SsoClient(settings.sso, lookup),
          selfService: new SelfService(
            tokens.personalTokens,
            storeTokenRegistry(store),
            settings.sso.tokenTtlMs,
            { accessTtlMs: settings.sso.accessTokenTtlMs, lookup },
          ),
          personalTokens: tokens.personalTokens,
          policies,
          store,
          log: log.child({ stream: 'sso' }),
          abuse,
        })
      : undefined;
  // /readyz: the directory, each upstream's probe module, Redis — the checks check-config runs too.
  const readiness = new Readiness(
    dependencyChecks(settings, routing).filter((c) => READINESS_COMPONENTS.test(c.name)),
    (ready) => metrics.ready(ready),
  );
  opened.add(() => readiness.stop());
  await readiness.start();

  const verified = await openIntegrity(settings.integrity, settings.state, log, metrics);
  opened.add(() => verified.close());
  const publishTimes = new PublishTimes(settings.policy.publishTimeCacheEntries, verified.firstSeen);
  const handler = createHandler({
    authenticator,
    routing,
    policies,
    readiness,
    revocations,
    adminToken: settings.admin?.token,
    abuse,
    trustedProxies: TrustedProxies.from(settings.listen.trustedProxies),
    metrics,
    publishTimes,
    audit,
    log,
    realm: settings.auth.realm,
    pages,
    paths: new ParsedPaths(),
    checksumDatabases: new Set(settings.checksumDatabases),
    integrity: verified.integrity,
  });
  return {
    handler,
    log,
    audit,
    metrics,
    readiness,
    policies,
    directoryKind: directory.kind,
    close: () => opened.closeAll(),
  };
}

async function createDirectory(settings: GatewaySettings): Promise<Directory> {
  return settings.directory.kind === 'ldap'
    ? new LdapDirectory(settings.directory.options)
    : loadUsersFile(settings.directory.path);
}
