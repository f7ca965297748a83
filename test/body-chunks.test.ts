/**
 * Streamed body chunks give their memory back once the client socket has
 * taken them (gateway/upstreams/body-chunks.ts). Releasing a chunk too early,
 * or one whose memory something else still uses, would corrupt a download or
 * crash the parser that shares it; so besides the unit checks, large zips are
 * read slowly through both upstream kinds (the client stalls, modgate pauses
 * the upstream again and again) and must arrive byte for byte.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer as createHttpServer, get, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountedResponse } from '../gateway/pipeline/counted-response.ts';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { streamBody, writeChunk } from '../gateway/upstreams/body-chunks.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { startGet } from '../harness/https-client.ts';
import { startTestGateway, type TestGateway } from './support/gateway.ts';
import { type Stack, startStack } from './support/stack.ts';

/** One throwaway loopback server whose handler gets the response; resolves with what the client read. */
async function serveOnce(
  handle: (res: ServerResponse) => Promise<void> | void,
): Promise<{ body: Buffer; counted: CountedResponse }> {
  let counted: CountedResponse | undefined;
  const server = createHttpServer({ ServerResponse: CountedResponse }, (_req, res) => {
    counted = res;
    void handle(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<Buffer>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (p: Buffer) => parts.push(p));
        res.on('end', () => resolve(Buffer.concat(parts)));
        res.on('error', reject);
      }).on('error', reject);
    });
    return { body, counted: counted! };
  } finally {
    server.close();
  }
}

/** Writes `chunk` with writeChunk and resolves once its write callback has run (the server's next write waits for it). */
function writeAndSettle(res: ServerResponse, chunk: Buffer): Promise<void> {
  writeChunk(res, chunk);
  return new Promise((resolve) => res.write('', () => resolve()));
}

describe('writeChunk', () => {
  it('releases a chunk that is the whole of its memory once written, after the client got its bytes', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const { body, counted } = await serveOnce(async (res) => {
      await writeAndSettle(res, chunk);
      res.end();
    });
    expect(body.equals(Buffer.alloc(64 * 1024, 'a'))).toBe(true);
    expect(counted.bodyBytes).toBe(64 * 1024);
    expect(chunk.buffer.detached).toBe(true);
  });

  it('leaves views into larger memory, small chunks and empty chunks alone', async () => {
    const shared = Buffer.alloc(128 * 1024, 'b');
    const view = shared.subarray(100);
    const small = Buffer.from(new ArrayBuffer(4096));
    const empty = Buffer.from(new ArrayBuffer(0));
    const { body, counted } = await serveOnce(async (res) => {
      for (const chunk of [view, small, empty]) await writeAndSettle(res, chunk);
      res.end();
    });
    expect(body.length).toBe(view.length + small.length);
    expect(counted.bodyBytes).toBe(view.length + small.length);
    for (const chunk of [shared, small, empty]) expect(chunk.buffer.detached).toBe(false);
  });
});

describe('streamBody', () => {
  it('streams a body to the end and counts it', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(32 * 1024, i));
    const { body, counted } = await serveOnce((res) => streamBody(Readable.from(parts), res));
    // The parts were released once written (their length reads 0 now), so compare against fresh copies.
    expect(body.equals(Buffer.concat(parts.map((_, i) => Buffer.alloc(32 * 1024, i))))).toBe(true);
    expect(counted.bodyBytes).toBe(20 * 32 * 1024);
  });

  it('rejects and destroys the body when the client leaves first', async () => {
    const server = createHttpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const endless = new Readable({ read: () => endless.push(Buffer.alloc(64 * 1024)) });
    const outcome = new Promise<unknown>((resolve) => {
      server.once('request', (_req, res) => {
        streamBody(endless, res).then(resolve, resolve);
      });
    });
    get({ host: '127.0.0.1', port, path: '/' }, (res) => res.once('data', () => res.destroy())).on(
      'error',
      () => {},
    );
    const err = await outcome;
    server.close();
    expect(err).toBeInstanceOf(Error);
    expect(endless.destroyed).toBe(true);
  });
});

