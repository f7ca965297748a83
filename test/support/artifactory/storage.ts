/**
 * The cloud storage that "Direct Cloud Storage Download" redirects to (JFrog
 * docs: a repository configured to redirect answers a download with 302 and
 * a Location holding a signed URL to the storage; the header
 * `X-JFrog-Download-Redirect-To: None` makes Artifactory serve the file
 * itself). Like a pre-signed S3 URL, the URL alone is the credential:
 * `/storage/<repo-key>/<module>/@v/<version>.zip?signature=<hmac>&expires=<unix s>`,
 * and a request that also carries an Authorization header is refused as S3
 * refuses it ("Only one auth mechanism allowed"). Errors are S3-style XML.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { type Exchange, reply, replyFile } from './http.ts';
import type { GoRepository } from './types.ts';

/** Path prefix of storage URLs. */
export const STORAGE_PREFIX = '/storage/';

/** Default lifetime of a signed storage URL (seconds). */
export const DEFAULT_SIGNED_URL_TTL_S = 30;

/** Signs and checks storage URLs with a per-emulator key and the emulator clock. */
export class UrlSigner {
  readonly #key = randomBytes(32);
  readonly #now: () => number;

  /** `now`: the emulator clock (milliseconds since the epoch). */
  constructor(now: () => number) {
    this.#now = now;
  }

  /** `origin` + `pathname` with `signature` and `expires` valid for `ttlSeconds`. */
  sign(origin: string, pathname: string, ttlSeconds: number): string {
    const url = new URL(origin);
    url.pathname = pathname;
    const expires = Math.floor(this.#now() / 1000) + ttlSeconds;
    url.searchParams.set('signature', this.#mac(url.pathname, String(expires)));
    url.searchParams.set('expires', String(expires));
    return url.href;
  }

  /** Whether the URL is one this signer made (path and expiry untouched) and has not expired. */
  check(url: URL): 'ok' | 'bad-signature' | 'expired' {
    const expires = url.searchParams.get('expires') ?? '';
    const given = Buffer.from(url.searchParams.get('signature') ?? '');
    const wanted = Buffer.from(this.#mac(url.pathname, expires));
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return 'bad-signature';
    return Number(expires) * 1000 <= this.#now() ? 'expired' : 'ok';
  }

  #mac(pathname: string, expires: string): string {
    return createHmac('sha256', this.#key).update(`${pathname}\n${expires}`).digest('hex');
  }
}

/** Serves one storage request: the zip for a valid signature, else an S3-style error. */
export async function serveStorage(
  x: Exchange,
  url: URL,
  path: string,
  signer: UrlSigner,
  repositories: ReadonlyMap<string, GoRepository>,
): Promise<void> {
  if (x.req.method !== 'GET' && x.req.method !== 'HEAD') {
    return s3Error(x, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  if (x.req.headers.authorization !== undefined) {
    return s3Error(
      x,
      400,
      'InvalidArgument',
      'Only one auth mechanism allowed; only the signature query parameter or the Authorization header should be specified',
    );
  }
  const verdict = signer.check(url);
  if (verdict === 'expired') return s3Error(x, 403, 'AccessDenied', 'Request has expired');
  if (verdict !== 'ok') {
    return s3Error(
      x,
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  const rest = path.startsWith(STORAGE_PREFIX) ? path.slice(STORAGE_PREFIX.length) : '';
  const slash = rest.indexOf('/');
  const repo = repositories.get(rest.slice(0, Math.max(slash, 0)));
  const file = rest.slice(slash + 1);
  if (repo === undefined || file.split('/').includes('..')) return noSuchKey(x);
  if (!(await replyFile(x, join(repo.root, file), 'application/zip'))) return noSuchKey(x);
}

function noSuchKey(x: Exchange): void {
  s3Error(x, 404, 'NoSuchKey', 'The specified key does not exist.');
}

function s3Error(x: Exchange, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
  reply(x, status, { 'content-type': 'application/xml' }, body);
}
