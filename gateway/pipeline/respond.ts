import type { ServerResponse } from 'node:http';
import type { ModgateError } from '../../core/errors.ts';
import { statusOf } from './errors.ts';

/** go prints at most this many bytes of an error body (cmd/go/internal/web). */
const GO_ERROR_BODY_LIMIT = 648;
/** go prints at most this many lines of an error body. */
const GO_ERROR_BODY_MAX_LINES = 8;

/**
 * Writes a refusal the go command will print: text/plain utf-8, the one-line
 * reason first (prefixed `modgate: `), then optional hint lines, all before any
 * blank line, within go's 8-line / 648-byte window. Server errors carry the
 * request id in the first line so an operator can find the log entry.
 */
export function writeRefusal(
  res: ServerResponse,
  requestId: string,
  err: ModgateError,
  extraHeaders: Record<string, string> = {},
  hints: readonly string[] = [],
): void {
  const status = statusOf(err);
  const reason = oneLine(err.message);
  const first = status >= 500 ? `modgate: ${reason} (request ${requestId})` : `modgate: ${reason}`;
  const lines = [first, ...hints.map(oneLine)].slice(0, GO_ERROR_BODY_MAX_LINES);
  let body = `${lines.join('\n')}\n`;
  if (Buffer.byteLength(body) > GO_ERROR_BODY_LIMIT) body = `${first.slice(0, GO_ERROR_BODY_LIMIT - 1)}\n`;
  if (res.headersSent) {
    // Mid-stream failure: the status is gone; cutting the connection is the only honest signal.
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extraHeaders,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Printable, single line: control characters become spaces, so go prints it and logs cannot be forged. */
function oneLine(text: string): string {
  const first = text.split('\n', 1)[0] ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  return first.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** Sends a document modgate composed itself (a filtered list, a resolved @latest). */
export function writeAnswer(res: ServerResponse, body: string, contentType: string, status = 200): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    // Per-user answers: a shared cache must not serve one user's list to another.
    'cache-control': 'private, no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Sends a JSON document (status endpoints). */
export function writeJson(res: ServerResponse, value: unknown, status = 200): void {
  writeAnswer(res, `${JSON.stringify(value, null, 2)}\n`, 'application/json', status);
}
