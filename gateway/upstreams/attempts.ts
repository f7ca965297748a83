import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ModgateError } from '../../core/errors.ts';
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
  readonly idleTimeoutMs: number;
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
    idleTimeoutMs: number = timeoutMs,
  ): Attempt {
    const attempt: Attempt = {
      ...base,
      res,
      timeoutMs,
      idleTimeoutMs,
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

  /**
   * The outgoing request got its socket. A late socket for a finished attempt
   * is dropped. A new connection must be established within `connectTimeoutMs`.
   */
  attach(req: IncomingMessage, proxyReq: ClientRequest, connectTimeoutMs: number, upstream: string): void {
    const attempt = this.get(req);
    if (!attempt) {
      proxyReq.destroy();
      return;
    }
    attempt.proxyReq = proxyReq;
    const watch = (socket: Socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => {
        const err = new ModgateError(
          'upstream.unreachable',
          `upstream ${upstream} did not accept a connection within ${connectTimeoutMs} ms`,
        );
        proxyReq.destroy();
        this.fail(attempt, err);
      }, connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    };
    // The proxy library may hand the request over before or after it has a socket.
    if (proxyReq.socket) watch(proxyReq.socket);
    else proxyReq.once('socket', watch);
  }

  /** Headers arrived: the first-byte timer stops, the idle timer starts. */
  responded(attempt: Attempt): void {
    clearTimeout(attempt.timer);
    attempt.proxyReq?.setTimeout(attempt.idleTimeoutMs, () => this.#timeOut(attempt));
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
