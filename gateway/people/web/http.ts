import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModgateError } from '../../../core/errors.ts';
import { readBounded } from '../../../core/read-bounded.ts';
import type { SafeHtml } from './html.ts';

/**
 * The HTTP edge of the pages: form bodies in, pages and redirects out with
 * the security headers every answer carries.
 */

/** Random bytes of a CSP nonce (128 bits, CSP3 §7.1 asks for at least 128). */
const NONCE_BYTES = 16;

/** A fresh nonce for one page's inline style and script. */
export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}

/**
 * The headers every page and redirect carries: a CSP that allows only this
 * page's own nonce-tagged style and script, posts only to modgate and no
 * framing; no referrer (the callback URL holds the authorization code); no
 * caching anywhere (the set-up page shows a token once).
 */
export function pageHeaders(nonce: string | undefined): Record<string, string> {
  const sources = nonce === undefined ? "'none'" : `'nonce-${nonce}'`;
  return {
    'content-security-policy': [
      "default-src 'none'",
      `style-src ${sources}`,
      `script-src ${sources}`,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': 'no-store',
    pragma: 'no-cache',
  };
}

/** Sends a page. */
export function sendPage(res: ServerResponse, status: number, page: SafeHtml, nonce: string): void {
  const body = page.text;
  res.writeHead(status, {
    ...pageHeaders(nonce),
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** Sends a 303 See Other to `location` (a GET, whatever the request's method was). */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { ...pageHeaders(undefined), location, 'content-length': '0' });
  res.end();
}

/** Largest form body read (bytes); the pages' forms send well under 1 KiB. */
const MAX_FORM_BYTES = 8_192;

/**
 * The fields of an `application/x-www-form-urlencoded` body (what the pages'
 * forms post). `request.invalid` for another content type or a body over
 * the limit. The rest of a refused body is drained, not cut, so the refusal
 * page still reaches the browser.
 */
export function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return Promise.reject(
      new ModgateError('request.invalid', 'expected a form (application/x-www-form-urlencoded)'),
    );
  }
  return readBounded(req, MAX_FORM_BYTES, 'drain').then((read) => {
    if (read.over) throw new ModgateError('request.invalid', `form larger than ${MAX_FORM_BYTES} bytes`);
    return new URLSearchParams(read.bytes.toString('utf8'));
  });
}
