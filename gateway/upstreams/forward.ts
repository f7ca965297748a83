import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, errors } from 'undici';
import type { ModgateError } from '../../core/errors.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import { type ForwardTarget, writeChunk } from './body-chunks.ts';
import { clientResponseHeaders } from './forward-headers.ts';
import { isRedirect, nextHop } from './redirects.ts';
import type { CutShort } from './upstream.ts';
import { errorForStatus, errorForTransport, type TransportLimits, timeoutError } from './upstream-errors.ts';

/** What a forward needs from its upstream: its name, origin, dispatchers and limits. */
export interface ForwardRoute extends TransportLimits {
  readonly upstream: string;
  readonly origin: string;
  /** Keep-alive pool to the upstream's own origin (its TLS settings; the credential may go there). */
  readonly pool: Dispatcher;
  /** Dispatcher for redirect targets on other hosts (storage, CDN), which never get the credential. */
  readonly foreign: Dispatcher;
}

/** One upstream request: where it goes, how, and with which headers. */
export interface ForwardRequest {
  /** The upstream's origin and the path there (the credential goes only to `route.origin`). */
  readonly origin: string;
  readonly path: string;
  readonly method: 'GET' | 'HEAD';
  readonly headers: IncomingHttpHeaders;
}

/**
 * One request forwarded with undici's dispatch API (what `Pool.stream` is
 * built on): the upstream body goes straight into the client response,
 * counted for the audit and paused while the client cannot keep up. The
 * upstream must start answering within `timeoutMs` — queueing and connecting
 * included, each redirect hop anew; mid-body silence is the pool's
 * `bodyTimeout`. Settles exactly once: rejects with a refusal while nothing
 * was sent; once the response started, resolves with the error and cuts
 * the client connection (the status is gone). A client that leaves aborts
 * the upstream request, which frees its connection.
 */
export class Forward implements Dispatcher.DispatchHandler {
  readonly #route: ForwardRoute;
  readonly #request: GoproxyRequest;
  readonly #res: ForwardTarget;
  readonly #method: 'GET' | 'HEAD';
  readonly #headers: IncomingHttpHeaders;
  /** Where the current hop goes: redirects resolve against it. */
  #origin: string;
  #path: string;
  #resolve: (cut: CutShort) => void = noop;
  #reject: (err: ModgateError) => void = noop;
  #timer: NodeJS.Timeout | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #abortReason: Error | undefined;
  #status = 0;
  #location: string | string[] | undefined;
  #hops = 0;
  #streaming = false;
  #settled = false;

  constructor(route: ForwardRoute, request: GoproxyRequest, res: ForwardTarget, to: ForwardRequest) {
    this.#route = route;
    this.#request = request;
    this.#res = res;
    this.#origin = to.origin;
    this.#path = to.path;
    this.#method = to.method;
    this.#headers = to.headers;
  }

  run(): Promise<CutShort> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#timer = setTimeout(this.#timeOut, this.#route.timeoutMs);
      this.#res.once('close', this.#clientGone);
      this.#send(this.#route.pool, this.#headers);
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Given up on while it waited for a connection.
    if (this.#abortReason) controller.abort(this.#abortReason);
    else this.#controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (status < 200) return;
    this.#status = status;
    // A redirect's body is drained (the connection stays usable); the next hop starts at its end.
    if (isRedirect(status)) {
      this.#location = headers.location;
      return;
    }
    clearTimeout(this.#timer);
    if (!((status >= 200 && status < 300) || status === 304)) {
      this.#fail(errorForStatus(this.#route.upstream, this.#request, status));
      return;
    }
    this.#res.writeHead(status, clientResponseHeaders(headers));
    this.#streaming = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#streaming) return;
    if (!writeChunk(this.#res, chunk)) {
      controller.pause();
      this.#res.once('drain', this.#resume);
    }
  }

  onResponseEnd(): void {
    if (this.#streaming) {
      this.#res.end();
      this.#settle();
      this.#resolve(undefined);
    } else if (isRedirect(this.#status) && !this.#settled) {
      this.#follow();
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#fail(errorForTransport(this.#route.upstream, err, this.#route));
  }

  #follow(): void {
    let hop: ReturnType<typeof nextHop>;
    try {
      hop = nextHop(
        this.#route.upstream,
        this.#location,
        this.#origin + this.#path,
        this.#route.origin,
        this.#headers,
        this.#hops,
      );
    } catch (err) {
      this.#fail(err as ModgateError);
      return;
    }
    this.#hops++;
    this.#origin = hop.url.origin;
    this.#path = hop.url.pathname + hop.url.search;
    this.#timer?.refresh();
    this.#send(hop.sameOrigin ? this.#route.pool : this.#route.foreign, hop.headers);
  }

  #send(dispatcher: Dispatcher, headers: IncomingHttpHeaders): void {
    this.#controller = undefined;
    this.#status = 0;
    dispatcher.dispatch({ origin: this.#origin, path: this.#path, method: this.#method, headers }, this);
  }

  readonly #resume = (): void => this.#controller?.resume();

  readonly #timeOut = (): void => {
    const err = timeoutError(this.#route.upstream, this.#route.timeoutMs);
    this.#fail(err);
    this.#abort(err);
  };

  /** The client went away: nobody reads the answer, so the upstream request ends too. */
  readonly #clientGone = (): void => {
    if (this.#settled) return;
    this.#settle();
    this.#resolve(undefined);
    this.#abort(new errors.RequestAbortedError('the client went away'));
  };

  #abort(reason: Error): void {
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  #fail(err: ModgateError): void {
    if (this.#settled) return;
    this.#settle();
    if (this.#res.headersSent) {
      this.#res.destroy();
      this.#resolve(err);
    } else {
      this.#reject(err);
    }
  }

  #settle(): void {
    this.#settled = true;
    clearTimeout(this.#timer);
  }
}

function noop(): void {}
