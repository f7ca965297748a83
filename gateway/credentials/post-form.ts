import { type Agent as HttpAgent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ModgateError } from '../../core/errors.ts';
import { readBounded } from '../../core/read-bounded.ts';

/** Largest answer read from a token endpoint (bytes); a token response is a few kilobytes. */
export const MAX_FORM_RESPONSE_BYTES = 256 * 1024;

export interface PostFormOptions {
  /** Who is talking, first in every error message, e.g. `credential x: Artifactory token endpoint`. */
  readonly what: string;
  readonly agent: HttpAgent;
  /** The `Authorization` header; a secret, never put into an error. */
  readonly authorization: string;
  /** The whole exchange, connect to the last body byte (milliseconds). */
  readonly timeoutMs: number;
}

export interface FormResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * POSTs `fields` as `application/x-www-form-urlencoded` and reads the answer,
 * whatever its status. Socket failures become `upstream.unreachable`, the
 * deadline `upstream.timeout`, an oversized answer `upstream.bad_response`;
 * messages name `options.what` and the socket error code only, never a header.
 */
export function postForm(
  url: URL,
  fields: Record<string, string>,
  options: PostFormOptions,
): Promise<FormResponse> {
  const body = new URLSearchParams(fields).toString();
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: ModgateError | undefined, response?: FormResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err !== undefined) {
        req.destroy();
        reject(err);
      } else resolve(response!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new ModgateError(
            'upstream.timeout',
            `${options.what} did not answer within ${options.timeoutMs} ms`,
          ),
        ),
      options.timeoutMs,
    );
    const req = send(
      url,
      {
        method: 'POST',
        agent: options.agent,
        headers: {
          authorization: options.authorization,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        readBounded(res, MAX_FORM_RESPONSE_BYTES, 'destroy').then(
          ({ bytes, over }) =>
            over
              ? finish(new ModgateError('upstream.bad_response', `${options.what} sent an oversized answer`))
              : finish(undefined, {
                  status: res.statusCode ?? 0,
                  contentType: res.headers['content-type'] ?? '',
                  body: bytes.toString('utf8'),
                }),
          (err: unknown) => finish(socketError(options.what, err)),
        );
      },
    );
    req.on('error', (err) => finish(socketError(options.what, err)));
    req.end(body);
  });
}

function socketError(what: string, err: unknown): ModgateError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'connection failed';
  return new ModgateError('upstream.unreachable', `${what} unreachable (${code})`, { cause: err });
}
