import type { ClientRequest, IncomingMessage } from 'node:http';
import { request } from 'node:https';

/** What a test saw of one response. */
export interface SeenResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** Upper bound of one test request (ms). */
const REQUEST_TIMEOUT_MS = 15_000;

/**
 * One HTTPS request to the gateway under test, trusting the test CA, with an
 * optional Basic credential, raw Authorization header or extra headers. Never throws on a
 * status; throws on a socket error. Every response is appended to `seen` when
 * given, so a test can grep all responses for secrets.
 */
export function httpsGet(
  baseUrl: string,
  path: string,
  options: {
    ca: string;
    basic?: [string, string];
    authorization?: string;
    method?: string;
    headers?: Record<string, string>;
    seen?: SeenResponse[];
  },
): Promise<SeenResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.basic)
    headers.authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        ca: options.ca,
        headers,
        agent: false,
        timeout: REQUEST_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const seen = {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString('utf8'),
          };
          options.seen?.push(seen);
          resolve(seen);
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Starts a GET of `path` at the gateway as `basic` (name, password), trusting
 * the test CA, on a connection of its own; the caller reads the response as
 * it likes (slowly, partly) and ends or destroys the request.
 */
export function startGet(
  baseUrl: string,
  path: string,
  options: { ca: string; basic: [string, string] },
  onResponse: (res: IncomingMessage) => void,
): ClientRequest {
  const url = new URL(baseUrl);
  const authorization = `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`;
  const req = request(
    { host: url.hostname, port: url.port, path, ca: options.ca, agent: false, headers: { authorization } },
    onResponse,
  );
  req.end();
  return req;
}
