import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { ModgateError } from '../../core/errors.ts';
import type { RequestContext } from '../context.ts';
import type { GoproxyRequest } from '../goproxy-path.ts';

/** One forwarded request: its timers, its outgoing request once it has a socket, and how it settles. */
export interface Attempt {
  readonly ctx: RequestContext;
  readonly request: GoproxyRequest;
  readonly res: ServerResponse;
  readonly resolve: () => void;
  readonly reject: (err: ModgateError) => void;
  readonly timeoutMs: number;
  readonly makeTimeoutError: () => ModgateError;
  proxyReq: ClientRequest | undefined;
  timer: NodeJS.Timeout | undefined;
  timedOut: boolean;
  settled: boolean;
}

/**
 * Bookkeeping for in-flight forwards, keyed by the client request (the proxy
 * library's events only hand us `req`). Owns the timeout rules: the upstream
 * must start answering within `timeoutMs`, and may then stay silent mid-body
 * for at most `timeoutMs`. Settles each attempt exactly once; a failure after
 * the response started cuts the client connection (the status is gone).
 */
export class Attempts {
  readonly #live = new WeakMap<IncomingMessage, Attempt>();

  start(
    req: IncomingMessage,
    res: ServerResponse,
    base: Pick<Attempt, 'ctx' | 'request' | 'resolve' | 'reject'>,
    timeoutMs: number,
    makeTimeoutError: () => ModgateError,
  ): Attempt {
    const attempt: Attempt = {
      ...base,
      res,
      timeoutMs,
      makeTimeoutError,
      proxyReq: undefined,
      timer: undefined,
      timedOut: false,
      settled: false,
    };
    attempt.timer = setTimeout(() => this.#timeOut(attempt), timeoutMs);
    // The client went away: settle (http-proxy itself aborts the upstream request).
    res.once('close', () => this.succeed(attempt));
    this.#live.set(req, attempt);
    return attempt;
  }

  get(req: IncomingMessage): Attempt | undefined {
    const attempt = this.#live.get(req);
    return attempt && !attempt.settled ? attempt : undefined;
  }

  /** The outgoing request got its socket. A late socket for a finished attempt is dropped. */
  attach(req: IncomingMessage, proxyReq: ClientRequest): void {
    const attempt = this.get(req);
    if (attempt) attempt.proxyReq = proxyReq;
    else proxyReq.destroy();
  }

  /** Headers arrived: the first-byte timer stops, the idle timer starts. */
  responded(attempt: Attempt): void {
    clearTimeout(attempt.timer);
    attempt.proxyReq?.setTimeout(attempt.timeoutMs, () => this.#timeOut(attempt));
  }

  succeed(attempt: Attempt): void {
    if (attempt.settled) return;
    this.#settle(attempt);
    attempt.resolve();
  }

  fail(attempt: Attempt, err: ModgateError): void {
    if (attempt.settled) return;
    this.#settle(attempt);
    if (attempt.res.headersSent) {
      attempt.ctx.error = err;
      attempt.res.destroy();
      attempt.resolve();
    } else {
      attempt.reject(err);
    }
  }

  #timeOut(attempt: Attempt): void {
    attempt.timedOut = true;
    attempt.proxyReq?.destroy();
    this.fail(attempt, attempt.makeTimeoutError());
  }

  #settle(attempt: Attempt): void {
    attempt.settled = true;
    clearTimeout(attempt.timer);
  }
}
