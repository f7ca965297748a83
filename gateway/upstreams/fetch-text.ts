import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { ModgateError } from '../../core/errors.ts';
import { readBounded } from '../../core/read-bounded.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import { errorForStatus, errorForTransport, type TransportLimits, timeoutError } from './upstream-errors.ts';

/** Largest metadata document (`@v/list`, `.info`, `@latest`) modgate reads itself (bytes). */
export const MAX_METADATA_BYTES = 4 * 1024 * 1024;

export interface FetchTextOptions {
  readonly upstream: string;
  /** The upstream's keep-alive pool. */
  readonly pool: Dispatcher;
  readonly headers: IncomingHttpHeaders;
  /** `timeoutMs` bounds the whole fetch, body included. */
  readonly limits: TransportLimits;
}

/**
 * GETs a small GOPROXY document that modgate must read itself (to filter a
 * version list, resolve `@latest` or learn a version's publish time) — never a
 * zip. Resolves the body text; throws the same refusals as forwarding
 * otherwise (404/410 as `upstream.not_found`/`upstream.gone`).
 */
export async function fetchText(
  path: string,
  request: GoproxyRequest,
  options: FetchTextOptions,
): Promise<string> {
  const { upstream, limits } = options;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(timeoutError(upstream, limits.timeoutMs)), limits.timeoutMs);
  try {
    const { statusCode, body } = await options.pool.request({
      path,
      method: 'GET',
      headers: options.headers,
      signal: abort.signal,
    });
    if (statusCode < 200 || statusCode >= 300) {
      await body.dump();
      throw errorForStatus(upstream, request, statusCode);
    }
    const read = await readBounded(body, MAX_METADATA_BYTES, 'destroy');
    if (read.over) {
      throw new ModgateError(
        'upstream.bad_response',
        `upstream ${upstream} sent an oversized ${request.kind} document`,
      );
    }
    return read.bytes.toString('utf8');
  } catch (err) {
    throw errorForTransport(upstream, err, limits);
  } finally {
    clearTimeout(timer);
  }
}
