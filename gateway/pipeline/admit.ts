import { ModgateError } from '../../core/errors.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';

/**
 * The refusals of a parsed GOPROXY request that need no identity, so they
 * come before authentication and its directory calls:
 *
 * - a query string: the GOPROXY protocol has none (https://go.dev/ref/mod#goproxy-protocol)
 *   and the go command never sends one, so a query is someone probing what
 *   modgate or the upstream would make of it (`?redirect=…`); never forwarded.
 * - a checksum database that is not configured (`checksum_databases`): an
 *   upstream that proxies any sumdb host would otherwise make modgate an open
 *   relay to it.
 */
export function admit(rawUrl: string, request: GoproxyRequest, checksumDatabases: ReadonlySet<string>): void {
  if (rawUrl.includes('?')) {
    throw new ModgateError(
      'request.query_refused',
      'query strings are refused: GOPROXY requests have none, and nothing was forwarded',
    );
  }
  if (request.kind === 'sumdb' && !checksumDatabases.has(request.name)) {
    throw new ModgateError(
      'request.sumdb_not_served',
      `checksum database ${request.name} is not served here`,
    );
  }
}
