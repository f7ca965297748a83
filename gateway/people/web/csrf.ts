import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ModgateError } from '../../../core/errors.ts';
import { deriveKey } from './cookies.ts';
import type { WebSession } from './session.ts';

/** Name of the hidden form field that carries the CSRF token. */
export const CSRF_FIELD = 'csrf';

/**
 * Cross-site request forgery protection for every form that changes
 * something (OWASP CSRF cheat sheet: synchronizer token, plus fetch metadata
 * and Origin checks as defence in depth):
 *
 * - the form carries HMAC-SHA256(session id) under a key derived from
 *   `sso.session_key`; another site can neither read nor compute it;
 * - `Sec-Fetch-Site`, when the browser sends it, must be `same-origin`;
 * - `Origin`, when sent, must be modgate's public origin, or `null` together
 *   with `Sec-Fetch-Site: same-origin` (what browsers send for a same-origin
 *   post from a page under `Referrer-Policy: no-referrer`, Fetch §3.2.5).
 */
export class Csrf {
  readonly #key: KeyObject;
  readonly #origin: string;

  /** `publicUrl` is `listen.public_url`; only its origin counts. */
  constructor(sessionKey: string, publicUrl: string) {
    this.#key = createSecretKey(deriveKey(sessionKey, 'csrf'));
    this.#origin = new URL(publicUrl).origin;
  }

  /** The token forms of `session` carry. */
  token(session: WebSession): string {
    return createHmac('sha256', this.#key).update(session.sid).digest('base64url');
  }

  /** Throws `request.forbidden` with a one-line reason unless the post came from one of this session's pages. */
  check(req: IncomingMessage, submitted: string | undefined, session: WebSession): void {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin') {
      throw forbidden(`cross-site form submission refused (Sec-Fetch-Site: ${site.slice(0, 20)})`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.#origin && !(origin === 'null' && site === 'same-origin')) {
      throw forbidden('form submission from another origin refused');
    }
    const expected = Buffer.from(this.token(session));
    const given = Buffer.from(submitted ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw forbidden('missing or invalid CSRF token; reload the page and try again');
    }
  }
}

function forbidden(reason: string): ModgateError {
  return new ModgateError('request.forbidden', reason);
}
