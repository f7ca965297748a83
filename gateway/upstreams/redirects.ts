import {
  type Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ModgateError } from '../../core/errors.ts';

/** Redirects modgate follows for one request before giving up (hops). */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

export interface RedirectOptions {
  readonly upstream: string;
  /** The upstream's own origin: only there does the credential go along. */
  readonly origin: string;
  /** Headers of the original upstream request (allowlisted client headers plus the credential). */
  readonly headers: IncomingHttpHeaders;
  /** Agent for the upstream's origin, and agents for other origins by protocol. */
  readonly agent: Agent;
  readonly foreignAgents: { readonly 'http:': Agent; readonly 'https:': Agent };
  readonly timeoutMs: number;
}

/**
 * Follows an upstream redirect inside modgate, so the client only ever talks
 * to modgate and never learns an upstream or storage host name. The upstream
 * credential goes along only to the upstream's own origin; a redirect to any
 * other host (a signed storage URL, a CDN) is fetched without it. Resolves
 * the final non-redirect response; the caller streams it and maps its status.
 */
export function followRedirects(
  first: IncomingMessage,
  from: string,
  options: RedirectOptions,
  hops = 0,
): Promise<IncomingMessage> {
  const location = first.headers.location;
  first.resume();
  if (hops >= MAX_REDIRECTS || typeof location !== 'string') {
    return Promise.reject(
      new ModgateError(
        'upstream.bad_response',
        `upstream ${options.upstream} sent ${hops >= MAX_REDIRECTS ? 'too many redirects' : 'a redirect without a location'}`,
      ),
    );
  }
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    return Promise.reject(
      new ModgateError('upstream.bad_response', `upstream ${options.upstream} sent a malformed redirect`),
    );
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    return Promise.reject(
      new ModgateError(
        'upstream.bad_response',
        `upstream ${options.upstream} redirected to ${target.protocol}`,
      ),
    );
  }
  const sameOrigin = target.origin === options.origin;
  const headers = { ...options.headers };
  if (!sameOrigin) delete headers.authorization;
  const agent = sameOrigin ? options.agent : options.foreignAgents[target.protocol];
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(target, { agent, headers, timeout: options.timeoutMs }, (res) => {
      if (isRedirect(res.statusCode ?? 0))
        followRedirects(res, target.href, options, hops + 1).then(resolve, reject);
      else resolve(res);
    });
    req.on('timeout', () =>
      req.destroy(
        new ModgateError(
          'upstream.timeout',
          `upstream ${options.upstream} redirect target did not answer within ${options.timeoutMs} ms`,
        ),
      ),
    );
    req.on('error', (err) =>
      reject(
        err instanceof ModgateError
          ? err
          : new ModgateError(
              'upstream.unreachable',
              `upstream ${options.upstream} redirect target unreachable (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
              { cause: err },
            ),
      ),
    );
    req.end();
  });
}
