import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Authenticator } from '../auth/authenticator.ts';
import type { Directory } from '../auth/directory.ts';
import { loadUsersFile } from '../auth/file-directory.ts';
import { LdapDirectory } from '../auth/ldap-directory.ts';
import { type AuditLog, createAuditLog } from './audit.ts';
import type { GatewaySettings } from './config/settings.ts';
import { createHandler } from './handler.ts';
import { createOperationalLog } from './log.ts';
import { PolicyStore } from './policy-store.ts';
import { PublishTimes } from './publish-times.ts';
import { buildUpstreams, checkRouteReferences } from './upstreams/build.ts';

/** How long an idle client connection stays open (ms); longer than typical load-balancer idle timeouts. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How long a client may take to send its request headers (ms). */
const HEADERS_TIMEOUT_MS = 20_000;

export interface RunningGateway {
  /** The base URL, e.g. https://127.0.0.1:8443 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
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
  const audit = options.audit ?? createAuditLog(settings.audit);
  const routing = buildUpstreams(settings, (upstream, from, to) =>
    log.warn(
      { event: 'upstream.circuit', upstream, from, to },
      `upstream ${upstream} circuit ${from} → ${to}`,
    ),
  );
  const policies = await PolicyStore.open(settings.policy.path, log.child({ stream: 'policy' }), (policy) =>
    checkRouteReferences(policy.routes.references, routing),
  ).catch(async (err: unknown) => {
    await routing.close();
    throw err;
  });
  const directory = await createDirectory(settings);
  const authenticator = new Authenticator({ directory, ...settings.auth });

  const publishTimes = new PublishTimes(settings.policy.publishTimeCacheEntries);
  const handler = createHandler({
    authenticator,
    routing,
    policies,
    publishTimes,
    audit,
    log,
    realm: settings.auth.realm,
  });
  const server: Server =
    'cert' in settings.tls
      ? createHttpsServer({ cert: settings.tls.cert, key: settings.tls.key }, handler)
      : createHttpServer(handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  if ('behindTlsTerminator' in settings.tls) {
    log.warn('serving plain http: a TLS terminator must sit in front (go sends credentials only over https)');
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.listen.port, settings.listen.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
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
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      policies.close();
      await routing.close();
      await authenticator.close();
      audit.flush();
    },
  };
}

async function createDirectory(settings: GatewaySettings): Promise<Directory> {
  return settings.directory.kind === 'ldap'
    ? new LdapDirectory(settings.directory.options)
    : loadUsersFile(settings.directory.path);
}
