/**
 * HTTP plumbing shared by the emulator's listeners: one exchange per request
 * whose record learns the status as soon as it is written, JSON error bodies
 * in Artifactory's documented shape, body reading with a limit, and
 * listen/close for http or https servers on 127.0.0.1.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { LOOPBACK_V4 } from '../../../harness/ports.ts';
import type { TlsMaterial } from './types.ts';

/** Upper bound for closing a listener and its connections (milliseconds). */
const CLOSE_TIMEOUT_MS = 5_000;

/** Content type of Artifactory's JSON answers. */
export const JSON_TYPE = 'application/json';

/** One request, its response and the record that tests read. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  record: { status?: number };
}

/** Writes status, headers and a whole body (none for HEAD) and records the status. */
export function reply(x: Exchange, status: number, headers: OutgoingHttpHeaders, body: string = ''): void {
  x.record.status = status;
  x.res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  x.res.end(x.req.method === 'HEAD' ? undefined : body);
}

/**
 * Answers with Artifactory's error body,
 * `{"errors":[{"status":404,"message":"File not found."}]}`
 * (JFrog REST APIs, "Error Responses").
 */
export function replyError(
  x: Exchange,
  status: number,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  const body = `${JSON.stringify({ errors: [{ status, message }] }, null, 2)}\n`;
  reply(x, status, { 'content-type': JSON_TYPE, ...headers }, body);
}

/** Streams a file with this content type; false (nothing written) when it is not a file. */
export async function replyFile(x: Exchange, path: string, type: string): Promise<boolean> {
  const found = await stat(path).catch(() => undefined);
  if (found?.isFile() !== true) return false;
  x.record.status = 200;
  x.res.writeHead(200, { 'content-type': type, 'content-length': found.size });
  if (x.req.method === 'HEAD') {
    x.res.end();
    return true;
  }
  createReadStream(path)
    .on('error', () => x.res.destroy())
    .pipe(x.res);
  return true;
}

/** The request body, or undefined when it exceeds `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts an http (or https with `tls`) server on 127.0.0.1 on a port the kernel picks. */
export async function listen(
  handler: RequestListener,
  tls: TlsMaterial | undefined,
): Promise<{ server: Server; port: number; origin: string }> {
  const server: Server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK_V4, port: 0 }, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const scheme = tls === undefined ? 'http' : 'https';
  return { server, port, origin: `${scheme}://${LOOPBACK_V4}:${port}` };
}

/** Closes the listener and every connection, hanging requests included, within {@link CLOSE_TIMEOUT_MS}. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  const timeout = delay(CLOSE_TIMEOUT_MS, undefined, { ref: false }).then(() => {
    throw new Error(`artifactory emulator listener did not close in ${CLOSE_TIMEOUT_MS} ms`);
  });
  await Promise.race([closed, timeout]);
}

/** The value of `fn()`, or undefined when it throws (bad escapes in a request path). */
export function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
