/**
 * A client that goes away while modgate is still authenticating must not cost
 * an upstream connection: with a pool of one socket, the next request would
 * otherwise wait for a socket that is never given back (the bench saw this
 * as 30 s upstream timeouts and an open breaker after wrk's rounds ended).
 */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet, startGet } from '../harness/https-client.ts';
import { sleep } from '../harness/redis.ts';
import { type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
const ABANDONED = 5;
/** A zip big enough to be mid-body when the client leaves (bytes). */
const BIG_ZIP_BYTES = 16 * 1024 * 1024;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    upstreamTimeout: '3s',
    gatewayConfig: async (config) => {
      const upstreams = config.upstreams as Record<string, Record<string, unknown>>;
      return { ...config, upstreams: { athens: { ...upstreams.athens, max_sockets: 1 } } };
    },
  });
  await writeLargeZip(stack.fixtures.root, 'example.com/big', 'v1.0.0', BIG_ZIP_BYTES);
});
afterAll(async () => {
  await stack?.close();
});

/** Sends a whole request, then closes the connection at once, before any answer. */
function abandon(path: string, user: { name: string; password: string }): Promise<void> {
  const url = new URL(stack.gateway.url);
  const basic = Buffer.from(`${user.name}:${user.password}`).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: stack.pki.caPem }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Basic ${basic}\r\n\r\n`, () =>
        socket.destroy(),
      );
    });
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
}

const get = () =>
  httpsGet(stack.gateway.url, INFO, { ca: stack.pki.caPem, basic: [USERS.bob.name, USERS.bob.password] });

/** Starts a zip download and leaves after the first body bytes; resolves with their count. */
function leaveMidBody(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = startGet(
      stack.gateway.url,
      path,
      { ca: stack.pki.caPem, basic: [USERS.bob.name, USERS.bob.password] },
      (res) =>
        res.once('data', (chunk: Buffer) => {
          req.destroy();
          resolve(chunk.length);
        }),
    );
    req.once('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

describe('a client that goes away', () => {
  it('before the upstream answers: no upstream socket is tied up, later requests are served at once', async () => {
    expect((await get()).status).toBe(200);
    for (let i = 0; i < ABANDONED; i++) {
      // Gone right after sending: modgate is still authenticating when the connection closes.
      await abandon(INFO, USERS.alice);
      await sleep(50);
    }
    await sleep(300);
    const started = Date.now();
    const res = await get();
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 30_000);

  it('mid-body: the upstream response is dropped, its socket freed', async () => {
    expect(await leaveMidBody('/example.com/big/@v/v1.0.0.zip')).toBeGreaterThan(0);
    await sleep(300);
    const started = Date.now();
    expect((await get()).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 30_000);
});
