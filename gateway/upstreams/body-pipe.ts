import type { OutgoingHttpHeaders } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { ModgateError } from '../../core/errors.ts';
import type { ForwardTarget } from './body-chunks.ts';

/** Bytes of an upstream body buffered ahead of its reader before the upstream is paused. */
const BUFFER_BYTES = 64 * 1024;

/**
 * A ForwardTarget that hands an upstream body to modgate instead of a client
 * (to verify a `.mod` or `.zip` before any of it is sent): `started` resolves
 * once the upstream answered 2xx, `body` then carries the bytes, with
 * backpressure. A body the upstream cuts short ends `body` with
 * `upstream.bad_response`; destroying `body` aborts the upstream request.
 */
export class BodyPipe implements ForwardTarget {
  readonly body: Readable;
  readonly started: Promise<Readable>;
  readonly #pass = new PassThrough({ highWaterMark: BUFFER_BYTES });
  readonly #upstream: string;
  #start: (body: Readable) => void = () => {};
  #headersSent = false;

  constructor(upstream: string) {
    this.#upstream = upstream;
    this.body = this.#pass;
    this.started = new Promise((resolve) => {
      this.#start = resolve;
    });
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get destroyed(): boolean {
    return this.#pass.destroyed;
  }

  writeHead(_status: number, _headers: OutgoingHttpHeaders): void {
    this.#headersSent = true;
    this.#start(this.#pass);
  }

  /** Writes without the "taken" callback: a chunk sits in the buffer until read, so it must not be released. */
  write(chunk: Buffer): boolean {
    return this.#pass.write(chunk);
  }

  end(): void {
    this.#pass.end();
  }

  destroy(): void {
    this.#pass.destroy(
      new ModgateError('upstream.bad_response', `upstream ${this.#upstream} cut the body short`),
    );
  }

  once(event: 'close' | 'drain', listener: () => void): void {
    this.#pass.once(event, listener);
  }
}
