/**
 * The checksum-database transport (gateway/integrity/sumdb-transport.ts):
 * only a lookup the database does not hold is "not found" (which integrity
 * reports as a version the database has no record of); a missing tile, a 5xx
 * or a closed port is the database failing, `sumdb.unavailable`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isModgateError } from '../core/errors.ts';
import { HttpSumdbTransport } from '../gateway/integrity/sumdb-transport.ts';
import { freePort } from '../harness/ports.ts';

let server: Server;
let transport: HttpSumdbTransport;

beforeAll(async () => {
  server = createServer((req, res) => {
    const status =
      req.url === '/sumdb/db.test/latest'
        ? 200
        : req.url?.includes('/tile/')
          ? 404
          : req.url?.includes('/lookup/')
            ? 410
            : 500;
    res.writeHead(status).end(status === 200 ? 'head\n' : '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  transport = new HttpSumdbTransport('db.test', new URL(`http://127.0.0.1:${port}/sumdb/db.test`));
});

afterAll(async () => {
  await transport?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function failure(get: Promise<unknown>): Promise<unknown> {
  return get.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('HttpSumdbTransport', () => {
  it('answers a 200 body, below the database URL', async () => {
    expect((await transport.get('latest')).toString()).toBe('head\n');
  });

  it('a lookup the database does not hold is upstream.not_found; a missing tile or a 5xx is sumdb.unavailable', async () => {
    expect(
      isModgateError(await failure(transport.get('lookup/example.com/m@v1.0.0')), 'upstream.not_found'),
    ).toBe(true);
    expect(isModgateError(await failure(transport.get('tile/8/0/000')), 'sumdb.unavailable')).toBe(true);
    expect(isModgateError(await failure(transport.get('other')), 'sumdb.unavailable')).toBe(true);
  });

  it('a database nobody listens for is sumdb.unavailable', async () => {
    const closed = new HttpSumdbTransport('db.test', new URL(`http://127.0.0.1:${await freePort()}`));
    try {
      expect(isModgateError(await failure(closed.get('latest')), 'sumdb.unavailable')).toBe(true);
    } finally {
      await closed.close();
    }
  });
});
