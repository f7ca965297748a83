import type { Readable } from 'node:stream';

/** A body read with a size limit: at most `limit` bytes kept, `over` when there were more. */
export interface BoundedBody {
  readonly bytes: Buffer;
  /** Bytes received (beyond the limit too, when drained). */
  readonly size: number;
  readonly over: boolean;
}

/**
 * What to do at the first byte beyond the limit: `drain` reads on to the end
 * and drops the rest (so an answer can still be sent on the connection),
 * `pause` stops reading (the caller answers and closes), `destroy` ends the
 * stream (an upstream's body nobody will read).
 */
export type Overflow = 'drain' | 'pause' | 'destroy';

/** Reads `stream` to its end, or to the first byte beyond `limit`; rejects with the stream's error. */
export function readBounded(stream: Readable, limit: number, overflow: Overflow): Promise<BoundedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    const done = (over: boolean) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', reject);
      resolve({ bytes: Buffer.concat(chunks, kept), size, over });
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (kept < limit) {
        const part = size > limit ? bytes.subarray(0, bytes.length - (size - limit)) : bytes;
        chunks.push(part);
        kept += part.length;
      }
      if (size <= limit || overflow === 'drain') return;
      if (overflow === 'pause') stream.pause();
      else stream.destroy();
      done(true);
    };
    const onEnd = () => done(size > limit);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', reject);
  });
}
