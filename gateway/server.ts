import cluster from 'node:cluster';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type BuiltGateway, buildGateway, type GatewayOptions } from './build.ts';
import type { GatewaySettings } from './config/settings.ts';
import { startMetricsServer } from './ops/metrics-server.ts';
import { answerClientError } from './pipeline/client-errors.ts';
import { CountedResponse } from './pipeline/counted-response.ts';

export type { GatewayOptions } from './build.ts';

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

/** Builds the gateway (gateway/build.ts) and listens; what was built is closed again when listening fails. */
export async function startGateway(
  settings: GatewaySettings,
  options: GatewayOptions = {},
): Promise<RunningGateway> {
  const built = await buildGateway(settings, options);
  try {
    return await listen(settings, built);
  } catch (err) {
    await built.close();
    throw err;
  }
}

async function listen(settings: GatewaySettings, built: BuiltGateway): Promise<RunningGateway> {
  const { handler, log, readiness, policies, audit, metrics } = built;
  const { headersTimeoutMs } = settings.listen;
  const serverOptions = {
    ServerResponse: CountedResponse,
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
  const metricsServer = settings.metrics
    ? await startMetricsServer(metrics, settings.metrics).catch(async (err: unknown) => {
        server.close();
        throw err;
      })
    : undefined;
  const scheme = 'cert' in settings.tls ? 'https' : 'http';
  const host = settings.listen.host.includes(':') ? `[${settings.listen.host}]` : settings.listen.host;
  const policy = policies.current;
  log.info(
    {
      port,
      upstream: settings.defaultUpstream,
      directory: built.directoryKind,
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
        metricsServer?.server.close();
        await built.close();
      })();
      return closing;
    },
  };
}
