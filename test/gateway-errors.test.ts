/**
 * Refusals that never reach the upstream (bad paths, methods, credentials)
 * and upstream failures (down → 502, silent → 504), each a text/plain body
 * whose first line is the reason.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { freePort } from '../harness/ports.ts';
import { secretFile, startTestGateway } from './support/gateway.ts';
import { type Stack, startStack, UPSTREAM_PASSWORD, UPSTREAM_USER } from './support/stack.ts';

let stack: Stack;
/** The operator's `checksum_databases`. */
const SERVED_SUMDBS = ['sum.golang.org', 'sum.golang.google.cn'];
const basic: [string, string] = [USERS.alice.name, USERS.alice.password];

/** Listens with a full accept queue and prints its port: connections to it hang in SYN. */
const BLACKHOLE_PY = `
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
port = s.getsockname()[1]
fill = []
for _ in range(8):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(('127.0.0.1', port))
    except BlockingIOError: pass
    fill.append(c)
print(port, flush=True)
time.sleep(60)
`;

beforeAll(async () => {
  stack = await startStack({
    directory: 'file',
    upstream: 'athens',
    upstreamTimeout: '1s',
    gatewayConfig: async (config) => ({ ...config, checksum_databases: SERVED_SUMDBS }),
  });
  // An upstream that proxies any checksum database it is asked for.
  stack.athens!.configure({ sumdbs: [...SERVED_SUMDBS, 'evil.example'] });
});
afterAll(async () => {
  await stack?.close();
});

const get = (path: string, opts: { method?: string; authorization?: string; anonymous?: boolean } = {}) =>
  httpsGet(stack.gateway.url, path, {
    ca: stack.pki.caPem,
    ...(opts.anonymous ? {} : { basic }),
    ...(opts.authorization === undefined ? {} : { authorization: opts.authorization }),
    method: opts.method ?? 'GET',
  });

function expectOneLine(res: { headers: Record<string, unknown>; text: string }, line: string | RegExp) {
  expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  const first = res.text.split('\n')[0] ?? '';
  if (typeof line === 'string') expect(first).toBe(line);
  else expect(first).toMatch(line);
}

describe('bad request paths: 400, reason first, nothing sent upstream', () => {
  const twoKb = `/example.com/${'a'.repeat(2048)}/@v/list`;
  it.each([
    ['a .. element', '/example.com/../x/@v/list', /^modgate: invalid .*"\.\."/],
    ['percent-encoded ..', '/%2e%2e/@v/list', /^modgate: invalid .*"\.\."/],
    ['an empty element', '/example.com//x/@v/list', /^modgate: invalid /],
    [
      'bare uppercase',
      '/github.com/Acme/tool/@v/list',
      /^modgate: invalid .*uppercase|^modgate: invalid .*escap/i,
    ],
    ['a bad ! escape', '/github.com/%21A/tool/@v/list', /^modgate: invalid /],
    ['a trailing !', '/github.com/acme!/@v/list', /^modgate: invalid /],
    ['a NUL byte', '/example.com/a%00b/@v/list', /^modgate: request path contains a control character/],
    ['a malformed percent escape', '/example.com/%zz/@v/list', /^modgate: malformed percent-encoding/],
    ['a 2 KB path', twoKb, /^modgate: request path longer than 1024 bytes/],
    ['a non-semver .zip version', '/example.com/hello/@v/v1.0.zip', /^modgate: version "v1.0" invalid/],
    ['a non-semver .mod version', '/example.com/hello/@v/latest.mod', /^modgate: version "latest" invalid/],
    ['a version with a bad escape', '/example.com/hello/@v/v1.0.0!.info', /^modgate: invalid .*version/],
  ])('%s', async (_name, path, line) => {
    const before = stack.athens!.requests.length;
    const res = await get(path);
    expect(res.status).toBe(400);
    expectOneLine(res, line);
    expect(stack.athens!.requests.length).toBe(before);
  });
});

