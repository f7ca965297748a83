import type { IncomingHttpHeaders } from 'node:http';
import { ModgateError } from '../../core/errors.ts';

/** Redirects modgate follows for one request before giving up (hops). */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function isRedirect(status: number): boolean {
  return REDIRECT_STATUSES.has(status);
}

/** Where the next request of a redirect chain goes, and with which headers. */
export interface Hop {
  readonly url: URL;
  /** Whether it stays on the upstream's own origin (and so may use its connection pool). */
  readonly sameOrigin: boolean;
  readonly headers: IncomingHttpHeaders;
}

/**
 * The next hop of an upstream redirect, which modgate follows itself so the
 * client only ever talks to modgate and never learns an upstream or storage
 * host name. The upstream credential goes along only to the upstream's own
 * origin; a redirect to any other host (a signed storage URL, a CDN) is
 * fetched without it. Throws `upstream.bad_response` for a chain too long,
 * a missing or malformed `Location`, or a scheme other than http(s).
 */
export function nextHop(
  upstream: string,
  location: string | string[] | undefined,
  from: string,
  /** The upstream's own origin: only there does the credential go along. */
  origin: string,
  /** Headers of the original upstream request (allowlisted client headers plus the credential). */
  headers: IncomingHttpHeaders,
  hops: number,
): Hop {
  if (hops >= MAX_REDIRECTS || typeof location !== 'string') {
    throw new ModgateError(
      'upstream.bad_response',
      `upstream ${upstream} sent ${hops >= MAX_REDIRECTS ? 'too many redirects' : 'a redirect without a location'}`,
    );
  }
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw new ModgateError('upstream.bad_response', `upstream ${upstream} sent a malformed redirect`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ModgateError('upstream.bad_response', `upstream ${upstream} redirected to ${url.protocol}`);
  const sameOrigin = url.origin === origin;
  if (sameOrigin) return { url, sameOrigin, headers };
  const { authorization: _credential, ...rest } = headers;
  return { url, sameOrigin, headers: rest };
}
