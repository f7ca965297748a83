/**
 * Cross-host redirects never reach the go command. go ≥1.24 forwards GOAUTH
 * headers across a cross-host redirect, so a Location from modgate to
 * another host would hand the developer's token to that host. When Athens
 * answers a zip with 302 or 307 to a storage host elsewhere (here another
 * loopback address, 127.0.0.2), modgate fetches it itself: the client gets
 * 200 and the zip, no Location; the storage host gets neither the client's
 * credential nor modgate's upstream credential. A redirect modgate cannot
 * follow is a 502 with a one-line reason, never passed on.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

/** A loopback address other than the gateway's and Athens' 127.0.0.1: another host. */
const STORAGE_HOST = '127.0.0.2';
/** Where the emulator's storage links point; the storage host serves the fixture tree under it. */
const STORAGE_PREFIX = '/_storage';

let stack: Stack;
let storage: Server;
let storageOrigin: string;
/** What the storage host received. */
const received: { url: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  stack = await startStack({ directory: 'file', upstream: 'athens' });
  const root = stack.fixtures.root;
  storage = createServer((req, res) => {
    received.push({ url: req.url ?? '', headers: { ...req.headers } });
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://storage').pathname);
    const file = path.startsWith(`${STORAGE_PREFIX}/`) ? join(root, path.slice(STORAGE_PREFIX.length)) : '';
    stat(file).then(
      (s) => {
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': s.size });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => storage.listen(0, STORAGE_HOST, resolve));
  const address = storage.address();
  if (address === null || typeof address === 'string') throw new Error('storage did not listen');
  storageOrigin = `http://${STORAGE_HOST}:${address.port}`;
});

afterAll(async () => {
  await new Promise((resolve) => storage?.close(resolve));
  await stack?.close();
});

const alice: [string, string] = [USERS.alice.name, USERS.alice.password];

describe('an upstream redirect to another host', () => {
  it.each([302, 307] as const)(
    '%i: go downloads the zip through modgate; the storage host sees no credential',
    async (status) => {
      stack.athens!.configure({ redirectZips: true, redirectStatus: status, redirectOrigin: storageOrigin });
      received.length = 0;
      try {
        const env = await stack.goEnv(`redirect-${status}`, { login: alice[0], password: alice[1] });
        const version = status === 302 ? 'v1.0.0' : 'v1.1.0';
        const ok = await runGo(['mod', 'download', `example.com/hello@${version}`], {
          env: env.env,
          cwd: stack.dir,
        });
        expect(ok.code, ok.stderr).toBe(0);

        const direct = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.2.0.zip', {
          ca: stack.pki.caPem,
          basic: alice,
        });
        expect(direct.status).toBe(200);
        expect(direct.headers.location).toBeUndefined();
        expect(direct.body.length).toBeGreaterThan(0);

        expect(received.map((r) => r.url)).toEqual([
          expect.stringMatching(
            new RegExp(`^${STORAGE_PREFIX}/example\\.com/hello/@v/${version}\\.zip\\?signature=`),
          ),
          expect.stringMatching(
            new RegExp(`^${STORAGE_PREFIX}/example\\.com/hello/@v/v1\\.2\\.0\\.zip\\?signature=`),
          ),
        ]);
        for (const r of received) {
          expect(r.headers.authorization).toBeUndefined();
          expect(r.headers.cookie).toBeUndefined();
          const seen = JSON.stringify(r.headers);
          for (const secret of stack.secrets) expect(seen).not.toContain(secret);
        }
      } finally {
        stack.athens!.configure({ redirectZips: false, redirectOrigin: undefined });
      }
    },
    60_000,
  );

  it('a redirect modgate does not follow (ftp:) is a 502 with its reason, and no Location reaches the client', async () => {
    stack.athens!.configure({
      redirectZips: true,
      redirectStatus: 302,
      redirectOrigin: `ftp://${STORAGE_HOST}`,
    });
    try {
      const res = await httpsGet(stack.gateway.url, '/example.com/hello/@v/v1.0.0.zip', {
        ca: stack.pki.caPem,
        basic: alice,
      });
      expect(res.status).toBe(502);
      expect(res.headers.location).toBeUndefined();
      expect(res.text.split('\n')[0]).toMatch(
        /^modgate: upstream athens redirected to ftp: \(request [0-9a-f]{32}\)$/,
      );
    } finally {
      stack.athens!.configure({ redirectZips: false, redirectOrigin: undefined });
    }
  });
});