describe('other refusals before the upstream', () => {
  it('an unknown route is 404', async () => {
    const res = await get('/favicon.ico');
    expect(res.status).toBe(404);
    expectOneLine(res, /^modgate: no such GOPROXY endpoint/);
  });

  it('a write method is 405 with Allow', async () => {
    const res = await get('/example.com/hello/@v/list', { method: 'PUT' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expectOneLine(res, 'modgate: method PUT not allowed; GOPROXY is read-only');
  });

  it('no credentials is 401 with a Basic challenge and netrc instructions', async () => {
    const res = await get('/example.com/hello/@v/list', { anonymous: true });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="modgate", charset="UTF-8"');
    expectOneLine(res, 'modgate: authentication required');
    expect(res.text).toContain('machine 127.0.0.1 login <user> password');
    expect(res.text).not.toContain('\n\n');
  });

  it.each([
    ['a non-Basic scheme', 'Digest x', /^modgate: unsupported authorization scheme "digest"/],
    ['invalid base64', 'Basic !!!', 'modgate: Basic credentials are not valid base64'],
    ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`, /lack the ":"/],
    [
      'an empty user',
      `Basic ${Buffer.from(':pw').toString('base64')}`,
      'modgate: Basic credentials have an empty user name',
    ],
  ])('a malformed Authorization header (%s) is 401 with the reason', async (_n, authorization, line) => {
    const res = await get('/example.com/hello/@v/list', { authorization });
    expect(res.status).toBe(401);
    expectOneLine(res, line);
  });

  it('an unknown user and a wrong password get the same answer', async () => {
    const unknown = await httpsGet(stack.gateway.url, '/example.com/hello/@v/list', {
      ca: stack.pki.caPem,
      basic: ['nobody', 'x'],
    });
    const wrong = await httpsGet(stack.gateway.url, '/example.com/hello/@v/list', {
      ca: stack.pki.caPem,
      basic: ['alice', 'x'],
    });
    expect(unknown.status).toBe(401);
    expect(unknown.text.split('\n')[0]).toBe(wrong.text.split('\n')[0]);
    expectOneLine(wrong, 'modgate: invalid username or password');
  });
});

describe('query strings are refused before authentication and never forwarded', () => {
  it.each([
    ['a module request', '/example.com/hello/@v/v1.0.0.info?redirect=http://127.0.0.2/'],
    ['a list', '/example.com/hello/@v/list?go-get=1'],
    ['@latest with an empty query', '/example.com/hello/@latest?'],
    ['a zip', '/example.com/hello/@v/v1.0.0.zip?x=%2e%2e'],
    ['a checksum lookup', '/sumdb/sum.golang.org/lookup/example.com/hello@v1.0.0?x=1'],
  ])('%s with a query is 400 with the reason, even with a wrong password', async (_n, path) => {
    stack.athens!.clear();
    for (const authorization of [undefined, `Basic ${Buffer.from('alice:wrong').toString('base64')}`]) {
      const res = await get(path, authorization === undefined ? {} : { authorization });
      expect(res.status).toBe(400);
      expectOneLine(
        res,
        'modgate: query strings are refused: GOPROXY requests have none, and nothing was forwarded',
      );
    }
    expect(stack.athens!.requests).toEqual([]);
  });

  it('endpoints that are not GOPROXY paths still take their queries', async () => {
    expect((await get('/healthz?probe=1', { anonymous: true })).status).toBe(200);
    expect((await get('/favicon.ico?v=2')).status).toBe(404);
  });
});

describe('only the configured checksum databases are served', () => {
  it.each([
    '/sumdb/evil.example/supported',
    '/sumdb/evil.example/lookup/example.com/hello@v1.0.0',
    '/sumdb/evil.example/tile/8/0/000',
    '/sumdb/sum.golang.org.evil.example/latest',
  ])('%s is 404 and no upstream is asked', async (path) => {
    stack.athens!.clear();
    const res = await get(path);
    expect(res.status).toBe(404);
    const name = path.split('/')[2];
    expectOneLine(res, `modgate: checksum database ${name} is not served here`);
    expect(stack.athens!.requests).toEqual([]);
  });

  it.each(SERVED_SUMDBS)('%s is served', async (name) => {
    stack.athens!.clear();
    expect((await get(`/sumdb/${name}/supported`)).status).toBe(200);
    expect((await get(`/sumdb/${name}/lookup/example.com/hello@v1.0.0`)).text).toBe('canned sumdb answer\n');
    expect(stack.athens!.requests.map((r) => r.url)).toEqual([
      `/sumdb/${name}/supported`,
      `/sumdb/${name}/lookup/example.com/hello@v1.0.0`,
    ]);
  });
});

describe('upstream failures', () => {
  it('an upstream that is down is 502 with the request id', async () => {
    const port = await freePort();
    const dir = join(stack.dir, 'down');
    const gw = await startTestGateway(dir, stack.pki, {
      directory: { file: { path: join(stack.dir, 'users.yaml') } },
      upstreams: {
        athens: {
          kind: 'athens',
          url: `http://127.0.0.1:${port}`,
          allow_insecure_http: true,
          username: UPSTREAM_USER,
          password: await secretFile(stack.dir, 'pw-down', UPSTREAM_PASSWORD),
        },
      },
      default_upstream: 'athens',
      policy: { path: stack.policyPath },
    });
    try {
      const res = await httpsGet(gw.url, '/example.com/hello/@v/list', { ca: stack.pki.caPem, basic });
      expect(res.status).toBe(502);
      expectOneLine(
        res,
        `modgate: upstream athens unreachable (ECONNREFUSED) (request ${res.headers['x-request-id']})`,
      );
    } finally {
      await gw.close();
    }
  });

  it('an upstream that never accepts the connection is 502 within connect_timeout', async () => {
    // A listener whose accept queue is full (Python: listen(0), never accept): SYNs go unanswered.
    const blackhole = spawn('python3', ['-c', BLACKHOLE_PY], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(blackhole.stdout, 'data')) as [Buffer];
      const gw = await startTestGateway(join(stack.dir, 'blackhole'), stack.pki, {
        directory: { file: { path: join(stack.dir, 'users.yaml') } },
        upstreams: {
          athens: {
            kind: 'athens',
            url: `http://127.0.0.1:${line.toString().trim()}`,
            allow_insecure_http: true,
            connect_timeout: '500ms',
            timeout: '10s',
          },
        },
        default_upstream: 'athens',
        policy: { path: stack.policyPath },
      });
      try {
        const started = Date.now();
        const res = await httpsGet(gw.url, '/example.com/hello/@v/v1.0.0.zip', {
          ca: stack.pki.caPem,
          basic,
        });
        expect(res.status).toBe(502);
        expectOneLine(
          res,
          `modgate: upstream athens did not accept a connection within 500 ms (request ${res.headers['x-request-id']})`,
        );
        expect(Date.now() - started).toBeLessThan(5_000);
      } finally {
        await gw.close(1_000);
      }
    } finally {
      blackhole.kill();
    }
  });

  it('an upstream that never answers is 504 within the configured timeout', async () => {
    stack.athens!.configure({ hang: true });
    try {
      const started = Date.now();
      const res = await get('/example.com/hello/@v/v1.0.0.info');
      const elapsed = Date.now() - started;
      expect(res.status).toBe(504);
      expectOneLine(
        res,
        `modgate: upstream athens did not answer within 1000 ms (request ${res.headers['x-request-id']})`,
      );
      expect(elapsed).toBeGreaterThanOrEqual(950);
      expect(elapsed).toBeLessThan(3000);
    } finally {
      stack.athens!.configure({ hang: false });
    }
    // The gateway recovers: the next request is served.
    expect((await get('/example.com/hello/@v/v1.0.0.info')).status).toBe(200);
  });

  it('Athens’ filter 403 (empty body) becomes a 403 with a reason', async () => {
    stack.athens!.configure({ exclude: ['example.com/hello'] });
    try {
      const res = await get('/example.com/hello/@v/v1.0.0.info');
      expect(res.status).toBe(403);
      expectOneLine(res, 'modgate: example.com/hello@v1.0.0: refused by upstream athens (403)');
    } finally {
      stack.athens!.configure({ exclude: [] });
    }
  });

  it('a same-host redirect is followed inside modgate: the client gets the zip, never the Location', async () => {
    const zip = stack.fixtures.modules[0]!.versions[0]!;
    stack.athens!.configure({ redirectZips: true });
    try {
      stack.athens!.clear();
      const res = await get(`/example.com/hello/@v/${zip.version}.zip`);
      expect(res.status).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.body.length).toBeGreaterThan(0);
      const [first, second] = stack.athens!.requests;
      expect(first?.url).toBe(`/example.com/hello/@v/${zip.version}.zip`);
      expect(second?.url).toMatch(/^\/_storage\//);
    } finally {
      stack.athens!.configure({ redirectZips: false });
    }
  });

  it('an upstream 404 passes through as 404 so go can fall back', async () => {
    const res = await get('/example.com/missing/@v/list');
    expect(res.status).toBe(404);
    expectOneLine(res, 'modgate: example.com/missing version list: not found (upstream athens answered 404)');
  });

  it('an upstream 500 becomes 502', async () => {
    stack.athens!.failNext(500);
    const res = await get('/example.com/hello/@v/list');
    expect(res.status).toBe(502);
    expectOneLine(res, /^modgate: upstream athens failed \(500\) \(request [0-9a-f]{32}\)$/);
  });
});
