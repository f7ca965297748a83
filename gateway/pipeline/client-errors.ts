import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ErrorCode } from '../../core/errors.ts';
import { STATUS_BY_CODE } from './errors.ts';

/**
 * What modgate answers to a connection whose request never reached the
 * handler (Node's `clientError`): headers not complete within
 * `listen.headers_timeout` (a slowloris or a silent client), headers larger
 * than Node's limit, or bytes that are not HTTP/1.1. Node would answer with
 * an empty body; modgate writes its one text/plain line, as for every other
 * refusal, so the go command and curl say why, then closes the connection.
 * A TLS handshake that failed or timed out (https' `tlsClientError`, which
 * arrives here too) and a reset connection are closed without a word.
 */
export function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  headersTimeoutMs: number,
  log: Logger,
): void {
  const refusal = refusalOf(err.code, headersTimeoutMs);
  log.debug(
    { event: 'http.client_error', err: { code: err.code, message: err.message } },
    refusal?.reason ?? 'connection closed',
  );
  if (refusal === undefined || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = STATUS_BY_CODE[refusal.code];
  const body = `modgate: ${refusal.reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'content-type: text/plain; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

function refusalOf(
  code: string | undefined,
  headersTimeoutMs: number,
): { code: ErrorCode; reason: string } | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return {
      code: 'request.headers_timeout',
      reason: `request headers did not arrive within ${Math.round(headersTimeoutMs / 1000)}s`,
    };
  }
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      code: 'request.headers_too_large',
      reason: `request headers are larger than ${maxHeaderSize / 1024} KiB`,
    };
  }
  if (code?.startsWith('HPE_')) return { code: 'request.malformed', reason: 'malformed HTTP request' };
  // A reset, or a TLS error (a handshake that timed out or failed): there is no HTTP to answer in.
  return undefined;
}
