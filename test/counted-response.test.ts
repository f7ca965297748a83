/**
 * The audit's body byte count comes from one place, the response
 * (gateway/pipeline/counted-response.ts): whatever writes the body, the count
 * is what the client received, and a HEAD answer counts nothing.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ModgateError } from '../core/errors.ts';
import { bodyBytesOf, CountedResponse } from '../gateway/pipeline/counted-response.ts';
import { writeJson, writeRefusal } from '../gateway/pipeline/respond.ts';

/** Serves one request with `handle`; resolves with the bytes the client read and the count once the response closed. */
async function exchange(
  method: 'GET' | 'HEAD',
  handle: (res: CountedResponse) => void,
): Promise<{ received: number; counted: number }> {
  let counted = -1;
  const server = createServer({ ServerResponse: CountedResponse }, (_req, res) => {
    res.once('close', () => {
      counted = bodyBytesOf(res);
    });
    handle(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const received = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, method, path: '/' }, (res) => {
        let n = 0;
        res.on('data', (b: Buffer) => {
          n += b.length;
        });
        res.on('end', () => resolve(n));
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    });
    for (let i = 0; i < 100 && counted === -1; i++) await new Promise((r) => setTimeout(r, 10));
    return { received, counted };
  } finally {
    server.close();
  }
}

describe('CountedResponse', () => {
  it('counts strings in their encoding, buffers and empty writes, as the client receives them', async () => {
    const got = await exchange('GET', (res) => {
      res.writeHead(200);
      res.write(Buffer.from([1, 2, 3]));
      res.write('', () => {});
      res.write('héllo', 'latin1');
      res.end('ünïcode ✓');
    });
    expect(got.counted).toBe(3 + 5 + Buffer.byteLength('ünïcode ✓'));
    expect(got.counted).toBe(got.received);
  });

  it("counts modgate's own documents and refusals", async () => {
    const json = await exchange('GET', (res) => writeJson(res, { status: 'ok' }));
    expect(json.counted).toBeGreaterThan(0);
    expect(json.counted).toBe(json.received);
    const refusal = await exchange('GET', (res) =>
      writeRefusal(res, 'req-1', new ModgateError('policy.denied', 'example.org/m@v1.0.0 denied')),
    );
    expect(refusal.counted).toBe(Buffer.byteLength('modgate: example.org/m@v1.0.0 denied\n'));
    expect(refusal.counted).toBe(refusal.received);
  });

  it('counts nothing for a HEAD answer, which has no body', async () => {
    const got = await exchange('HEAD', (res) => writeJson(res, { status: 'ok' }));
    expect(got).toEqual({ received: 0, counted: 0 });
  });
});
