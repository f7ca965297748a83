import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { loadGatewayConfig } from '../../gateway/config/load.ts';
import { embeddedBanner } from '../../gateway/devstack/banner.ts';
import { DEFAULT_STATE_DIR, prepareEmbeddedDefaults } from '../../gateway/devstack/embedded.ts';
import { startGateway } from '../../gateway/server.ts';
import { announceListening, onAuditRotated, runPrimary } from './workers.ts';

export const SERVE_USAGE = `usage: modgate serve [--config gateway.yaml] [--port N] [--state-dir DIR]

Without --config, runs on embedded defaults: a self-signed certificate, a users
file with a demo user and a folder of sample modules, all kept in --state-dir
(default $MODGATE_STATE_DIR or ./${DEFAULT_STATE_DIR}).`;

/** `modgate serve`: run the gateway until SIGINT/SIGTERM. */
export async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, port: { type: 'string' }, 'state-dir': { type: 'string' } },
    strict: true,
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    process.stderr.write(`modgate: --port must be 0-65535\n`);
    return 2;
  }
  let banner: (url: string) => string;
  let settings: Awaited<ReturnType<typeof loadGatewayConfig>>;
  if (values.config !== undefined) {
    settings = loadGatewayConfig(values.config);
    if (port !== undefined) settings = { ...settings, listen: { ...settings.listen, port } };
    banner = (url) => `modgate is listening on ${url}\n`;
  } else {
    const stateDir = values['state-dir'] ?? process.env.MODGATE_STATE_DIR ?? DEFAULT_STATE_DIR;
    const defaults = await prepareEmbeddedDefaults(stateDir, port);
    settings = defaults.settings;
    banner = (url) => embeddedBanner(url, defaults);
  }
  const audit = settings.audit;
  if (settings.workers > 1 && cluster.isPrimary) {
    return runPrimary(settings.workers, banner, audit.sink === 'file' ? audit : undefined);
  }
  // A worker appends to the shared audit file; the primary rotates it (workers.ts).
  if (cluster.isWorker && audit.sink === 'file')
    settings = { ...settings, audit: { ...audit, rotateBytes: 0 } };
  const gateway = await startGateway(settings);
  if (cluster.isWorker) {
    announceListening(gateway.url);
    onAuditRotated(() => gateway.reopenLogs());
  } else process.stdout.write(banner(gateway.url));
  // SIGHUP: reopen the audit file after an external logrotate moved it.
  process.on('SIGHUP', () => gateway.reopenLogs());
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gateway.close();
  return 0;
}
