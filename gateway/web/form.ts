import type { IncomingMessage } from 'node:http';
import { ModgateError } from '../../core/errors.ts';

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
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORM_BYTES) chunks.push(chunk);
    });
    req.once('error', reject);
    req.once('end', () => {
      if (size > MAX_FORM_BYTES) {
        reject(new ModgateError('request.invalid', `form larger than ${MAX_FORM_BYTES} bytes`));
      } else {
        resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      }
    });
  });
}
