import { isModgateError, ModgateError } from '../../core/errors.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';

/**
 * Converts an upstream's non-success status into the refusal modgate sends.
 * 404/410 keep their status so go's own fallback (next GOPROXY entry) keeps
 * working; a 401 means modgate's own upstream credential is wrong, which is
 * the operator's problem (502), never the user's.
 */
export function errorForStatus(upstream: string, request: GoproxyRequest, status: number): ModgateError {
  const what = describe(request);
  if (status === 404)
    return new ModgateError('upstream.not_found', `${what}: not found (upstream ${upstream} answered 404)`);
  if (status === 410)
    return new ModgateError('upstream.gone', `${what}: gone (upstream ${upstream} answered 410)`);
  if (status === 401 || status === 407) {
    return new ModgateError(
      'upstream.rejected_credential',
      `upstream ${upstream} rejected modgate's credential (${status}); tell the modgate operator`,
    );
  }
  if (status === 403)
    return new ModgateError('upstream.refused', `${what}: refused by upstream ${upstream} (403)`);
  if (status >= 300 && status < 400) {
    return new ModgateError(
      'upstream.bad_response',
      `upstream ${upstream} answered a redirect (${status}), which modgate does not follow`,
    );
  }
  if (status >= 500)
    return new ModgateError('upstream.bad_response', `upstream ${upstream} failed (${status})`);
  return new ModgateError('upstream.bad_response', `upstream ${upstream} answered ${status}`);
}

/** The limits a transport failure is reported against (ms). */
export interface TransportLimits {
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
}

/**
 * Converts a transport failure from undici (refused, reset, DNS, TLS,
 * timeouts) into a refusal: the one place that knows undici's error codes.
 * A ModgateError (an abort reason modgate chose) passes through.
 */
export function errorForTransport(upstream: string, err: unknown, limits: TransportLimits): ModgateError {
  if (isModgateError(err)) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ModgateError(
        'upstream.unreachable',
        `upstream ${upstream} did not accept a connection within ${limits.connectTimeoutMs} ms`,
        { cause: err },
      );
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return timeoutError(upstream, limits.timeoutMs);
    case 'UND_ERR_SOCKET':
      return unreachable(upstream, 'connection closed', err);
    default:
      return unreachable(upstream, code ?? 'connection failed', err);
  }
}

function unreachable(upstream: string, reason: string, cause: unknown): ModgateError {
  return new ModgateError('upstream.unreachable', `upstream ${upstream} unreachable (${reason})`, { cause });
}

export function timeoutError(upstream: string, timeoutMs: number): ModgateError {
  return new ModgateError('upstream.timeout', `upstream ${upstream} did not answer within ${timeoutMs} ms`);
}

function describe(request: GoproxyRequest): string {
  if (request.kind === 'sumdb') return `checksum database ${request.name} ${request.rest}`;
  if ('version' in request) return `${request.module}@${request.version}`;
  return request.kind === 'list' ? `${request.module} version list` : `${request.module}@latest`;
}

/** Whether an upstream refusal only says "no such module or version" (404/410 from any upstream kind). */
export function isMissing(err: unknown): boolean {
  return (
    isModgateError(err, 'upstream.not_found') ||
    isModgateError(err, 'upstream.gone') ||
    isModgateError(err, 'request.not_found')
  );
}
