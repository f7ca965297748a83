import { type Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ModgateError } from '../../core/errors.ts';
import type { GoproxyRequest } from '../goproxy-path.ts';
import { errorForSocket, errorForStatus, timeoutError } from './upstream-errors.ts';

/** Largest metadata document (`@v/list`, `.info`, `@latest`) modgate reads itself (bytes). */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;

export interface FetchTextOptions {
  readonly upstream: string;
  readonly agent: HttpAgent;
  readonly headers: IncomingHttpHeaders;
  readonly timeoutMs: number;
}

/**
 * GETs a small GOPROXY document that modgate must read itself (to filter a
 * version list, resolve `@latest` or learn a version's publish time) — never a
 * zip. Resolves the body text; throws the same refusals as forwarding
 * otherwise (404/410 as `upstream.not_found`/`upstream.gone`).
 */
export function fetchText(url: string, request: GoproxyRequest, options: FetchTextOptions): Promise<string> {
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(timeoutError(options.upstream, options.timeoutMs));
    }, options.timeoutMs);
    const fail = (err: unknown) => {
      clearTimeout(timer);
      reject(errorForSocket(options.upstream, err, timedOut, options.timeoutMs));
    };
    const req = send(url, { agent: options.agent, headers: options.headers }, (res) => {
      const status = res.statusCode ?? 502;
      if (status < 200 || status >= 300) {
        res.resume();
        clearTimeout(timer);
        reject(errorForStatus(options.upstream, request, status));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_METADATA_BYTES) {
          res.destroy(
            new ModgateError(
              'upstream.bad_response',
              `upstream ${options.upstream} sent an oversized ${request.kind} document`,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}
