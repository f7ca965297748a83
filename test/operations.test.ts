/**
 * Operations: liveness and readiness, Prometheus metrics, graceful shutdown
 * with a zip stream in flight.
 */
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeLargeZip } from '../gateway/protocol/goproxy-folder.ts';
import { USERS } from '../harness/directory-fixture.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

const basic: [string, string] = [USERS.alice.name, USERS.alice.password];
/** A zip large enough to be in flight while the gateway shuts down (bytes). */
const BIG_ZIP_BYTES = 64 * 1024 * 1024;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    gatewayConfig: async (config) => ({ ...config, metrics: { port: 0 }, shutdown_timeout: '20s' }),
  });
  await writeLargeZip(stack.fixtures.root, 'example.com/big', 'v1.0.0', BIG_ZIP_BYTES);
});
afterAll(async () => {
  await stack?.close();
});

const get = (path: string, auth = true) =>
  httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, ...(auth ? { basic } : {}) });

describe('health and readiness', () => {
  it('/healthz answers without credentials', async () => {
    const res = await get('/healthz', false);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ status: 'ok' });
  });

  it('/readyz reports each component and is ready when LDAP answers', async () => {
    const res = await get('/readyz', false);
    expect(res.status).toBe(200);
    const report = JSON.parse(res.text) as { ready: boolean; components: { name: string; ok: boolean }[] };
    expect(report.ready).toBe(true);
    expect(report.components).toContainEqual(expect.objectContaining({ name: 'ldap', ok: true }));
  });
});

describe('metrics', () => {
  it('counts requests by kind and outcome, auth results, directory calls and breaker state', async () => {
    expect((await get('/example.com/hello/@v/v1.0.0.info')).status).toBe(200);
    expect((await get('/example.com/hello/@v/v1.0.0.info', false)).status).toBe(401);
    const res = await fetch(stack.gateway.metricsUrl!);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /modgate_requests_total\{kind="info",outcome="success",upstream="athens",status="200"\} [1-9]/,
    );
    expect(text).toMatch(
      /modgate_requests_total\{kind="info",outcome="failure",upstream="",status="401"\} [1-9]/,
    );
    expect(text).toMatch(/modgate_auth_total\{method="none",result="missing"\} [1-9]/);
    expect(text).toMatch(
      /modgate_directory_call_duration_seconds_count\{directory="ldap",operation="verify",result="ok"\} [1-9]/,
    );
    expect(text).toMatch(/modgate_request_duration_seconds_bucket\{le="0.1",kind="info"\} [1-9]/);
    expect(text).toContain('modgate_ready 1');
    // In-process state is not timed (map lookups); Redis calls are (shared-state tests).
    expect(text).not.toContain('modgate_state_call_duration_seconds_count{');
    expect(text).not.toContain(USERS.alice.password);
  });
});

describe('graceful shutdown', () => {
  it('an in-flight zip stream finishes, new connections are refused, the audit record is written', async () => {
    const url = new URL(stack.gateway.url);
    const auditBefore = (await stack.gateway.auditRecords()).length;
    let received = 0;
    const download = new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: '/example.com/big/@v/v1.0.0.zip',
          ca: stack.pki.caPem,
          headers: { authorization: `Basic ${Buffer.from(basic.join(':')).toString('base64')}` },
          agent: false,
        },
        (res) => {
          // Read slowly at first, so the stream is surely in flight when shutdown starts.
          res.pause();
          setTimeout(() => res.resume(), 300);
          res.on('data', (c: Buffer) => {
            received += c.length;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes: received }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    const closing = stack.gateway.close();
    await new Promise((r) => setTimeout(r, 50));
    await expect(get('/healthz', false)).rejects.toThrow(/ECONNREFUSED/);
    const result = await download;
    await closing;
    expect(result.status).toBe(200);
    expect(result.bytes).toBeGreaterThan(BIG_ZIP_BYTES - 8192);
    const records = (await stack.gateway.auditRecords()).slice(auditBefore);
    expect(records).toContainEqual(
      expect.objectContaining({
        url: { path: '/example.com/big/@v/v1.0.0.zip' },
        http: expect.objectContaining({ response: { status_code: 200, body: { bytes: result.bytes } } }),
      }),
    );
  });
});
