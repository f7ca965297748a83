import cluster from 'node:cluster';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.ts';
import { cachedLookup } from '../auth/cached-lookup.ts';
import type { Directory } from '../auth/directory.ts';
import { loadUsersFile } from '../auth/file-directory.ts';
import { LdapDirectory } from '../auth/ldap-directory.ts';
import { AbuseGuard } from './abuse/guard.ts';
import type { GatewaySettings } from './config/settings.ts';
import { type AuditLog, createAuditLog } from './ops/audit.ts';
import { dependencyChecks } from './ops/checks/dependencies.ts';
import { createOperationalLog } from './ops/log.ts';
import { Metrics } from './ops/metrics.ts';
import { startMetricsServer } from './ops/metrics-server.ts';
import { Readiness } from './ops/readiness.ts';
import { SelfService } from './people/self-service.ts';
import { SsoClient } from './people/sso/oidc.ts';
import { ssoRoutes } from './people/sso/routes.ts';
import { storeTokenRegistry } from './people/token-registry-store.ts';
import { answerClientError } from './pipeline/client-errors.ts';
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
/** How long an idle client connection stays open (ms); longer than typical load-balancer idle timeouts. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often Node looks for connections past their headers timeout (ms): the slack on listen.headers_timeout. */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

export interface RunningGateway {
  /** The base URL, e.g. https://127.0.0.1:8443 */
  readonly url: string;
  readonly port: number;
  /** The Prometheus endpoint, when `metrics` is configured. */
  readonly metricsUrl: string | undefined;
  /** Reopens the audit file (SIGHUP after an external logrotate). */
  reopenLogs(): void;
  /** Graceful shutdown: readiness false, no new connections, in-flight requests finish up to the deadline (ms). */
  close(deadlineMs?: number): Promise<void>;
}

export interface GatewayOptions {
  /** Overrides the operational log (tests capture it). */
  readonly log?: Logger;
  /** Overrides the audit sink (tests capture it). */
  readonly audit?: AuditLog;
}

/** Builds every component from settings and starts listening. */
export async function startGateway(
  settings: GatewaySettings,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const log = options.log ?? createOperationalLog(settings.log.level);
  const audit = options.audit ?? (await createAuditLog(settings.audit));
  const metrics = new Metrics();
  const opened = await openStateStore(settings.state, log.child({ stream: 'state' }));
  const store = metrics.instrumentStore(opened.store);
  const sealer = opened.sealer;
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
  const policies = await PolicyStore.open(
    settings.policy.path,
    log.child({ stream: 'policy' }),
    (policy) => checkRouteReferences(policy.routes.references, routing),
    (ok) => metrics.policyReload(ok),
  ).catch(async (err: unknown) => {
    await routing.close();
    throw err;
  });
  const directory = metrics.instrument(await createDirectory(settings));
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
  await readiness.start();

  const publishTimes = new PublishTimes(settings.policy.publishTimeCacheEntries);
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
  });
  const { headersTimeoutMs } = settings.listen;
  const serverOptions = {
    headersTimeout: headersTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
  };
  const server: Server =
    'cert' in settings.tls
      ? createHttpsServer(
          {
            ...serverOptions,
            cert: settings.tls.cert,
            key: settings.tls.key,
            handshakeTimeout: headersTimeoutMs,
          },
          handler,
        )
      : createHttpServer(serverOptions, handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) =>
    answerClientError(err, socket, headersTimeoutMs, log),
  );
  // With `workers: N`, the first worker speaks for all.
  if (!cluster.isWorker || cluster.worker?.id === 1) {
    for (const line of settings.unsafeSettings) log.warn({ event: 'config.unsafe' }, line);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.listen.port, settings.listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const metricsServer = settings.metrics ? await startMetricsServer(metrics, settings.metrics) : undefined;
  const scheme = 'cert' in settings.tls ? 'https' : 'http';
  const host = settings.listen.host.includes(':') ? `[${settings.listen.host}]` : settings.listen.host;
  const policy = policies.current;
  log.info(
    {
      port,
      upstream: settings.defaultUpstream,
      directory: directory.kind,
      policy: policy.version,
      rules: policy.ruleCount,
    },
    'modgate listening',
  );
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    metricsUrl: metricsServer?.url,
    reopenLogs: () => audit.reopen(),
    close: (deadlineMs = settings.shutdownTimeoutMs) => {
      closing ??= (async () => {
        // Not ready at once; stop accepting; let in-flight requests (zip streams too) finish up to the deadline.
        readiness.drain();
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const deadline = setTimeout(() => {
          log.warn(
            { event: 'shutdown.deadline', deadlineMs },
            'shutdown deadline reached; cutting remaining connections',
          );
          server.closeAllConnections();
        }, deadlineMs);
        await drained;
        clearTimeout(deadline);
        readiness.stop();
        metricsServer?.server.close();
        policies.close();
        await routing.close();
        await authenticator.close();
        await store.close();
        audit.flush();
      })();
      return closing;
    },
  };
}

async function createDirectory(settings: GatewaySettings): Promise<Directory> {
  return settings.directory.kind === 'ldap'
    ? new LdapDirectory(settings.directory.options)
    : loadUsersFile(settings.directory.path);
}
