import { type IncomingMessage, ServerResponse } from 'node:http';

/**
 * A response that counts the body bytes it sends, for the audit record. Every
 * body byte passes `write` or `end`, whoever writes it (forwarding, a folder
 * stream, modgate's own documents, pages and refusals), so this is the one
 * place bytes are counted. The servers are made with it (the `ServerResponse`
 * option of createServer). A HEAD response sends no body, and counts none.
 */
export class CountedResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  #bodyBytes = 0;

  /** Body bytes handed to the connection so far. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the overloads of ServerResponse.write, as @types/node declares them
  override write(chunk: any, encoding?: any, callback?: any): boolean {
    this.#count(chunk, encoding);
    return super.write(chunk, encoding, callback);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the overloads of ServerResponse.end, as @types/node declares them
  override end(chunk?: any, encoding?: any, callback?: any): this {
    if (typeof chunk !== 'function') this.#count(chunk, encoding);
    return super.end(chunk, encoding, callback);
  }

  #count(chunk: unknown, encoding: unknown): void {
    if (chunk === undefined || chunk === null || this.req.method === 'HEAD') return;
    if (typeof chunk === 'string')
      this.#bodyBytes += Buffer.byteLength(
        chunk,
        typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
      );
    else if (ArrayBuffer.isView(chunk)) this.#bodyBytes += chunk.byteLength;
  }
}

/** Body bytes a response sent: counted by {@link CountedResponse}, 0 for any other response. */
export function bodyBytesOf(res: ServerResponse): number {
  return res instanceof CountedResponse ? res.bodyBytes : 0;
}
