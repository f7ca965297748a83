/**
 * The gateway's own refusals at the HTTP level, against real slapd
 * and the Athens emulator: the per-identity rate limit (429 with
 * Retry-After), the cap on concurrent upstream requests (503 busy with
 * Retry-After), and an unreachable directory (503, which the go command
 * prints). Each is text/plain with modgate's reason on the first line.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USERS } from '../harness/directory-fixture.ts';
import { runGo } from '../harness/go.ts';
import { httpsGet } from '../harness/https-client.ts';
import { type Stack, startStack } from './support/stack.ts';

const INFO = '/example.com/hello/@v/v1.0.0.info';
/** Requests one identity may make per window. */
const RATE_LIMIT = 10;
/** The whole per-upstream cap: one request at a time (every test here sends upstream requests one by one). */
const UPSTREAM_CONCURRENCY = 1;
/** How long a hanging upstream request takes to fail (ms), as gateway.yaml's upstream timeout. */
const UPSTREAM_TIMEOUT_MS = 3_000;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    directory: 'ldap',
    upstream: 'athens',
    upstreamTimeout: `${UPSTREAM_TIMEOUT_MS / 1000}s`,
    gatewayConfig: async (config) => ({
      ...config,
      abuse: {
        ...(config.abuse as Record<string, unknown>),
        rate_limit: { requests: RATE_LIMIT, window: '1m' },
        upstream_concurrency: { limit: UPSTREAM_CONCURRENCY },
      },
    }),
  });
});
afterAll(async () => {
  await stack?.close();
});

function get(user: { name: string; password: string }, path = INFO) {
  return httpsGet(stack.gateway.url, path, { ca: stack.pki.caPem, basic: [user.name, user.password] });
}

/** go prints a refusal body indented under "server response:"; fold the whitespace to compare. */
const folded = (text: string) => text.replace(/\s+/g, ' ');

describe('rate limit', () => {
  it('the request over the limit is 429 with Retry-After and the reason; other identities go on', async () => {
    for (let i = 0; i < RATE_LIMIT; i++) expect((await get(USERS.bob)).status).toBe(200);
    const limited = await get(USERS.bob);
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(limited.text).toMatch(
      new RegExp(
        `^modgate: rate limit exceeded for bob \\(${RATE_LIMIT} requests per 1m\\); try again in \\d+s\\n`,
      ),
    );
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.text).toContain(`try again in ${retryAfter}s`);
    expect((await get(USERS.alice)).status).toBe(200);
  });
});

describe('upstream concurrency cap', () => {
  it(
    'while the one slot is taken by a hanging upstream request, the next is 503 busy with Retry-After',
    async () => {
      stack.athens!.configure({ hang: true });
      const before = stack.athens!.requests.length;
      const hanging = get(USERS.alice);
      try {
        const deadline = Date.now() + 5_000;
        while (stack.athens!.requests.length === before) {
          if (Date.now() > deadline) throw new Error('the first request never reached Athens');
          await delay(10);
        }
        const busy = await get(USERS.zoe);
        expect(busy.status).toBe(503);
        expect(busy.headers['content-type']).toBe('text/plain; charset=utf-8');
        expect(busy.headers['retry-after']).toBe('1');
        expect(busy.text.split('\n')[0]).toMatch(
          new RegExp(
            `^modgate: upstream athens is at its concurrency limit \\(${UPSTREAM_CONCURRENCY}\\); try again in 1s`,
          ),
        );
        // The refused request never reached the upstream.
        expect(stack.athens!.requests.length).toBe(before + 1);
      } finally {
        stack.athens!.configure({ hang: false });
      }
      expect((await hanging).status).toBe(504);
      // The slot is free again.
      expect((await get(USERS.zoe)).status).toBe(200);
    },
    UPSTREAM_TIMEOUT_MS + 20_000,
  );
});

describe('directory unreachable', () => {
  it('slapd stopped: 503 with the reason, which the go command prints; back once slapd is', async () => {
    const slapd = stack.slapd!;
    await slapd.stop();
    try {
      // erin has not logged in yet: nothing cached, the directory must be asked.
      const res = await get(USERS.erin);
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text.split('\n')[0]).toMatch(/^modgate: the user directory is unavailable/);

      const env = await stack.goEnv('ldap-down', { login: USERS.dave.name, password: USERS.dave.password });
      const result = await runGo(['mod', 'download', 'example.com/hello@v1.0.0'], {
        env: env.env,
        cwd: stack.dir,
      });
      expect(result.code).not.toBe(0);
      expect(folded(result.stderr)).toContain(
        '503 Service Unavailable server response: modgate: the user directory is unavailable',
      );
    } finally {
      await slapd.restart();
    }
    // A directory outage is not a wrong password: nothing was remembered as rejected.
    const deadline = Date.now() + 15_000;
    let res = await get(USERS.erin);
    while (res.status === 503 && Date.now() < deadline) {
      await delay(100);
      res = await get(USERS.erin);
    }
    expect(res.status).toBe(200);
  }, 40_000);
});
