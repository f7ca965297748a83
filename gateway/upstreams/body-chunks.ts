import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ownsItsMemory, releaseChunk } from '../../core/release-chunk.ts';

/**
 * Where a forwarded body goes: the client's ServerResponse, or a BodyPipe
 * when modgate reads the body itself (to verify it before anything is sent).
 */
export interface ForwardTarget {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer, done?: () => void): boolean;
  end(): unknown;
  destroy(): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
}

/**
 * Writes one body chunk to the client and gives its
 * memory back as soon as the client socket has taken it. A streamed body
 * arrives as 16–64 KB Buffers whose memory lives outside V8's heap and would
 * otherwise wait for a GC of their small JS wrappers; streaming allocates
 * little JS, so GCs are rare and released chunks pile up (bench/stream: 53–71
 * MB over idle for a 200 MB zip). Detaching the chunk's ArrayBuffer
 * (`transfer(0)`) frees that memory at once.
 *
 * Only a chunk that is the whole of its ArrayBuffer is released: a socket
 * read (plain or TLS) or a file read is exactly that, and nothing else holds
 * it once the write callback has run (the TLS layer encrypts, a plain socket
 * sends, before calling back). A view into a larger buffer — the first body
 * bytes behind the headers, a chunked-encoding piece, a pooled Buffer — may
 * share its memory, so it is left to the GC. Returns `res.write`'s answer:
 * false when the client cannot take more for now.
 */
export function writeChunk(res: Pick<ForwardTarget, 'write'>, chunk: Buffer): boolean {
  return ownsItsMemory(chunk) ? res.write(chunk, () => releaseChunk(chunk)) : res.write(chunk);
}

/**
 * Streams `body` into `res` with writeChunk, pausing while the client is
 * full. Resolves once the response has finished; rejects (and destroys both
 * ends) when the body fails or the client leaves first.
 */
export function streamBody(body: Readable, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      body.off('data', onData);
      res.off('drain', onDrain);
      body.destroy();
      res.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (!writeChunk(res, chunk)) body.pause();
    };
    const onDrain = () => body.resume();
    body.on('data', onData);
    res.on('drain', onDrain);
    body.once('error', fail);
    body.once('end', () => res.end());
    res.once('finish', () => resolve());
    res.once('close', () => {
      if (!res.writableFinished) fail(new Error('the client went away before the body was sent'));
    });
  });
}
