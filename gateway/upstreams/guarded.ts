import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { isModgateError } from '../../core/errors.ts';
import type { GoproxyRequest } from '../protocol/goproxy-path.ts';
import type { CircuitBreaker } from './circuit-breaker.ts';
import type { BodyRequest, CutShort, MetadataRequest, Trace, Upstream } from './upstream.ts';

/** What counts against an upstream's circuit: it failed or was too slow, not "no such module". */
export function countsAsFailure(err: unknown): boolean {
  return (
    isModgateError(err, 'upstream.unreachable') ||
    isModgateError(err, 'upstream.timeout') ||
    isModgateError(err, 'upstream.bad_response')
  );
}

/**
 * An upstream behind its circuit breaker: while the circuit is open, calls
 * fail fast with `upstream.circuit_open` (503) instead of waiting for an
 * upstream known to be failing; half-open probes close it again on success.
 */
export class GuardedUpstream implements Upstream {
  readonly name: string;
  readonly kind: Upstream['kind'];
  readonly inner: Upstream;
  readonly breaker: CircuitBreaker;

  constructor(inner: Upstream, breaker: CircuitBreaker) {
    this.inner = inner;
    this.name = inner.name;
    this.kind = inner.kind;
    this.breaker = breaker;
  }

  async serve(
    trace: Trace,
    request: GoproxyRequest,
    req: IncomingMessage,
    res: ServerResponse,
    authorization: string | undefined,
  ): Promise<CutShort> {
    const permit = this.breaker.enter();
    let cut: CutShort;
    try {
      cut = await this.inner.serve(trace, request, req, res, authorization);
    } catch (err) {
      if (countsAsFailure(err)) permit.failure();
      else permit.success();
      throw err;
    }
    if (countsAsFailure(cut)) permit.failure();
    else permit.success();
    return cut;
  }

  fetchText(trace: Trace, request: MetadataRequest, authorization: string | undefined): Promise<string> {
    return this.breaker.run(() => this.inner.fetchText(trace, request, authorization), countsAsFailure);
  }

  /** Counts until the body starts: a body cut short later is the reader's to report. */
  fetchBody(trace: Trace, request: BodyRequest, authorization: string | undefined): Promise<Readable> {
    return this.breaker.run(() => this.inner.fetchBody(trace, request, authorization), countsAsFailure);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
