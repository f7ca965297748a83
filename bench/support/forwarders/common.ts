/**
 * What the forwarding-floor servers share, so that they differ only in the
 * library that forwards: the command line (upstream origin, TLS certificate
 * and key), an HTTPS server on a loopback port that prints where it listens,
 * the headers passed each way, and a 502 when forwarding fails. No auth, no
 * policy, no audit: what is left is the cost of forwarding in Node.
 *
 * Usage: node <forwarder>.ts <upstream origin> <cert.pem> <key.pem>
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { allowedClientHeaders, clientResponseHeaders } from '../../../gateway/upstreams/forward-headers.ts';

/** Keep-alive connections to the upstream (connections; modgate's default pool and nginx's `keepalive`). */
export const UPSTREAM_POOL = 64;

/** The upstream origin from the command line, e.g. `http://127.0.0.1:8080` (no trailing slash). */
export const upstream = new URL(process.argv[2] ?? '').origin;

/** Client headers passed upstream: modgate's allowlist (gateway/upstreams/forward-headers.ts), no credential. */
export const requestHeaders = allowedClientHeaders;

/** Upstream headers passed back: modgate's own allowlist. */
export const responseHeaders = clientResponseHeaders;

/** Answers 502 when nothing was sent yet, else cuts the response short. */
export function fail(res: ServerResponse, err: Error): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain' });
  res.end('upstream error\n');
}

/** Serves `handler` over HTTPS on 127.0.0.1 and prints `listening on https://127.0.0.1:<port>`. */
export function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): void {
  const [cert, key] = [process.argv[3], process.argv[4]];
  if (cert === undefined || key === undefined) {
    console.error('usage: node <forwarder>.ts <upstream origin> <cert.pem> <key.pem>');
    process.exit(2);
  }
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, handler);
  server.listen(0, '127.0.0.1', () => {
    console.log(`listening on https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
}
