import { createReadStream } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { ModgateError } from '../../core/errors.ts';
import { streamBody } from '../upstreams/body-chunks.ts';
import type { BodyRequest, CutShort } from '../upstreams/upstream.ts';
import { contentTypeOf } from '../upstreams/upstream.ts';
import { ChangedOnDisk } from './checked-read.ts';
import type { KeptFile } from './verified-cache.ts';

/** Serves a kept file (every byte checked against its hash on the way); closes it. */
export async function sendKept(
  kept: KeptFile,
  request: BodyRequest,
  method: string,
  res: ServerResponse,
): Promise<CutShort> {
  if (method === 'HEAD') {
    writeHeaders(res, request, kept.size);
    res.end();
    await kept.close();
    return undefined;
  }
  writeHeaders(res, request, kept.size);
  return send(kept.read(), res);
}

/** Serves a spooled file that is not kept (warn mode: served although it did not verify). */
export function sendSpooled(
  path: string,
  size: number,
  request: BodyRequest,
  res: ServerResponse,
): Promise<CutShort> {
  writeHeaders(res, request, size);
  return send(createReadStream(path), res);
}

function writeHeaders(res: ServerResponse, request: BodyRequest, size: number): void {
  res.writeHead(200, {
    'content-type': contentTypeOf(request),
    'content-length': String(size),
    // Immutable for a version: the bytes were verified against go.sum's hash.
    'cache-control': 'private, max-age=86400',
  });
}

/** Streams the body; a client that leaves is no failure, a file that changed on disk cuts the response. */
async function send(body: Readable, res: ServerResponse): Promise<CutShort> {
  let failure: unknown;
  body.once('error', (err) => {
    failure = err;
  });
  try {
    await streamBody(body, res);
    return undefined;
  } catch {
    if (failure instanceof ChangedOnDisk) {
      return new ModgateError('integrity.mismatch', 'a verified file changed on disk; it was dropped', {
        cause: failure,
      });
    }
    if (failure !== undefined)
      return new ModgateError('internal', 'reading a verified file failed', { cause: failure });
    return undefined;
  }
}