/** A zip large enough for hundreds of chunks and many pauses (bytes). */
const ZIP_BYTES = 24 * 1024 * 1024;
/** How long the slow client stalls after each piece it reads (ms), for the first STALLS pieces. */
const STALL_MS = 2;
const STALLS = 40;

/** Downloads `path` while stalling after each of the first STALLS pieces; resolves with the sha-256 and length. */
function slowDownload(
  gateway: { url: string; ca: string },
  path: string,
): Promise<{ status: number; sha: string; length: number }> {
  return new Promise((resolve, reject) => {
    const basic: [string, string] = [USERS.bob.name, USERS.bob.password];
    const req = startGet(gateway.url, path, { ca: gateway.ca, basic }, (res) => {
      const hash = createHash('sha256');
      let length = 0;
      let stalls = 0;
      res.on('data', (piece: Buffer) => {
        hash.update(piece);
        length += piece.length;
        if (stalls++ < STALLS) {
          res.pause();
          void sleep(STALL_MS).then(() => res.resume());
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sha: hash.digest('hex'), length }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

for (const upstream of ['athens', 'dir'] as const) {
  describe(`a ${ZIP_BYTES / 2 ** 20} MB zip read slowly through the ${upstream} upstream`, () => {
    let stack: Stack;
    let expected: { sha: string; length: number };
    const path = '/example.com/big/@v/v1.0.0.zip';
    beforeAll(async () => {
      stack = await startStack({ directory: 'file', upstream });
      await writeLargeZip(stack.fixtures.root, 'example.com/big', 'v1.0.0', ZIP_BYTES);
      const hash = createHash('sha256');
      let length = 0;
      for await (const piece of createReadStream(
        join(stack.fixtures.root, 'example.com/big/@v/v1.0.0.zip'),
      )) {
        hash.update(piece as Buffer);
        length += (piece as Buffer).length;
      }
      expected = { sha: hash.digest('hex'), length };
    });
    afterAll(async () => {
      await stack?.close();
    });

    it('arrives byte for byte, three downloads at once', async () => {
      const results = await Promise.all(
        [0, 1, 2].map(() => slowDownload({ url: stack.gateway.url, ca: stack.pki.caPem }, path)),
      );
      for (const r of results)
        expect({ status: r.status, sha: r.sha, length: r.length }).toEqual({ status: 200, ...expected });
      expect(expected.length).toBeGreaterThan(ZIP_BYTES - 64 * 1024);
    });
  });
}

describe(`a ${ZIP_BYTES / 2 ** 20} MB zip read slowly from an upstream over TLS`, () => {
  // Over TLS the body arrives as 16 KB pieces (one per TLS record) or joins of several, each its own memory.
  const body = Buffer.alloc(ZIP_BYTES);
  for (let i = 0; i < body.length; i += 4) body.writeUInt32LE(i, i);
  let stack: Stack;
  let upstream: HttpsServer;
  let gateway: TestGateway;
  beforeAll(async () => {
    stack = await startStack({ directory: 'file', upstream: 'dir' });
    upstream = createHttpsServer({ cert: stack.pki.certPem, key: stack.pki.keyPem }, (_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/zip', 'content-length': String(body.length) })
        .end(body);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    gateway = await startTestGateway(join(stack.dir, 'tls-upstream'), stack.pki, {
      directory: { file: { path: join(stack.dir, 'users.yaml') } },
      upstreams: { tls: { kind: 'athens', url, ca: `file:${stack.pki.caCertPath}` } },
      default_upstream: 'tls',
      policy: { path: stack.policyPath },
    });
  });
  afterAll(async () => {
    await gateway?.close(1_000);
    upstream?.close();
    await stack?.close();
  });

  it('arrives byte for byte, three downloads at once', async () => {
    const expected = {
      status: 200,
      sha: createHash('sha256').update(body).digest('hex'),
      length: body.length,
    };
    const downloads = [0, 1, 2].map(() =>
      slowDownload({ url: gateway.url, ca: stack.pki.caPem }, '/example.com/big/@v/v1.0.0.zip'),
    );
    for (const r of await Promise.all(downloads)) expect(r).toEqual(expected);
  });
});
