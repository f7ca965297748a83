import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { ModgateError } from '../../core/errors.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';

/** What an upstream call knows of the request it is made for: its id, sent upstream as `x-request-id`. */
export interface Trace {
  readonly id: string;
}

/**
 * How a `serve` that answered ended: undefined, or the failure that cut a
 * response already started (its status had been sent, so the connection was cut).
 */
export type CutShort = ModgateError | undefined;

/**
 * Something that answers GOPROXY requests: a remote proxy (Athens, later
 * Artifactory) or a local folder. `serve` resolves once the response is
 * complete or has failed; it throws ModgateError only while nothing was sent
 * yet (the pipeline turns it into a refusal) and returns a later failure.
 */
export interface Upstream {
  readonly name: string;
  readonly kind: 'athens' | 'artifactory' | 'dir';
  serve(
    trace: Trace,
    request: GoproxyRequest,
    req: IncomingMessage,
    res: ServerResponse,
    /** The `Authorization` value for the upstream (chosen per route and subject), if any. */
    authorization: string | undefined,
  ): Promise<CutShort>;
  /**
   * Reads a small metadata document (`list`, `latest`, `info`) for modgate's
   * own use — filtering versions, resolving `@latest`, publish times — with the
   * same credential as forwarding. Failures throw the forwarding refusals
   * (a missing document: `upstream.not_found`/`upstream.gone`, or the dir
   * upstream's `request.not_found`).
   */
  fetchText(trace: Trace, request: MetadataRequest, authorization: string | undefined): Promise<string>;
  /**
   * GETs a `.mod` or `.zip` for modgate to read (to verify it before any of it
   * is sent): resolves with the body once the upstream answered 2xx, throws
   * the forwarding refusals otherwise. A body cut short errors with
   * `upstream.bad_response`; destroying it aborts the upstream request.
   */
  fetchBody(trace: Trace, request: BodyRequest, authorization: string | undefined): Promise<Readable>;
  close(): Promise<void>;
}

/** The requests whose answers modgate reads itself. */
export type MetadataRequest =
  | { kind: 'list' | 'latest'; module: string; escapedModule: string }
  | { kind: 'info'; module: string; escapedModule: string; version: string; escapedVersion: string };

/** The requests whose bodies modgate verifies before serving them. */
export type BodyRequest = Extract<GoproxyRequest, { version: string }> & { readonly kind: 'mod' | 'zip' };

export function isBodyRequest(request: GoproxyRequest): request is BodyRequest {
  return request.kind === 'mod' || request.kind === 'zip';
}

/** Content types of GOPROXY answers (the go command ignores them, browsers and caches do not). */
export function contentTypeOf(request: GoproxyRequest): string {
  switch (request.kind) {
    case 'info':
    case 'latest':
      return 'application/json';
    case 'zip':
      return 'application/zip';
    default:
      return 'text/plain; charset=utf-8';
  }
}
