/**
 * Free TCP ports on loopback for test servers that cannot listen on port 0
 * themselves (slapd, redis-server, the go command's GOPROXY URL known before
 * the server starts).
 */
import { createServer } from 'node:net';

/** How long to wait for the kernel to hand out and release a port (milliseconds). */
const FREE_PORT_TIMEOUT_MS = 5_000;

/** The loopback address every test server binds to. */
export const LOOPBACK_V4 = '127.0.0.1';

/**
 * Asks the kernel for an unused port on `host` (127.0.0.1 unless told) by
 * listening on port 0, then releases it and returns the number. Another
 * process could take the port before the caller binds it; callers that can
 * listen on port 0 directly should do that instead.
 */
export function freePort(host: string = LOOPBACK_V4): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    const timer = setTimeout(() => {
      server.close();
      reject(new Error(`freePort: no port on ${host} within ${FREE_PORT_TIMEOUT_MS} ms`));
    }, FREE_PORT_TIMEOUT_MS);
    server.unref();
    server.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => {
        clearTimeout(timer);
        if (err !== undefined) reject(err);
        else if (port === 0) reject(new Error(`freePort: kernel gave no port on ${host}`));
        else resolve(port);
      });
    });
  });
}
