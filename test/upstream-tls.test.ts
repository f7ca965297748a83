/**
 * Remote upstream TLS options: an extra CA and a client certificate for an
 * upstream that requires mutual TLS (a real https server on loopback).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { secretFile, startTestGateway, type TestGateway } from './support/gateway.ts';
import { type Stack, startStack } from './support/stack.ts';

let stack: Stack;
let upstream: Server;
let upstreamUrl: string;
const seenClientCerts: boolean[] = [];

beforeAll(async () => {
  stack = await startStack({ directory: 'file', upstream: 'dir' });
  upstream = createServer(
    {
      cert: stack.pki.certPem,
      key: stack.pki.keyPem,
      ca: stack.pki.caPem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      seenClientCerts.push((req.socket as TLSSocket).getPeerCertificate().subject !== undefined);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('v1.0.0\n');
    },
  );
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamUrl = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream?.close();
  await stack?.close();
});

async function gatewayWith(name: string, extra: Record<string, unknown>): Promise<TestGateway> {
  return startTestGateway(join(stack.dir, name), stack.pki, {
    directory: { file: { path: join(stack.dir, 'users.yaml') } },
    upstreams: { mtls: { kind: 'athens', url: upstreamUrl, ...extra } },
    default_upstream: 'mtls',
    policy: { path: stack.policyPath },
  });
}

const basic: [string, string] = [USERS.alice.name, USERS.alice.password];

describe('mutual TLS to an upstream', () => {
  it('with the extra CA and the client certificate, the upstream answers', async () => {
    const gw = await gatewayWith('mtls-ok', {
      ca: `file:${stack.pki.caCertPath}`,
      client_cert: `file:${stack.pki.certPath}`,
      client_key: `file:${stack.pki.keyPath}`,
    });
    try {
      const res = await httpsGet(gw.url, '/example.com/hello/@v/list', { ca: stack.pki.caPem, basic });
      expect(res.status, res.text).toBe(200);
      expect(res.text).toBe('v1.0.0\n');
      expect(seenClientCerts).toEqual([true]);
    } finally {
      await gw.close(1_000);
    }
  });

  it('without the client certificate the handshake fails: 502 with a one-line reason', async () => {
    const gw = await gatewayWith('mtls-none', { ca: `file:${stack.pki.caCertPath}` });
    try {
      const res = await httpsGet(gw.url, '/example.com/hello/@v/list', { ca: stack.pki.caPem, basic });
      expect(res.status).toBe(502);
      expect(res.text).toMatch(/^modgate: upstream mtls unreachable \(/);
    } finally {
      await gw.close(1_000);
    }
  });

  it('without the extra CA the upstream certificate is not trusted: 502', async () => {
    const gw = await gatewayWith('mtls-noca', {
      client_cert: await secretFile(stack.dir, 'c.pem', stack.pki.certPem),
      client_key: `file:${stack.pki.keyPath}`,
    });
    try {
      const res = await httpsGet(gw.url, '/example.com/hello/@v/list', { ca: stack.pki.caPem, basic });
      expect(res.status).toBe(502);
      expect(res.text).toMatch(
        /^modgate: upstream mtls unreachable \(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/,
      );
    } finally {
      await gw.close(1_000);
    }
  });
});
