import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Request headers a client may pass to an upstream. An allowlist, not a
 * denylist: Authorization, Cookie, Proxy-Authorization, X-Forwarded-*, custom
 * API-key headers and every hop-by-hop header (RFC 9110 §7.6.1) stay behind.
 */
const REQUEST_ALLOWLIST = [
  'accept',
  'accept-encoding',
  'user-agent',
  'if-none-match',
  'if-modified-since',
  'if-range',
  'range',
  'cache-control',
] as const;

/**
 * Response headers an upstream may pass to a client. Never Set-Cookie,
 * WWW-Authenticate, Location (rewritten or refused) or server identification.
 */
const RESPONSE_ALLOWLIST = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
] as const;

/** The client's request headers that may pass upstream (a new object; nothing else of the client's). */
export function allowedClientHeaders(client: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const name of REQUEST_ALLOWLIST) {
    const value = client[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/** The headers modgate sends upstream: allowlisted client headers plus the upstream credential. */
export function upstreamRequestHeaders(
  client: IncomingHttpHeaders,
  credential: string | undefined,
  requestId: string,
): IncomingHttpHeaders {
  const out = allowedClientHeaders(client);
  if (credential !== undefined) out.authorization = credential;
  out['x-request-id'] = requestId;
  return out;
}

/** The headers modgate passes back to the client from an upstream response. */
export function clientResponseHeaders(upstream: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of RESPONSE_ALLOWLIST) {
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
